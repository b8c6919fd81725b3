//! The spec a table was tracked with, read back from the database.

use diesel::prelude::*;
use diesel::sql_types::Text;

use super::ReadError;
use crate::{introspect, AuditConfig, TableName, TrackSpec};

#[derive(QueryableByName)]
struct Installed {
    #[diesel(sql_type = Text)]
    spec: String,
}

/// The spec installed for `table` (`table` or `schema.table`), from the log's registry of
/// installed specs; for a table not (or no longer) tracked, one read from the table
/// itself: its primary key and every column.
pub fn installed_spec(
    conn: &mut PgConnection,
    config: &AuditConfig,
    table: &str,
) -> Result<TrackSpec, ReadError> {
    let wanted = TableName::parse(table)?;
    let sql = format!(
        "SELECT spec::text AS spec FROM {} WHERE table_schema = $1 AND table_name = $2",
        config.qualified_registry_table()
    );
    let installed: Option<Installed> = diesel::sql_query(sql)
        .bind::<Text, _>(wanted.schema())
        .bind::<Text, _>(wanted.table())
        .get_result(conn)
        .optional()?;
    if let Some(spec) = installed.and_then(|row| serde_json::from_str(&row.spec).ok()) {
        return Ok(spec);
    }
    Ok(introspect::complete(conn, TrackSpec::builder(table), true)?)
}
