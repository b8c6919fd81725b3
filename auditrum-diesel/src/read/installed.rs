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
    if let Some(spec) = registered_spec(conn, config, wanted.schema(), wanted.table())? {
        return Ok(spec);
    }
    Ok(introspect::complete(conn, TrackSpec::builder(table), true)?)
}

/// The spec the log's registry holds for `schema.table`, if any (and if it still reads).
pub(crate) fn registered_spec(
    conn: &mut PgConnection,
    config: &AuditConfig,
    schema: &str,
    table: &str,
) -> QueryResult<Option<TrackSpec>> {
    let sql = format!(
        "SELECT spec::text AS spec FROM {} WHERE table_schema = $1 AND table_name = $2",
        config.qualified_registry_table()
    );
    let installed: Option<Installed> = diesel::sql_query(sql)
        .bind::<Text, _>(schema)
        .bind::<Text, _>(table)
        .get_result(conn)
        .optional()?;
    Ok(installed.and_then(|row| serde_json::from_str(&row.spec).ok()))
}
