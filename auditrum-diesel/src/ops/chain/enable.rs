//! `enable-hash-chain`.

use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};

use super::canonical;
use super::ChainNames;
use crate::quote;
use crate::sql::template;
use crate::{AuditConfig, Error};

const ENABLE: &str = include_str!("enable.sql");

/// The SQL that enables the hash chain on the audit log (safe to run twice).
pub fn enable_sql(config: &AuditConfig) -> String {
    let names = ChainNames::new(config);
    template::render(
        ENABLE,
        &[
            ("chain_table", names.chain_table()),
            ("state_table", names.state_table()),
            ("state_table_literal", quote::literal(&names.state_table())),
            (
                "operation_type",
                format!("{}.auditrum_operation", quote::ident(config.schema())),
            ),
            (
                "operation_type_literal",
                quote::literal(&format!(
                    "{}.auditrum_operation",
                    quote::ident(config.schema())
                )),
            ),
            ("audit_table", config.qualified_table()),
            ("context_table", config.qualified_context_table()),
            ("seal_function", names.seal_function()),
            ("events_hash", canonical::events_hash_sql()),
            ("link_hash", canonical::seal_link_hash_sql()),
        ],
    )
}

/// Enables the hash chain in one transaction. Waits for in-flight writers of the audit
/// table; events written before are reported as unchained by `verify`, not as broken.
pub fn enable(conn: &mut PgConnection, config: &AuditConfig) -> Result<(), Error> {
    let sql = enable_sql(config);
    conn.transaction(|conn| conn.batch_execute(&sql))?;
    Ok(())
}

/// Seals every transaction committed since the last call: one link each, in
/// transaction-id order. Returns how many links it made. Run it often (cron, a timer in
/// the app): events are tamper-evident from their sealing on. `verify` and `tip` seal first.
#[tracing::instrument(name = "auditrum.chain.seal", skip_all, fields(audit_table = %config.qualified_table()), err)]
pub fn seal(conn: &mut PgConnection, config: &AuditConfig) -> Result<i32, Error> {
    #[derive(diesel::QueryableByName)]
    struct Sealed {
        #[diesel(sql_type = diesel::sql_types::Integer)]
        sealed: i32,
    }
    let names = ChainNames::new(config);
    super::verify::require_enabled(conn, &names)?;
    let query = format!("SELECT {}() AS sealed", names.seal_function());
    let sealed: Sealed =
        conn.transaction(|conn| diesel::RunQueryDsl::get_result(diesel::sql_query(query), conn))?;
    Ok(sealed.sealed)
}
