//! Applying the generated SQL to a connection, for apps and tools that do not go through
//! Diesel migrations.

use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};

use crate::{sql, AuditConfig, Error, TableName, TrackSpec};

/// Creates (or completes) the core schema: audit table, partitions, context storage,
/// registry. Safe to run twice.
pub fn install_core_schema(conn: &mut PgConnection, config: &AuditConfig) -> Result<(), Error> {
    let sql = sql::core_schema_sql(config);
    conn.transaction(|conn| conn.batch_execute(&sql))?;
    Ok(())
}

/// Installs or replaces the capture triggers of `spec`, in one transaction.
pub fn install(
    conn: &mut PgConnection,
    spec: &TrackSpec,
    config: &AuditConfig,
) -> Result<(), Error> {
    let sql = sql::install_sql(spec, config)?;
    conn.transaction(|conn| conn.batch_execute(&sql))?;
    Ok(())
}

/// Removes the capture triggers of `table`, in one transaction.
pub fn uninstall(
    conn: &mut PgConnection,
    table: &TableName,
    config: &AuditConfig,
) -> Result<(), Error> {
    let sql = sql::uninstall_sql(table, config)?;
    conn.transaction(|conn| conn.batch_execute(&sql))?;
    Ok(())
}
