//! Pieces the pages share: values, times, operations, contexts, diffs, event tables.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use maud::{html, Markup};
use serde_json::Value;

use super::base::{table_name, Base};
use super::error::ViewError;
use crate::read::{AuditEvent, EventContext};
use crate::{AuditConfig, Operation};

/// A JSON value as text: JSON, so that `"null"` and `null` differ; a masked, hashed or
/// redacted value as such (`‹masked›`), not as its marker.
pub(crate) fn value(v: &Value) -> String {
    crate::read::protected::display(v)
}

/// An instant, in UTC to the millisecond.
pub(crate) fn time(at: &DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M:%S%.3f UTC").to_string()
}

pub(crate) fn op_badge(op: Operation) -> Markup {
    let name = op.as_str();
    html! { span class={ "op op-" (name) } { (name) } }
}

/// The contexts of `events` (their own, or their context row's), by event id, in one query.
pub(crate) fn load_contexts(
    conn: &mut PgConnection,
    config: &AuditConfig,
    events: &[AuditEvent],
) -> Result<HashMap<i64, EventContext>, ViewError> {
    let ids: Vec<i64> = events.iter().map(|e| e.id).collect();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        id: i64,
        #[diesel(sql_type = diesel::sql_types::Jsonb)]
        context: EventContext,
    }
    let rows: Vec<Row> = diesel::sql_query(format!(
        "SELECT e.id, {context} AS context \
         FROM {events} e LEFT JOIN {contexts} c ON c.id = e.context_id \
         WHERE e.id = ANY($1) AND {context} IS NOT NULL",
        context = crate::read::EVENT_CONTEXT,
        events = config.qualified_table(),
        contexts = config.qualified_context_table()
    ))
    .bind::<diesel::sql_types::Array<diesel::sql_types::BigInt>, _>(ids)
    .load(conn)?;
    Ok(rows.into_iter().map(|row| (row.id, row.context)).collect())
}

/// The tables in the log's registry of installed specs, in name order.
pub(crate) fn tracked_tables(
    conn: &mut PgConnection,
    config: &AuditConfig,
) -> Result<Vec<(String, String)>, ViewError> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Text)]
        table_schema: String,
        #[diesel(sql_type = diesel::sql_types::Text)]
        table_name: String,
    }
    let rows: Vec<Row> = diesel::sql_query(format!(
        "SELECT table_schema, table_name FROM {} ORDER BY table_schema, table_name",
        config.qualified_registry_table()
    ))
    .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|row| (row.table_schema, row.table_name))
        .collect())
}

/// Every key of a context, the request id linked to its page.
pub(crate) fn context_list(base: &Base, ctx: &EventContext) -> Markup {
    let json = ctx.to_json();
    let entries: Vec<(String, Value)> = json
        .as_object()
        .map(|o| o.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default();
    html! {
        dl.context {
            @for (key, v) in &entries {
                dt { (key) }
                dd {
                    @match (key.as_str(), v) {
                        ("request_id", Value::String(id)) => { a href=(base.request(id)) { (id) } }
                        (_, Value::String(s)) => { (s) }
                        (_, other) => { (value(other)) }
                    }
                }
            }
        }
    }
}

/// Who made an event, for one line: the user (or source), and the reason.
pub(crate) fn who(ctx: Option<&EventContext>) -> Markup {
    match ctx {
        None => html! { span.muted { "no context" } },
        Some(ctx) => html! {
            @if let Some(who) = ctx.who() { span.who { (who) } } @else { span.muted { "—" } }
            @if let Some(reason) = &ctx.change_reason { " " span.muted.reason { "(" (reason) ")" } }
        },
    }
}

/// What one event changed: field, old, new.
pub(crate) fn changes(event: &AuditEvent) -> Markup {
    let rows: Vec<(String, Option<Value>, Option<Value>)> = match event.operation {
        Operation::Update => event
            .changes()
            .into_iter()
            .map(|(c, o, n)| (c.to_owned(), Some(o.clone()), Some(n.clone())))
            .collect(),
        Operation::Insert => sorted(event.new_data.as_ref())
            .into_iter()
            .map(|(c, v)| (c, None, Some(v)))
            .collect(),
        Operation::Delete => sorted(event.old_data.as_ref())
            .into_iter()
            .map(|(c, v)| (c, Some(v), None))
            .collect(),
        Operation::Truncate => Vec::new(),
        // What the log recorded about itself: command tag, object, statement; or the cut.
        Operation::Ddl | Operation::Purge | Operation::Redact => sorted(event.new_data.as_ref())
            .into_iter()
            .map(|(c, v)| (c, None, Some(v)))
            .collect(),
    };
    html! {
        @if event.operation == Operation::Truncate {
            p.muted { "the whole table was truncated" }
        } @else if rows.is_empty() {
            p.muted { "no tracked column changed" }
        } @else {
            table.diff {
                tr { th { "field" } th { "old" } th { "new" } }
                @for (column, old, new) in &rows {
                    tr data-field=(column) {
                        td.mono { (column) }
                        td.value { @if let Some(old) = old { span.old { (value(old)) } } }
                        td.value { @if let Some(new) = new { span.new { (value(new)) } } }
                    }
                }
            }
        }
        @if let Some(old_key) = &event.old_record_id {
            p.muted { "key changed from " code { (old_key) } }
        }
    }
}

fn sorted(object: Option<&Value>) -> Vec<(String, Value)> {
    let mut entries: Vec<(String, Value)> = object
        .and_then(Value::as_object)
        .map(|o| o.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default();
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    entries
}

/// A short summary of what changed, for one table row.
pub(crate) fn summary(event: &AuditEvent) -> String {
    match event.operation {
        Operation::Update => event
            .changes()
            .iter()
            .map(|(c, _, _)| *c)
            .collect::<Vec<_>>()
            .join(", "),
        Operation::Insert | Operation::Delete => {
            let data = match event.operation {
                Operation::Insert => event.new_data.as_ref(),
                _ => event.old_data.as_ref(),
            };
            let n = data.and_then(Value::as_object).map_or(0, |o| o.len());
            format!("{n} field(s)")
        }
        Operation::Truncate => String::new(),
        Operation::Ddl => event
            .new_data
            .as_ref()
            .and_then(|d| d.get("command_tag"))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        Operation::Purge => "retention cut of the hash chain".to_owned(),
        Operation::Redact => "erasure of recorded values (redact)".to_owned(),
    }
}

/// Events as table rows: id, time, operation, table, record, who, request, transaction.
pub(crate) fn events_table(
    base: &Base,
    events: &[AuditEvent],
    contexts: &HashMap<i64, EventContext>,
) -> Markup {
    html! {
        table #events {
            tr {
                th.num { "#" } th { "when (UTC)" } th { "op" } th { "table" } th { "record" }
                th { "changed" } th { "by" } th { "request" } th.num { "transaction" }
            }
            @for event in events {
                @let ctx = contexts.get(&event.id);
                tr.event data-id=(event.id) {
                    td.num.mono { (event.id) }
                    td.mono { (time(&event.changed_at)) }
                    td { (op_badge(event.operation)) }
                    td.mono { (table_name(&event.table_schema, &event.table_name)) }
                    td.mono {
                        @if let Some(key) = &event.record_id {
                            a.record href=(base.record(&event.table_schema, &event.table_name, key)) { (key) }
                        }
                    }
                    td.mono { (summary(event)) }
                    td { (who(ctx)) }
                    td.mono {
                        @if let Some(id) = ctx.and_then(|c| c.request_id.as_deref()) {
                            a.request href=(base.request(id)) { (id) }
                        }
                    }
                    td.num.mono { a href=(base.transaction(event.txid)) { (event.txid) } }
                }
            }
        }
    }
}
