//! `/record?table=…&key=…[&at=…]`: one record's history, blame, and the row as of an
//! instant.

use std::collections::{BTreeMap, HashMap};

use axum::extract::Query;
use axum::response::Html;
use chrono::{DateTime, Utc};
use maud::{html, Markup};
use serde::Deserialize;
use serde_json::Value;

use super::base::{table_name, Base};
use super::error::ViewError;
use super::list::parse_instant;
use super::{layout, render, State};
use crate::read::{registered_spec, AuditEvent, EventContext, EventSearch};
use crate::{Operation, TableName, TrackSpec};

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub(crate) struct Params {
    table: String,
    key: String,
    /// Show the row as of this instant.
    at: String,
    /// Show the history's page of events with ids below this one (the newest page when
    /// empty).
    before: String,
}

/// At most this many events of a record's history on one page: a record with 100k events
/// would otherwise make a page of tens of megabytes.
pub(crate) const HISTORY_PAGE: usize = 200;

/// The page of `events` (ordered by id) that the history shows: the newest
/// [`HISTORY_PAGE`] events with ids below `before`.
fn history_window(events: &[AuditEvent], before: Option<i64>) -> std::ops::Range<usize> {
    let end = before.map_or(events.len(), |b| events.partition_point(|e| e.id < b));
    end.saturating_sub(HISTORY_PAGE)..end
}

/// Who last set a field: the event, and the value it set.
#[derive(Debug, Clone)]
pub(crate) struct Blame {
    pub value: Value,
    pub event: usize,
}

/// The record's fields now, each with the event that last set it (index into `events`),
/// folded from its history; `None` when its last event deleted it. The event that moved
/// the record to its key counts as setting the key columns it changed.
pub(crate) fn blame(events: &[AuditEvent]) -> Option<BTreeMap<String, Blame>> {
    let mut fields: Option<BTreeMap<String, Blame>> = None;
    for (index, event) in events.iter().enumerate() {
        match event.operation {
            Operation::Insert => {
                let mut state = BTreeMap::new();
                for (column, value) in event.new_data.iter().flat_map(as_object) {
                    state.insert(
                        column.clone(),
                        Blame {
                            value: value.clone(),
                            event: index,
                        },
                    );
                }
                fields = Some(state);
            }
            Operation::Update => {
                let state = fields.get_or_insert_with(BTreeMap::new);
                for (column, _, new) in event.changes() {
                    state.insert(
                        column.to_owned(),
                        Blame {
                            value: new.clone(),
                            event: index,
                        },
                    );
                }
            }
            Operation::Delete | Operation::Truncate => fields = None,
            Operation::Ddl | Operation::Purge | Operation::Redact => {}
        }
    }
    fields
}

fn as_object(value: &Value) -> impl Iterator<Item = (&String, &Value)> {
    value.as_object().into_iter().flatten()
}

struct Loaded {
    spec: Option<TrackSpec>,
    key: String,
    events: Vec<AuditEvent>,
    contexts: HashMap<i64, EventContext>,
    as_of: Option<(DateTime<Utc>, Option<Value>)>,
}

pub(crate) async fn page(
    state: State,
    base: Base,
    Query(params): Query<Params>,
) -> Result<Html<String>, ViewError> {
    if params.table.trim().is_empty() || params.key.trim().is_empty() {
        return Err(ViewError::BadRequest(
            "a record page needs `table` and `key`".into(),
        ));
    }
    let named = TableName::parse(params.table.trim())?;
    let (schema, table) = (named.schema().to_owned(), named.table().to_owned());
    let at = match params.at.trim() {
        "" => None,
        at => Some(parse_instant(at)?),
    };
    let before = match params.before.trim() {
        "" => None,
        id => Some(id.parse::<i64>().map_err(|_| {
            ViewError::BadRequest(format!("`before` must be an event id, not {id:?}"))
        })?),
    };
    let key = params.key.trim().to_owned();
    let (s, t) = (schema.clone(), table.clone());
    let loaded = state
        .db(move |conn, shared| {
            let spec: Option<TrackSpec> = registered_spec(conn, &shared.config, &s, &t)?;
            // A composite key however it was spelled: `[7,1]` is stored as `[7, 1]`.
            let key = match spec
                .as_ref()
                .map_or(key.starts_with('['), |s| s.key().len() > 1)
            {
                true => crate::read::normalize_key(conn, &key)?,
                false => key,
            };
            let events: Vec<AuditEvent> =
                EventSearch::new()
                    .record(&s, &t, key.as_str())
                    .load(conn, &shared.config, None)?;
            let contexts = render::load_contexts(conn, &shared.config, &events)?;
            let as_of = match (at, &spec) {
                (Some(at), Some(spec)) => Some((
                    at,
                    crate::read::as_of_json(conn, &shared.config, spec, &key, at)?,
                )),
                _ => None,
            };
            Ok(Loaded {
                spec,
                key,
                events,
                contexts,
                as_of,
            })
        })
        .await?;
    if loaded.events.is_empty() {
        return Err(ViewError::NotFound(format!(
            "no events of {} {}",
            table_name(&schema, &table),
            loaded.key
        )));
    }
    let title = format!("{} {}", table_name(&schema, &table), loaded.key);
    let fields = blame(&loaded.events);
    let ctx_of = |event: &AuditEvent| loaded.contexts.get(&event.id);
    let window = history_window(&loaded.events, before);
    let shown = &loaded.events[window.clone()];
    let table_param = table_name(&schema, &table);
    let page_link = |before: Option<i64>| {
        let before = before.map(|id| id.to_string()).unwrap_or_default();
        base.link(
            "/record",
            &[
                ("table", &table_param),
                ("key", &loaded.key),
                ("before", &before),
            ],
        )
    };
    // An event of another history page is linked on the page that ends with it.
    let event_link = |index: usize, id: i64| match window.contains(&index) {
        true => format!("#event-{id}"),
        false => format!("{}#event-{id}", page_link(Some(id + 1))),
    };
    let content = html! {
        h1 { "Record " code { (title) } }
        p.muted {
            (loaded.events.len()) " event(s); "
            a href=(base.link("/", &[("table", &table_name(&schema, &table)), ("key", &loaded.key)])) { "in the event list" }
        }
        h2 { "Blame: who set each field" }
        @match &fields {
            None => p #deleted.muted { "The record is deleted (its last event is a DELETE)." },
            Some(fields) => {
                table #blame {
                    tr { th { "field" } th { "value" } th { "set by" } th { "when (UTC)" } th { "who" } }
                    @for (column, blame) in fields {
                        @let event = &loaded.events[blame.event];
                        tr data-field=(column) {
                            td.mono { (column) }
                            td.value { (render::value(&blame.value)) }
                            td.mono { a href=(event_link(blame.event, event.id)) { "#" (event.id) " " (event.operation.as_str()) } }
                            td.mono { (render::time(&event.changed_at)) }
                            td { (render::who(ctx_of(event))) }
                        }
                    }
                }
            }
        }
        h2 { "As of an instant" }
        form.filters method="get" action=(base.link("/record", &[])) {
            input type="hidden" name="table" value=(table_name(&schema, &table));
            input type="hidden" name="key" value=(loaded.key);
            label { "instant (UTC)" input type="datetime-local" step="1" name="at" value=(params.at.trim()); }
            button type="submit" { "Show" }
        }
        @if loaded.spec.is_none() {
            p.muted { "The table is not in the registry of installed specs: time travel needs its spec." }
        }
        @if let Some((at, row)) = &loaded.as_of { (as_of(at, row.as_ref())) }
        h2 { "History" }
        @if window.len() < loaded.events.len() {
            p #history-pages.muted {
                "Events " (window.start + 1) "–" (window.end) " of " (loaded.events.len()) ". "
                @if window.start > 0 {
                    a #older href=(page_link(shown.first().map(|e| e.id))) { "Older events" } " "
                }
                @if window.end < loaded.events.len() {
                    a #newest href=(page_link(None)) { "Newest events" }
                }
            }
        }
        @for event in shown {
            @let ctx = ctx_of(event);
            div.card.event id={ "event-" (event.id) } {
                div.head {
                    strong { "#" (event.id) }
                    (render::op_badge(event.operation))
                    span.mono { (render::time(&event.changed_at)) }
                    span { "by " (render::who(ctx)) }
                    @if let Some(request) = ctx.and_then(|c| c.request_id.as_deref()) {
                        span { "request " a href=(base.request(request)) { (request) } }
                    }
                    span { "transaction " a href=(base.transaction(event.txid)) { (event.txid) } }
                }
                (render::changes(event))
            }
        }
    };
    Ok(Html(layout::page(&base, &title, content).into_string()))
}

fn as_of(at: &DateTime<Utc>, row: Option<&Value>) -> Markup {
    html! {
        div #as-of {
            @match row {
                None => p { "The record did not exist at " (render::time(at)) "." },
                Some(row) => {
                    p { "The record at " (render::time(at)) ":" }
                    table {
                        tr { th { "field" } th { "value" } }
                        @for (column, value) in as_object(row) {
                            tr data-field=(column) { td.mono { (column) } td.value { (render::value(value)) } }
                        }
                    }
                }
            }
        }
    }
}
