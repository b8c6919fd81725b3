//! `/`: the events, newest first, filtered, in keyset pages.

use axum::extract::Query;
use axum::response::Html;
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use maud::html;
use serde::Deserialize;

use super::base::Base;
use super::error::ViewError;
use super::{layout, render, State};
use crate::read::{EventSearch, Page};
use crate::Operation;

/// The list's filters, as the form sends them; empty means "any".
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub(crate) struct Filters {
    /// `table` or `schema.table`.
    table: String,
    /// A record key (with `table`: that table's record).
    key: String,
    /// The context's `user_id`.
    user: String,
    /// The context's `request_id`.
    request: String,
    /// `INSERT`, `UPDATE`, `DELETE`, `TRUNCATE`, `DDL` or `PURGE`.
    operation: String,
    /// From this instant on (UTC unless it says otherwise).
    from: String,
    /// Before this instant.
    to: String,
    /// Keyset: events with ids below this.
    before: Option<i64>,
}

impl Filters {
    fn trimmed(mut self) -> Self {
        for field in [
            &mut self.table,
            &mut self.key,
            &mut self.user,
            &mut self.request,
            &mut self.operation,
            &mut self.from,
            &mut self.to,
        ] {
            *field = field.trim().to_owned();
        }
        self
    }

    /// The search these filters ask, every value bound.
    fn search(&self) -> Result<EventSearch, ViewError> {
        let mut search = EventSearch::new();
        if !self.table.is_empty() {
            search = search.table_named(&self.table)?;
        }
        if !self.key.is_empty() {
            search = search.key(self.key.as_str());
        }
        if !self.user.is_empty() {
            search = search.user(&self.user);
        }
        if !self.request.is_empty() {
            search = search.request(self.request.clone());
        }
        if !self.operation.is_empty() {
            search = search.operation(parse_operation(&self.operation)?);
        }
        if !self.from.is_empty() {
            search = search.since(parse_instant(&self.from)?);
        }
        if !self.to.is_empty() {
            search = search.until(parse_instant(&self.to)?);
        }
        Ok(search)
    }

    /// The filters as link parameters (without the page).
    fn params(&self) -> Vec<(&'static str, &str)> {
        vec![
            ("table", &self.table),
            ("key", &self.key),
            ("user", &self.user),
            ("request", &self.request),
            ("operation", &self.operation),
            ("from", &self.from),
            ("to", &self.to),
        ]
    }

    fn is_empty(&self) -> bool {
        self.params().iter().all(|(_, v)| v.is_empty())
    }
}

pub(crate) fn parse_operation(text: &str) -> Result<Operation, ViewError> {
    text.parse()
        .map_err(|e: crate::UnknownOperation| ViewError::BadRequest(e.to_string()))
}

/// An instant: RFC 3339 (`2026-11-28T10:00:00+01:00`), or a UTC date and time as a
/// `datetime-local` field sends it (`2026-11-28T10:00`, seconds optional), or a date.
pub(crate) fn parse_instant(text: &str) -> Result<DateTime<Utc>, ViewError> {
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Ok(at.with_timezone(&Utc));
    }
    for format in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(at) = NaiveDateTime::parse_from_str(text, format) {
            return Ok(at.and_utc());
        }
    }
    if let Ok(day) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Ok(day.and_hms_opt(0, 0, 0).expect("midnight").and_utc());
    }
    Err(ViewError::BadRequest(format!(
        "not an instant: {text:?} (use 2026-11-28T10:00:00Z, or a UTC date and time)"
    )))
}

pub(crate) async fn page(
    state: State,
    base: Base,
    Query(filters): Query<Filters>,
) -> Result<Html<String>, ViewError> {
    let filters = filters.trimmed();
    let search = filters.search()?;
    let page_size = state.page_size;
    // One more than a page, to know whether an older page exists.
    let page = Page {
        before: filters.before,
        limit: page_size + 1,
    };
    let (events, next, contexts, tables) = state
        .db(move |conn, shared| {
            let mut events = search.page(conn, &shared.config, page)?.events;
            let next = match events.len() as i64 > page_size {
                true => {
                    events.truncate(page_size as usize);
                    events.last().map(|last| Page::before(last.id, page_size))
                }
                false => None,
            };
            let contexts = render::load_contexts(conn, &shared.config, &events)?;
            let tables = render::tracked_tables(conn, &shared.config)?;
            Ok((events, next, contexts, tables))
        })
        .await?;
    let mut next_params = filters.params();
    let next_before = next.and_then(|p| p.before).map(|id| id.to_string());
    if let Some(before) = &next_before {
        next_params.push(("before", before));
    }
    let content = html! {
        h1 { "Events" }
        form.filters method="get" action=(base.link("/", &[])) {
            label { "table" input name="table" list="tables" value=(filters.table) placeholder="users or schema.table"; }
            datalist #tables {
                @for (schema, table) in &tables { option value=(super::base::table_name(schema, table)) {} }
            }
            label { "record key" input name="key" value=(filters.key) size="10"; }
            label { "user" input name="user" value=(filters.user) size="12"; }
            label { "request id" input name="request" value=(filters.request) size="16"; }
            label { "operation"
                select name="operation" {
                    option value="" { "any" }
                    @for op in Operation::EVERY.map(Operation::as_str) {
                        option value=(op) selected[filters.operation.eq_ignore_ascii_case(op)] { (op) }
                    }
                }
            }
            label { "from (UTC)" input type="datetime-local" step="1" name="from" value=(filters.from); }
            label { "to (UTC)" input type="datetime-local" step="1" name="to" value=(filters.to); }
            button type="submit" { "Filter" }
            @if !filters.is_empty() { a href=(base.link("/", &[])) { "clear" } }
        }
        @if events.is_empty() {
            p #no-events.muted { "No events." }
        } @else {
            (render::events_table(&base, &events, &contexts))
        }
        div.pager {
            @if filters.before.is_some() {
                a #newest href=(base.link("/", &filters.params())) { "← newest" }
            }
            @if next_before.is_some() {
                a #older href=(base.link("/", &next_params)) { "older →" }
            }
        }
    };
    Ok(Html(layout::page(&base, "Events", content).into_string()))
}
