//! `/status`: partitions, rows in DEFAULT, trigger drift, and the hash chain.

use axum::response::Html;
use chrono::Utc;
use maud::{html, Markup};

use super::base::{table_name, Base};
use super::chain_monitor::ChainVerification;
use super::error::ViewError;
use super::{layout, render, State};
use crate::ops::status::{self, Status};

pub(crate) async fn page(state: State, base: Base) -> Result<Html<String>, ViewError> {
    let status = state
        .db(|conn, shared| Ok(status::read(conn, &shared.config)?))
        .await?;
    let verification = state.monitor.last();
    let content = html! {
        h1 { "Status of " code { (status.audit_table) } }
        @if status.problems.is_empty() {
            p #problems.ok { "No problems." }
        } @else {
            ul #problems {
                @for problem in &status.problems { li.problem { (problem) } }
            }
        }
        (partitions(&status))
        h2 { "Tracked tables" }
        table #tables {
            tr { th { "table" } th { "installed (UTC)" } th { "fingerprint" } th { "drift" } }
            @for table in &status.tables {
                tr {
                    td.mono { a href=(base.link("/", &[("table", &table_name(&table.schema, &table.table))])) { (table_name(&table.schema, &table.table)) } }
                    td.mono { (render::time(&table.installed_at)) }
                    td.mono { (table.fingerprint.get(..12).unwrap_or(&table.fingerprint)) }
                    td {
                        @if table.problems.is_empty() { span.ok { "none" } }
                        @for problem in &table.problems { div.problem { (problem) } }
                    }
                }
            }
        }
        (chain(&status, verification.as_ref()))
    };
    Ok(Html(layout::page(&base, "Status", content).into_string()))
}

fn partitions(status: &Status) -> Markup {
    let runway = status
        .partitions_until
        .map(|until| super::metrics::months_between(Utc::now(), until));
    html! {
        h2 { "Partitions" }
        p #runway {
            @match (status.partitions_until, runway) {
                (Some(until), Some(months)) => {
                    "Partitions reach until " span.mono { (render::time(&until)) }
                    ": " strong { (format!("{months:.1}")) } " month(s) ahead. "
                }
                _ => { span.problem { "No monthly partition." } " " }
            }
            "Rows in DEFAULT: " strong #default-rows { (status.default_rows) } "."
        }
        table #partitions {
            tr { th { "partition" } th { "from (UTC)" } th { "to (UTC)" } th.num { "rows" } }
            @for p in &status.partitions {
                tr {
                    td.mono { (p.name) }
                    td.mono { @if let Some(from) = &p.from { (render::time(from)) } @else { "DEFAULT" } }
                    td.mono { @if let Some(to) = &p.to { (render::time(to)) } }
                    td.num.mono {
                        @match p.rows { Some(rows) => { (rows) @if !p.is_default { span.muted { " est." } } }, None => span.muted { "not analyzed" } }
                    }
                }
            }
        }
    }
}

fn chain(status: &Status, verification: Option<&ChainVerification>) -> Markup {
    html! {
        h2 { "Hash chain" }
        div #chain {
            @match &status.hash_chain {
                None => p.muted { "Not enabled (" code { "auditrum-diesel enable-hash-chain" } ")." },
                Some(tip) => p {
                    "Head: link " strong { (tip.seq) } " "
                    code { (tip.link_hash.get(..16).unwrap_or(&tip.link_hash)) "…" }
                    @if let Some(at) = &tip.sealed_at { ", sealed " span.mono { (render::time(at)) } }
                    "."
                },
            }
            @match verification {
                None => p.muted { "Not verified by this viewer (" code { "serve --verify-chain-every" } ", or " code { "auditrum-diesel verify-chain" } ")." },
                Some(v) => p #verification {
                    "Last verified " span.mono { (render::time(&v.at)) } ": "
                    @if let Some(error) = &v.error { span.problem { "could not verify: " (error) } }
                    @else if !v.enabled { span.muted { "chain not enabled" } }
                    @else if v.breaks == 0 { span.ok { "intact" } " (" (v.links) " links)" }
                    @else { span.problem { (v.breaks) " break(s)" } " in " (v.links) " links: run " code { "auditrum-diesel verify-chain" } }
                },
            }
        }
    }
}
