//! `/`: the events, newest first, filtered, in keyset pages.

use axum::extract::Query;
use axum::response::Html;
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use diesel::prelude::*;
use maud::html;
use serde::Deserialize;

use super::base::Base;
use super::error::ViewError;
use super::{layout, render, State};
use crate::read::{filter, AuditEvent, EventQuery, Page};
use crate::schema::{auditlog, auditlog_tracked};
use crate::{Operation, TableName};

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

    /// The query these filters ask, every value bound.
    fn query(&self) -> Result<EventQuery<'static>, ViewError> {
        let mut query = AuditEvent::query();
        if !self.table.is_empty() {
            let spec = TableName::parse(&self.table)?;
            let (schema, table) = (spec.schema(), spec.table());
            query = match self.key.is_empty() {
                true => query.filter(filter::table_of(schema, table)),
                false => query.filter(filter::record_of((schema, table), self.key.as_str())),
            };
        } else if !self.key.is_empty() {
            let key = self.key.clone();
            query = query.filter(
                auditlog::record_id
                    .eq(key.clone())
                    .or(auditlog::old_record_id.eq(key)),
            );
        }
        if !self.user.is_empty() {
            query = query.filter(filter::user(&self.user));
        }
        if !self.request.is_empty() {
            query = query.filter(filter::request(self.request.clone()));
        }
        if !self.operation.is_empty() {
            query = query.filter(auditlog::operation.eq(parse_operation(&self.operation)?));
        }
        if !self.from.is_empty() {
            query = query.filter(auditlog::changed_at.ge(parse_instant(&self.from)?));
        }
        if !self.to.is_empty() {
            query = query.filter(auditlog::changed_at.lt(parse_instant(&self.to)?));
        }
        Ok(query)
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
    let query = filters.query()?;
    let page_size = state.page_size;
    // One more than a page, to know whether an older page exists.
    let page = Page {
        before: filters.before,
        limit: page_size + 1,
    };
    let (events, next, contexts, tables) = state
        .db(move |conn, _| {
            let mut events: Vec<AuditEvent> = page.apply(query).load(conn)?;
            let next = match events.len() as i64 > page_size {
                true => {
                    events.truncate(page_size as usize);
                    events.last().map(|last| Page::before(last.id, page_size))
                }
                false => None,
            };
            let contexts = render::load_contexts(conn, &events)?;
            let tables: Vec<(String, String)> = auditlog_tracked::table
                .select((auditlog_tracked::table_schema, auditlog_tracked::table_name))
                .order((auditlog_tracked::table_schema, auditlog_tracked::table_name))
                .load(conn)?;
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
