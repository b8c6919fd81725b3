//! The events of one record, oldest first, with their transaction's context, from a log of
//! any name (the Diesel [query helpers](super::filter) read the default log; [`EventSearch`](super::EventSearch) any).

use std::fmt;

use diesel::prelude::*;
use diesel::sql_types::Text;
use serde_json::Value;

use super::archived::merge;
use super::key::normalize_key;
use super::protected::display;
use super::{ArchivedEvents, EventWithContext, ReadError};
use crate::{AuditConfig, Error};

/// The events of the record `key` of `schema.table`, oldest first, including the event that
/// moved it to another key, and the table's schema changes (`DDL` events of the DDL guard
/// `harden` installs). A composite key is given as a JSON array: `[1, "a"]`.
pub fn record_history(
    conn: &mut PgConnection,
    config: &AuditConfig,
    schema: &str,
    table: &str,
    key: &str,
) -> Result<Vec<EventWithContext>, Error> {
    let key = normalize_key(conn, key)?;
    live_history(conn, config, schema, table, &key)
}

/// [`record_history`], with the record's events from `archived` (an archive written by
/// `archive`) merged in, in id order.
pub fn record_history_with(
    conn: &mut PgConnection,
    config: &AuditConfig,
    schema: &str,
    table: &str,
    key: &str,
    archived: &dyn ArchivedEvents,
) -> Result<Vec<EventWithContext>, ReadError> {
    let key = normalize_key(conn, key)?;
    let live = live_history(conn, config, schema, table, &key)?;
    Ok(merge(live, archived.record(schema, table, &key)?))
}

/// The live log's events of the record with the stored key `key`.
fn live_history(
    conn: &mut PgConnection,
    config: &AuditConfig,
    schema: &str,
    table: &str,
    key: &str,
) -> Result<Vec<EventWithContext>, Error> {
    let query = format!(
        "SELECT {EVENT}, {CONTEXT} AS context \
         FROM {events} e LEFT JOIN {contexts} c ON c.id = e.context_id \
         WHERE e.table_name = $1 AND e.table_schema = $2 \
           AND (e.record_id = $3 OR e.old_record_id = $3 OR e.operation::text = 'DDL') \
         ORDER BY e.id",
        EVENT = super::load::EVENT,
        CONTEXT = super::EVENT_CONTEXT,
        events = config.qualified_table(),
        contexts = config.qualified_context_table(),
    );
    Ok(diesel::sql_query(query)
        .bind::<Text, _>(table)
        .bind::<Text, _>(schema)
        .bind::<Text, _>(key)
        .load(conn)?)
}

/// For people: a header line (id, time, operation, record, who, why) and one line per
/// changed field (`field: old → new`), or per stored field for an INSERT or DELETE.
impl fmt::Display for EventWithContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let event = &self.event;
        write!(
            f,
            "#{} {} {:<8} {}.{} {}",
            event.id,
            event.changed_at.format("%Y-%m-%d %H:%M:%S%.3fZ"),
            event.operation.as_str(),
            event.table_schema,
            event.table_name,
            event.record_id.as_deref().unwrap_or("-"),
        )?;
        if let Some(old) = &event.old_record_id {
            write!(f, " (was {old})")?;
        }
        if let Some(context) = self.context.as_ref().map(|c| c.to_json()) {
            for (label, key) in [
                ("by", "user_id"),
                ("via", "source"),
                ("reason", "change_reason"),
                ("request", "request_id"),
            ] {
                if let Some(value) = context.get(key) {
                    write!(f, "  {label}: {}", plain(value))?;
                }
            }
        }
        writeln!(f)?;
        let fields = event
            .diff
            .as_ref()
            .or(event.new_data.as_ref())
            .or(event.old_data.as_ref());
        if let Some(Value::Object(fields)) = fields {
            for (field, value) in fields {
                // Masked, hashed and redacted values show as such, not as marker JSON.
                match (event.diff.is_some(), value.get("old"), value.get("new")) {
                    (true, Some(old), Some(new)) => {
                        writeln!(f, "    {field}: {} → {}", display(old), display(new))?
                    }
                    _ => writeln!(f, "    {field}: {}", display(value))?,
                }
            }
        }
        Ok(())
    }
}

/// A JSON value as a person reads it: strings without quotes.
fn plain(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
