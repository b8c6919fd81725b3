//! `/metrics`: the log's health in Prometheus' text format, read from PostgreSQL's catalog
//! and statistics, never by scanning the events.
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

use std::collections::BTreeMap;
use std::fmt::Write;

use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Double, Float4, Nullable, Text, Timestamptz};

use super::error::ViewError;
use super::State;
use crate::ops::chain::ChainNames;
use crate::ops::partitions::{self, Partition};
use crate::AuditConfig;

/// The content type of Prometheus' text format.
const TEXT_FORMAT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The label of the events of values too rare to be among a partition's most common.
const OTHER: &str = "(other)";

/// Average length of a month, for the runway.
const MONTH_SECONDS: f64 = 30.436_875 * 86_400.0;

/// Months (of average length) from `from` to `to`.
pub(crate) fn months_between(from: DateTime<Utc>, to: DateTime<Utc>) -> f64 {
    (to - from).num_seconds() as f64 / MONTH_SECONDS
}

/// One column's statistics in one partition.
#[derive(QueryableByName)]
struct ColumnStats {
    #[diesel(sql_type = Text)]
    column: String,
    #[diesel(sql_type = Double)]
    rows: f64,
    #[diesel(sql_type = Array<Text>)]
    values: Vec<String>,
    #[diesel(sql_type = Array<Float4>)]
    freqs: Vec<f32>,
    #[diesel(sql_type = Float4)]
    null_frac: f32,
}

#[derive(QueryableByName)]
struct ChainState {
    #[diesel(sql_type = BigInt)]
    last_seq: i64,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    sealed_at: Option<DateTime<Utc>>,
}

/// What a scrape reads.
struct Reading {
    partitions: Vec<Partition>,
    stats: Vec<ColumnStats>,
    analyzed_rows: f64,
    chain: Option<ChainState>,
    tracked: i64,
}

fn read(conn: &mut PgConnection, config: &AuditConfig) -> Result<Reading, ViewError> {
    let partitions = partitions::list(conn, config)?;
    // Non-DEFAULT partitions only: DEFAULT is counted exactly by `partitions::list`.
    let stats: Vec<ColumnStats> = diesel::sql_query(
        "SELECT s.attname::text AS column, c.reltuples::float8 AS rows,
                s.most_common_vals::text::text[] AS values, s.most_common_freqs AS freqs,
                s.null_frac
         FROM pg_inherits i
         JOIN pg_class c ON c.oid = i.inhrelid
         JOIN pg_namespace n ON n.oid = c.relnamespace
         JOIN pg_stats s ON s.schemaname = n.nspname AND s.tablename = c.relname
         WHERE i.inhparent = to_regclass($1)
           AND pg_get_expr(c.relpartbound, c.oid) <> 'DEFAULT'
           AND c.reltuples > 0
           AND s.attname IN ('table_name', 'operation')
           AND s.most_common_vals IS NOT NULL",
    )
    .bind::<Text, _>(config.qualified_table())
    .load(conn)?;
    #[derive(QueryableByName)]
    struct Rows {
        #[diesel(sql_type = Double)]
        rows: f64,
    }
    let analyzed_rows: Rows = diesel::sql_query(
        "SELECT COALESCE(sum(c.reltuples), 0)::float8 AS rows
         FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
         WHERE i.inhparent = to_regclass($1)
           AND pg_get_expr(c.relpartbound, c.oid) <> 'DEFAULT' AND c.reltuples > 0",
    )
    .bind::<Text, _>(config.qualified_table())
    .get_result(conn)?;
    let names = ChainNames::new(config);
    let state_table = names.state_table();
    #[derive(QueryableByName)]
    struct Exists {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        exists: bool,
    }
    let chain_enabled: Exists = diesel::sql_query("SELECT to_regclass($1) IS NOT NULL AS exists")
        .bind::<Text, _>(&state_table)
        .get_result(conn)?;
    // Read as it is: no sealing, so a scrape never writes.
    let chain = match chain_enabled.exists {
        false => None,
        true => Some(
            diesel::sql_query(format!(
                "SELECT s.last_seq, l.sealed_at FROM {state_table} s LEFT JOIN {chain} l ON l.seq = s.last_seq",
                chain = names.chain_table(),
            ))
            .get_result(conn)?,
        ),
    };
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        count: i64,
    }
    let tracked: Count = diesel::sql_query(format!(
        "SELECT count(*) AS count FROM {}",
        config.qualified_registry_table()
    ))
    .get_result(conn)?;
    Ok(Reading {
        partitions,
        stats,
        analyzed_rows: analyzed_rows.rows,
        chain,
        tracked: tracked.count,
    })
}

pub(crate) async fn endpoint(state: State) -> Result<impl IntoResponse, ViewError> {
    let reading = state.db(|conn, shared| read(conn, &shared.config)).await?;
    let verification = state.monitor.last();
    let mut out = Exposition::default();

    let default_rows: i64 = reading
        .partitions
        .iter()
        .filter(|p| p.is_default)
        .filter_map(|p| p.rows)
        .sum();
    let mut per_table: BTreeMap<String, f64> = BTreeMap::new();
    let mut per_operation: BTreeMap<String, f64> = BTreeMap::new();
    for stats in &reading.stats {
        let target = match stats.column.as_str() {
            "table_name" => &mut per_table,
            _ => &mut per_operation,
        };
        let mut listed = 0.0;
        for (value, freq) in stats.values.iter().zip(&stats.freqs) {
            *target.entry(value.clone()).or_default() += stats.rows * f64::from(*freq);
            listed += f64::from(*freq);
        }
        // Values seen only once in the sample are never among the most common: their
        // share is what the list leaves.
        let rest = (1.0 - listed - f64::from(stats.null_frac)).max(0.0) * stats.rows;
        if rest >= 0.5 {
            *target.entry(OTHER.to_owned()).or_default() += rest;
        }
    }

    out.family(
        "auditrum_events_estimate",
        "Events in the audit log: the partitions' estimated row counts, plus the DEFAULT partition's exact count.",
    );
    out.sample(
        "auditrum_events_estimate",
        &[],
        (reading.analyzed_rows + default_rows as f64).round(),
    );
    out.family(
        "auditrum_table_events_estimate",
        "Events per audited table (table_name), estimated from each partition's statistics.",
    );
    for (table, events) in &per_table {
        out.sample(
            "auditrum_table_events_estimate",
            &[("table", table)],
            events.round(),
        );
    }
    out.family(
        "auditrum_operation_events_estimate",
        "Events per operation, estimated from each partition's statistics.",
    );
    for (operation, events) in &per_operation {
        out.sample(
            "auditrum_operation_events_estimate",
            &[("operation", operation)],
            events.round(),
        );
    }
    out.family(
        "auditrum_tracked_tables",
        "Tables in the registry of installed specs.",
    );
    out.sample("auditrum_tracked_tables", &[], reading.tracked as f64);
    out.family(
        "auditrum_partitions",
        "Monthly partitions of the audit table.",
    );
    out.sample(
        "auditrum_partitions",
        &[],
        reading.partitions.iter().filter(|p| !p.is_default).count() as f64,
    );
    let until = reading.partitions.iter().filter_map(|p| p.to).max();
    out.family(
        "auditrum_partition_runway_months",
        "Months from now until the end of the last monthly partition (negative: events already go to DEFAULT).",
    );
    out.sample(
        "auditrum_partition_runway_months",
        &[],
        until.map_or(0.0, |until| months_between(Utc::now(), until)),
    );
    if let Some(until) = until {
        out.family(
            "auditrum_partitions_until_timestamp_seconds",
            "End of the last monthly partition (Unix time).",
        );
        out.sample(
            "auditrum_partitions_until_timestamp_seconds",
            &[],
            until.timestamp() as f64,
        );
    }
    out.family(
        "auditrum_default_partition_rows",
        "Events in the DEFAULT partition (their month has no partition; should be 0).",
    );
    out.sample("auditrum_default_partition_rows", &[], default_rows as f64);

    out.family(
        "auditrum_hash_chain_enabled",
        "1 when the hash chain is enabled.",
    );
    out.sample(
        "auditrum_hash_chain_enabled",
        &[],
        f64::from(u8::from(reading.chain.is_some())),
    );
    if let Some(chain) = &reading.chain {
        out.family(
            "auditrum_hash_chain_links",
            "Links sealed so far (the head's sequence number).",
        );
        out.sample("auditrum_hash_chain_links", &[], chain.last_seq as f64);
        if let Some(at) = chain.sealed_at {
            out.family(
                "auditrum_hash_chain_sealed_timestamp_seconds",
                "When the head link was sealed (Unix time).",
            );
            out.sample(
                "auditrum_hash_chain_sealed_timestamp_seconds",
                &[],
                at.timestamp() as f64,
            );
        }
    }
    if let Some(v) = &verification {
        out.family(
            "auditrum_hash_chain_verified_timestamp_seconds",
            "When this viewer last verified the hash chain (Unix time).",
        );
        out.sample(
            "auditrum_hash_chain_verified_timestamp_seconds",
            &[],
            v.at.timestamp() as f64,
        );
        out.family(
            "auditrum_hash_chain_intact",
            "1 when the last verification found the chain intact; 0 when broken, not enabled, or not verifiable.",
        );
        out.sample(
            "auditrum_hash_chain_intact",
            &[],
            f64::from(u8::from(v.is_intact())),
        );
        out.family(
            "auditrum_hash_chain_breaks",
            "Breaks the last verification found.",
        );
        out.sample("auditrum_hash_chain_breaks", &[], v.breaks as f64);
        out.family(
            "auditrum_hash_chain_verify_error",
            "1 when the last verification could not run.",
        );
        out.sample(
            "auditrum_hash_chain_verify_error",
            &[],
            f64::from(u8::from(v.error.is_some())),
        );
    }
    Ok(([(CONTENT_TYPE, TEXT_FORMAT)], out.text))
}

/// Prometheus' text exposition format.
#[derive(Default)]
struct Exposition {
    text: String,
}

impl Exposition {
    fn family(&mut self, name: &str, help: &str) {
        let _ = writeln!(
            self.text,
            "# HELP {name} {}",
            help.replace('\\', "\\\\").replace('\n', "\\n")
        );
        let _ = writeln!(self.text, "# TYPE {name} gauge");
    }

    fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: f64) {
        self.text.push_str(name);
        if !labels.is_empty() {
            self.text.push('{');
            for (i, (label, v)) in labels.iter().enumerate() {
                if i > 0 {
                    self.text.push(',');
                }
                let _ = write!(self.text, "{label}=\"{}\"", escape_label(v));
            }
            self.text.push('}');
        }
        let _ = writeln!(self.text, " {value}");
    }
}

/// A label value: backslash, double quote and newline escaped.
fn escape_label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped() {
        let mut out = Exposition::default();
        out.sample("m", &[("table", "a\"b\\c\nd")], 1.0);
        assert_eq!(out.text, "m{table=\"a\\\"b\\\\c\\nd\"} 1\n");
    }
}
