//! [`AuditEvent`]: one row of the audit table, typed.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::Value;

use super::EventContext;
use crate::schema::{auditlog, auditlog_context};
use crate::Operation;

diesel::define_sql_function! {
    #[doc(hidden)]
    /// `COALESCE(a, b)` of two nullable `jsonb` values: an event's context.
    fn coalesce(a: diesel::sql_types::Nullable<diesel::sql_types::Jsonb>, b: diesel::sql_types::Nullable<diesel::sql_types::Jsonb>) -> diesel::sql_types::Nullable<diesel::sql_types::Jsonb>;
}

/// One event of the default audit log (`public.auditlog`), as Diesel loads it.
///
/// `Queryable + Selectable` on [`schema::auditlog`](crate::schema::auditlog), so it fits
/// any Diesel query of the log; the [query helpers](super::filter) build the usual ones.
/// Also `QueryableByName`, for `sql_query` over a log of another name (`SELECT e.* …`).
///
/// ```no_run
/// use auditrum_diesel::read::AuditEvent;
/// use auditrum_diesel::schema::auditlog;
/// use diesel::prelude::*;
///
/// # fn main() -> QueryResult<()> {
/// # let mut conn = PgConnection::establish("postgres://localhost/app").unwrap();
/// let events: Vec<AuditEvent> = auditlog::table
///     .filter(auditlog::txid.eq(1234))
///     .select(AuditEvent::as_select())
///     .load(&mut conn)?;
/// for event in &events {
///     if let Some((old, new)) = event.changed("email") {
///         println!("{} changed email from {old} to {new}", event.id);
///     }
/// }
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Queryable, QueryableByName, Selectable, Serialize)]
#[diesel(table_name = auditlog, check_for_backend(diesel::pg::Pg))]
pub struct AuditEvent {
    /// Event id: grows in the order events were written.
    pub id: i64,
    /// Start time of the writing transaction.
    pub changed_at: DateTime<Utc>,
    /// What the statement did.
    pub operation: Operation,
    /// Schema of the audited table.
    pub table_schema: String,
    /// Name of the audited table.
    pub table_name: String,
    /// The record's key (after an UPDATE that changed it); a composite key is a JSON
    /// array. `None` for TRUNCATE.
    pub record_id: Option<String>,
    /// The key before an UPDATE that changed it.
    pub old_record_id: Option<String>,
    /// UPDATE: `{"column": {"old": …, "new": …}}` for each tracked column that changed.
    pub diff: Option<Value>,
    /// DELETE (and UPDATE in full storage): the tracked columns before.
    pub old_data: Option<Value>,
    /// INSERT (and UPDATE in full storage): the tracked columns after.
    pub new_data: Option<Value>,
    /// The spec's meta columns.
    pub meta: Option<Value>,
    /// Id of the writing transaction.
    pub txid: i64,
    /// The transaction's context row, if it set one and the event does not carry it (see
    /// [`EventWithContext`] for the context itself).
    pub context_id: Option<i64>,
}

impl AuditEvent {
    /// The old and new value of `column` when this UPDATE changed it.
    ///
    /// `None` when the column did not change, and for INSERT, DELETE and TRUNCATE (see
    /// [`value_after`](Self::value_after) and [`value_before`](Self::value_before)).
    pub fn changed(&self, column: &str) -> Option<(&Value, &Value)> {
        let change = self.diff.as_ref()?.get(column)?;
        Some((change.get("old")?, change.get("new")?))
    }

    /// [`changed`](Self::changed), deserialized into `T`:
    /// `event.changed_as::<String>("email")?`.
    pub fn changed_as<T: DeserializeOwned>(
        &self,
        column: &str,
    ) -> Result<Option<(T, T)>, serde_json::Error> {
        self.changed(column)
            .map(|(old, new)| Ok((T::deserialize(old)?, T::deserialize(new)?)))
            .transpose()
    }

    /// Every column this UPDATE changed, with its old and new value, in column-name order.
    pub fn changes(&self) -> Vec<(&str, &Value, &Value)> {
        let mut changes: Vec<_> = self
            .diff
            .as_ref()
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .filter_map(|(column, change)| {
                Some((column.as_str(), change.get("old")?, change.get("new")?))
            })
            .collect();
        changes.sort_by_key(|(column, _, _)| *column);
        changes
    }

    /// The value `column` has after this event, when the event says: the inserted value,
    /// the new value of a change, or the stored row of a full-storage UPDATE. `None` when
    /// the event does not know it (the column did not change, is not tracked, or the
    /// event is a DELETE).
    pub fn value_after(&self, column: &str) -> Option<&Value> {
        match self.operation {
            Operation::Insert => self.new_data.as_ref()?.get(column),
            Operation::Update => self
                .changed(column)
                .map(|(_, new)| new)
                .or_else(|| self.new_data.as_ref()?.get(column)),
            Operation::Delete
            | Operation::Truncate
            | Operation::Ddl
            | Operation::Purge
            | Operation::Redact => None,
        }
    }

    /// The value `column` had before this event, when the event says: the old value of a
    /// change, the deleted row's value, or the stored row of a full-storage UPDATE.
    pub fn value_before(&self, column: &str) -> Option<&Value> {
        match self.operation {
            Operation::Update => self
                .changed(column)
                .map(|(old, _)| old)
                .or_else(|| self.old_data.as_ref()?.get(column)),
            Operation::Delete => self.old_data.as_ref()?.get(column),
            Operation::Insert
            | Operation::Truncate
            | Operation::Ddl
            | Operation::Purge
            | Operation::Redact => None,
        }
    }

    /// Whether this event moved the record to another key.
    pub fn changed_key(&self) -> bool {
        self.old_record_id.is_some()
    }
}

/// An event with its transaction's context: `Queryable + Selectable` on
/// `auditlog LEFT JOIN auditlog_context`. The context is the event's own (`context`, for a
/// statement of one row) or its context row's: `COALESCE(auditlog.context,
/// auditlog_context.context)`.
///
/// ```no_run
/// use auditrum_diesel::read::EventWithContext;
/// use auditrum_diesel::schema::{auditlog, auditlog_context};
/// use diesel::prelude::*;
///
/// # fn main() -> QueryResult<()> {
/// # let mut conn = PgConnection::establish("postgres://localhost/app").unwrap();
/// let recent: Vec<EventWithContext> = auditlog::table
///     .left_join(auditlog_context::table)
///     .select(EventWithContext::as_select())
///     .order(auditlog::id.desc())
///     .limit(10)
///     .load(&mut conn)?;
/// for e in &recent {
///     let who = e.context.as_ref().and_then(|c| c.who()).unwrap_or("-");
///     println!("#{} {:?} by {who}", e.event.id, e.event.operation);
/// }
/// # Ok(())
/// # }
/// ```
///
/// Also `QueryableByName` (`SELECT e.…, COALESCE(e.context, c.context) AS context …`),
/// for a log of another name; see
/// [`record_history`](super::record_history).
#[derive(Debug, Clone, PartialEq, Queryable, QueryableByName, Selectable, Serialize)]
#[diesel(check_for_backend(diesel::pg::Pg))]
pub struct EventWithContext {
    /// The event.
    #[diesel(embed)]
    #[serde(flatten)]
    pub event: AuditEvent,
    /// Its transaction's context, if it set one.
    #[diesel(select_expression = coalesce(auditlog::context, auditlog_context::context.nullable()))]
    #[diesel(select_expression_type = coalesce<auditlog::context, diesel::dsl::Nullable<auditlog_context::context>>)]
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Jsonb>)]
    pub context: Option<EventContext>,
}
