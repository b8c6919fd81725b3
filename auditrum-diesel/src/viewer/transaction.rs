//! `/transaction?txid=…` and `/request?id=…`: everything one transaction, or one request,
//! wrote across tables, with its context.

use std::collections::HashMap;

use axum::extract::Query;
use axum::response::Html;
use maud::{html, Markup};
use serde::Deserialize;

use super::base::{table_name, Base};
use super::error::ViewError;
use super::{layout, render, State};
use crate::read::{AuditEvent, EventContext, EventSearch};

/// At most this many events on one page.
const LIMIT: i64 = 5000;

#[derive(Debug, Deserialize)]
pub(crate) struct TransactionParams {
    txid: i64,
}

#[derive(Debug, Deserialize)]
pub(crate) struct RequestParams {
    id: String,
}

type Loaded = (Vec<AuditEvent>, HashMap<i64, EventContext>);

pub(crate) async fn transaction_page(
    state: State,
    base: Base,
    Query(params): Query<TransactionParams>,
) -> Result<Html<String>, ViewError> {
    let txid = params.txid;
    let (events, contexts): Loaded = state
        .db(move |conn, shared| {
            let events =
                EventSearch::new()
                    .transaction(txid)
                    .load(conn, &shared.config, Some(LIMIT))?;
            let contexts = render::load_contexts(conn, &shared.config, &events)?;
            Ok((events, contexts))
        })
        .await?;
    if events.is_empty() {
        return Err(ViewError::NotFound(format!(
            "no events of transaction {txid}"
        )));
    }
    let title = format!("Transaction {txid}");
    let content = html! {
        h1 { (title) }
        (transaction_block(&base, &events, &contexts))
    };
    Ok(Html(layout::page(&base, &title, content).into_string()))
}

pub(crate) async fn request_page(
    state: State,
    base: Base,
    Query(params): Query<RequestParams>,
) -> Result<Html<String>, ViewError> {
    let id = params.id.clone();
    let (events, contexts): Loaded = state
        .db(move |conn, shared| {
            let events = EventSearch::new()
                .request(id)
                .load(conn, &shared.config, Some(LIMIT))?;
            let contexts = render::load_contexts(conn, &shared.config, &events)?;
            Ok((events, contexts))
        })
        .await?;
    if events.is_empty() {
        return Err(ViewError::NotFound(format!(
            "no events of request {:?}",
            params.id
        )));
    }
    let mut txids: Vec<i64> = events.iter().map(|e| e.txid).collect();
    txids.dedup();
    let title = format!("Request {}", params.id);
    let content = html! {
        h1 { "Request " code { (params.id) } }
        p.muted { (events.len()) " event(s) in " (txids.len()) " transaction(s)" }
        @for txid in &txids {
            @let of_tx: Vec<AuditEvent> = events.iter().filter(|e| e.txid == *txid).cloned().collect();
            h2 { "Transaction " a href=(base.transaction(*txid)) { (txid) } }
            (transaction_block(&base, &of_tx, &contexts))
        }
    };
    Ok(Html(layout::page(&base, &title, content).into_string()))
}

/// The contexts of a transaction's events, then each event with its changes.
fn transaction_block(
    base: &Base,
    events: &[AuditEvent],
    contexts: &HashMap<i64, EventContext>,
) -> Markup {
    let mut context_ids: Vec<Option<i64>> = events.iter().map(|e| e.context_id).collect();
    context_ids.dedup();
    html! {
        @for context_id in &context_ids {
            div.card.context {
                div.head { strong { "Context" } @if let Some(id) = context_id { span.muted { "#" (id) } } }
                @match context_id.and_then(|id| contexts.get(&id)) {
                    Some(ctx) => (render::context_list(base, ctx)),
                    None => p.muted { "no context was set" },
                }
            }
        }
        @for event in events {
            div.card.event id={ "event-" (event.id) } {
                div.head {
                    strong { "#" (event.id) }
                    (render::op_badge(event.operation))
                    span.mono { (table_name(&event.table_schema, &event.table_name)) }
                    @if let Some(key) = &event.record_id {
                        a.record href=(base.record(&event.table_schema, &event.table_name, key)) { (key) }
                    }
                    span.mono { (render::time(&event.changed_at)) }
                }
                (render::changes(event))
            }
        }
    }
}
