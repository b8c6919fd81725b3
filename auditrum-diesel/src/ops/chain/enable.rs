//! `enable-hash-chain`.

use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};

use super::ChainNames;
use super::{canonical, leaves};
use crate::quote;
use crate::sql::template;
use crate::{AuditConfig, Error};

const ENABLE: &str = include_str!("enable.sql");
const SEAL: &str = include_str!("seal.sql");
const SEAL_V1: &str = include_str!("seal_v1.sql");

/// The SQL that enables the hash chain on the audit log (safe to run twice).
pub fn enable_sql(config: &AuditConfig) -> String {
    let vars = vars(config);
    template::render(ENABLE, &vars) + &template::render(SEAL, &vars)
}

/// SQL that re-creates the seal function when the chain is enabled (and does nothing
/// otherwise): an upgrade of the core schema runs it, since the seal function hashes the
/// events with the canonical payload's SQL, which follows the core schema (version 3
/// added the context an event carries itself).
pub(crate) fn refresh_seal_sql(config: &AuditConfig) -> String {
    let names = ChainNames::new(config);
    let seal = |sql| quote::literal(&template::render(sql, &vars(config)));
    format!(
        "-- The hash chain's seal function, when the chain is enabled: payload version 2 once\n\
         -- its tables have it, version 1 before (until `enable-hash-chain` is run again).\n\
         DO $auditrum_upgrade$\nBEGIN\n    IF to_regclass({state}) IS NOT NULL THEN\n        \
         IF EXISTS (SELECT FROM pg_attribute WHERE attrelid = {chain}::regclass AND attname = 'payload_version' AND NOT attisdropped) THEN\n            \
         EXECUTE {v2};\n        ELSE\n            EXECUTE {v1};\n        END IF;\n    END IF;\nEND\n$auditrum_upgrade$;\n",
        state = quote::literal(&names.state_table()),
        chain = quote::literal(&names.chain_table()),
        v2 = seal(SEAL),
        v1 = seal(SEAL_V1),
    )
}

fn vars(config: &AuditConfig) -> Vec<(&'static str, String)> {
    let names = ChainNames::new(config);
    vec![
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
        ("seed_table", names.seed_table()),
        ("redaction_table", names.redaction_table()),
        (
            "events_hash",
            canonical::events_hash_of(&leaves::event_payload_sql("todo.seed", None)),
        ),
        ("events_hash_v1", canonical::events_hash_sql()),
        ("link_hash", canonical::seal_link_hash_sql()),
    ]
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
/// Refused on an audit replica, whose chain the primary seals (docs/scaling.md).
#[tracing::instrument(name = "auditrum.chain.seal", skip_all, fields(audit_table = %config.qualified_table()), err)]
pub fn seal(conn: &mut PgConnection, config: &AuditConfig) -> Result<i32, Error> {
    #[derive(diesel::QueryableByName)]
    struct Sealed {
        #[diesel(sql_type = diesel::sql_types::Integer)]
        sealed: i32,
    }
    let names = ChainNames::new(config);
    super::verify::require_enabled(conn, &names)?;
    super::replica::refuse_sealing(conn, &names)?;
    let query = format!("SELECT {}() AS sealed", names.seal_function());
    let sealed: Sealed =
        conn.transaction(|conn| diesel::RunQueryDsl::get_result(diesel::sql_query(query), conn))?;
    Ok(sealed.sealed)
}
