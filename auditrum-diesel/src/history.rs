//! The events of one record, oldest first, with their transaction's context.

use std::fmt;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Jsonb, Nullable, Text, Timestamptz};
use serde::Serialize;
use serde_json::Value;

use crate::{AuditConfig, Error, Operation};

/// One event as the history shows it.
#[derive(Debug, Clone, PartialEq, QueryableByName, Serialize)]
pub struct HistoryEvent {
    /// Event id (grows with time).
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    /// When the transaction that wrote it started.
    #[diesel(sql_type = Timestamptz)]
    pub changed_at: DateTime<Utc>,
    /// `INSERT`, `UPDATE`, `DELETE` or `TRUNCATE`.
    #[diesel(sql_type = crate::schema::sql_types::AuditrumOperation)]
    pub operation: Operation,
    /// Schema of the audited table.
    #[diesel(sql_type = Text)]
    pub schema: String,
    /// Name of the audited table.
    #[diesel(sql_type = Text)]
    pub table: String,
    /// Key of the record (a JSON array for a composite key).
    #[diesel(sql_type = Nullable<Text>)]
    pub record_id: Option<String>,
    /// The key before this event changed it.
    #[diesel(sql_type = Nullable<Text>)]
    pub old_record_id: Option<String>,
    /// `{"column": {"old": …, "new": …}}` for an UPDATE.
    #[diesel(sql_type = Nullable<Jsonb>)]
    pub diff: Option<Value>,
    /// The row before a DELETE (or UPDATE, in full storage mode).
    #[diesel(sql_type = Nullable<Jsonb>)]
    pub old_data: Option<Value>,
    /// The row after an INSERT (or UPDATE, in full storage mode).
    #[diesel(sql_type = Nullable<Jsonb>)]
    pub new_data: Option<Value>,
    /// The spec's meta columns.
    #[diesel(sql_type = Nullable<Jsonb>)]
    pub meta: Option<Value>,
    /// The writing transaction's id.
    #[diesel(sql_type = BigInt)]
    pub txid: i64,
    /// The context the transaction set (who, why, from where), or `None`.
    #[diesel(sql_type = Nullable<Jsonb>)]
    pub context: Option<Value>,
}

/// The events of the record `key` of `schema.table`, oldest first, including the event that
/// moved it to another key. A composite key is given as a JSON array: `[1, "a"]`.
pub fn record_history(
    conn: &mut PgConnection,
    config: &AuditConfig,
    schema: &str,
    table: &str,
    key: &str,
) -> Result<Vec<HistoryEvent>, Error> {
    let key = normalize_key(conn, key)?;
    let query = format!(
        "SELECT e.id, e.changed_at, e.operation, e.table_schema AS schema, \
                e.table_name AS table, e.record_id, e.old_record_id, e.diff, e.old_data, \
                e.new_data, e.meta, e.txid, c.context \
         FROM {events} e LEFT JOIN {contexts} c ON c.id = e.context_id \
         WHERE e.table_name = $1 AND e.table_schema = $2 \
           AND (e.record_id = $3 OR e.old_record_id = $3) \
         ORDER BY e.id",
        events = config.qualified_table(),
        contexts = config.qualified_context_table(),
    );
    Ok(diesel::sql_query(query)
        .bind::<Text, _>(table)
        .bind::<Text, _>(schema)
        .bind::<Text, _>(key)
        .load(conn)?)
}

/// Composite keys are stored in jsonb's text form (`[1, "a"]`); accept any spelling.
pub(crate) fn normalize_key(conn: &mut PgConnection, key: &str) -> Result<String, Error> {
    if !key.trim_start().starts_with('[') {
        return Ok(key.to_owned());
    }
    #[derive(QueryableByName)]
    struct Normalized {
        #[diesel(sql_type = Text)]
        key: String,
    }
    let row: Normalized = diesel::sql_query("SELECT $1::jsonb::text AS key")
        .bind::<Text, _>(key)
        .get_result(conn)?;
    Ok(row.key)
}

/// For people: a header line (id, time, operation, record, who, why) and one line per
/// changed field (`field: old → new`), or per stored field for an INSERT or DELETE.
impl fmt::Display for HistoryEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "#{} {} {:<8} {}.{} {}",
            self.id,
            self.changed_at.format("%Y-%m-%d %H:%M:%S%.3fZ"),
            self.operation.as_str(),
            self.schema,
            self.table,
            self.record_id.as_deref().unwrap_or("-"),
        )?;
        if let Some(old) = &self.old_record_id {
            write!(f, " (was {old})")?;
        }
        if let Some(context) = &self.context {
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
        let fields = self
            .diff
            .as_ref()
            .or(self.new_data.as_ref())
            .or(self.old_data.as_ref());
        if let Some(Value::Object(fields)) = fields {
            for (field, value) in fields {
                match (self.diff.is_some(), value.get("old"), value.get("new")) {
                    (true, Some(old), Some(new)) => writeln!(f, "    {field}: {old} → {new}")?,
                    _ => writeln!(f, "    {field}: {value}")?,
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
