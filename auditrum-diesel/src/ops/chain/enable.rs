//! `enable-hash-chain`.

use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};

use super::canonical;
use super::ChainNames;
use crate::sql::{quote, template};
use crate::{AuditConfig, Error};

const ENABLE: &str = include_str!("enable.sql");

/// The SQL that enables the hash chain on the audit log (safe to run twice).
pub fn enable_sql(config: &AuditConfig) -> String {
    let names = ChainNames::new(config);
    let setting = |what: &str| quote::literal(&config.private_setting(what));
    let ident = |suffix: &str| quote::ident(&format!("{}{suffix}", config.table()));
    template::render(
        ENABLE,
        &[
            ("chain_table", names.chain_table()),
            ("state_table", names.state_table()),
            ("audit_table", config.qualified_table()),
            ("context_table", config.qualified_context_table()),
            ("mark_function", config.object("_chain_mark")),
            ("seal_function", config.object("_chain_seal")),
            ("mark_trigger", ident("_chain_mark")),
            ("seal_trigger", ident("_chain_seal")),
            ("marked_setting", setting("chain_marked")),
            ("sealed_setting", setting("chain_sealed")),
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
