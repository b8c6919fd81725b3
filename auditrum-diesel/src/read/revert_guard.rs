//! What `revert` may write: only audited tables (a spec in the registry), and only their
//! tracked and key columns. A revert writes what the log says; without these checks an
//! event of a table no longer audited, or of columns no longer tracked, would be written
//! back unaudited-by-design into places the operator took out of the audit.

use diesel::prelude::*;
use diesel::sql_types::Text;
use serde_json::Value;

use super::{AuditEvent, ReadError};
use crate::{AuditConfig, TableName, TrackSpec};

#[derive(QueryableByName)]
struct Installed {
    #[diesel(sql_type = Text)]
    spec: String,
}

/// The installed spec of `table` (`schema.table`), or a refusal when it is not audited.
pub(super) fn audited_spec(
    conn: &mut PgConnection,
    config: &AuditConfig,
    table: &str,
) -> Result<TrackSpec, ReadError> {
    let wanted = TableName::parse(table)?;
    let installed: Option<Installed> = diesel::sql_query(format!(
        "SELECT spec::text AS spec FROM {} WHERE table_schema = $1 AND table_name = $2",
        config.qualified_registry_table()
    ))
    .bind::<Text, _>(wanted.schema())
    .bind::<Text, _>(wanted.table())
    .get_result(conn)
    .optional()?;
    installed
        .and_then(|row| serde_json::from_str(&row.spec).ok())
        .ok_or_else(|| {
            ReadError::CannotRevert(format!(
                "{table} is not audited (no installed spec): revert writes only to audited tables; `track` it first"
            ))
        })
}

/// Refuses an event that names a column the spec neither tracks nor uses as key.
pub(super) fn check_columns(event: &AuditEvent, spec: &TrackSpec) -> Result<(), ReadError> {
    let tracked = spec.tracked_columns();
    let allowed = |column: &str| {
        spec.key().iter().any(|k| k == column) || tracked.iter().any(|c| c.name == column)
    };
    let named = [&event.diff, &event.old_data, &event.new_data]
        .into_iter()
        .filter_map(|v| v.as_ref().and_then(Value::as_object))
        .flat_map(|object| object.keys());
    for column in named {
        if !allowed(column) {
            return Err(ReadError::CannotRevert(format!(
                "event #{} writes column {column} of {}.{}, which is not tracked now: revert writes only tracked columns",
                event.id, event.table_schema, event.table_name
            )));
        }
    }
    check_values_known(event)
}

/// Refuses an event holding a masked, hashed or redacted value: the value to write back is
/// not in the log, and writing the marker would put it into the table.
fn check_values_known(event: &AuditEvent) -> Result<(), ReadError> {
    let diff_sides = event
        .diff
        .iter()
        .filter_map(Value::as_object)
        .flatten()
        .flat_map(|(column, change)| {
            ["old", "new"]
                .into_iter()
                .filter_map(move |side| Some((column, change.get(side)?)))
        });
    let data = [&event.old_data, &event.new_data]
        .into_iter()
        .filter_map(|v| v.as_ref().and_then(Value::as_object))
        .flatten();
    for (column, value) in diff_sides.chain(data) {
        if let Some(marker) = super::protected::protected(value) {
            return Err(ReadError::CannotRevert(format!(
                "event #{} holds column {column} of {}.{} only as {}: the value to write back is not in the log",
                event.id,
                event.table_schema,
                event.table_name,
                marker.label()
            )));
        }
    }
    Ok(())
}
