//! `/metrics`: the log's health in Prometheus' text format, read from PostgreSQL's catalog
//! and statistics, never by scanning the events; and exact event counters that read only
//! the events committed since the previous scrape ([`counters`]).
//!
//! **Events per table and per operation** are estimates: for each partition, its row count
//! (`pg_class.reltuples`) times the frequency of each value of `table_name` and of
//! `operation` among its rows (`pg_stats.most_common_freqs`), summed over the partitions;
//! the DEFAULT partition, which should be empty, is counted exactly. PostgreSQL keeps both
//! up to date as autovacuum analyzes each partition (the current month's as it grows), so
//! a scrape reads a few catalog rows per partition, whatever the size of the log.
//! Why not count: an exact `count(*)` reads every event (minutes on a large log, on every
//! scrape); a counter kept by the capture triggers would make every audited write update
//! one hot row, serializing concurrent writers. Estimates track the real counts within a
//! few percent once a partition is analyzed; a partition never analyzed yet adds nothing.
//! A table too rare to be among a partition's most common values (seen once in ANALYZE's
//! sample, or beyond the statistics target, 100 values by default) is counted under
//! `table="(other)"` for that partition.

pub(crate) mod counters;
mod read;
mod render;
mod values;

use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use chrono::{DateTime, Utc};

use super::error::ViewError;
use super::State;

/// The content type of Prometheus' text format.
const TEXT_FORMAT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Average length of a month, for the runway.
const MONTH_SECONDS: f64 = 30.436_875 * 86_400.0;

/// Months (of average length) from `from` to `to`.
pub(crate) fn months_between(from: DateTime<Utc>, to: DateTime<Utc>) -> f64 {
    (to - from).num_seconds() as f64 / MONTH_SECONDS
}

/// Reads the catalog, computes the values, renders them.
pub(crate) async fn endpoint(state: State) -> Result<impl IntoResponse, ViewError> {
    let (reading, totals) = state
        .db(|conn, shared| {
            let totals = shared.counters.scrape(conn, &shared.config)?;
            Ok((read::read(conn, &shared.config)?, totals))
        })
        .await?;
    let values = values::Values::compute(&reading, totals, state.monitor.last(), Utc::now());
    Ok(([(CONTENT_TYPE, TEXT_FORMAT)], render::render(&values)))
}
