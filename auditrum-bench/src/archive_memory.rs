//! `--archive-memory`: peak memory, speed and size of `archive` at two partition sizes
//! (docs/scaling.md). Each size gets a fresh database holding one month of chained events
//! 14 months old; the archive runs in this process, whose peak RSS is reset just before it
//! (`/proc/self/clear_refs`), so the peak is the archive's (plus this program's baseline).

use std::fmt::Write as _;
use std::time::Instant;

use auditrum_diesel::ops::archive::{self, ArchiveOptions, Store};
use auditrum_diesel::ops::chain;
use auditrum_diesel::AuditConfig;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;

use crate::{measure, BenchError};

/// The archived month: 14 months ago, older than `'13 months'`.
const MONTH_START: &str =
    "((date_trunc('month', now() AT TIME ZONE 'UTC') - interval '14 months') AT TIME ZONE 'UTC')";
/// Events per transaction (each with its own context row).
const PER_TRANSACTION: u64 = 500;

/// One measured archive run.
struct Measured {
    events: u64,
    peak_rss_kib: u64,
    seconds: f64,
    parquet_bytes: u64,
    postgres_bytes: i64,
}

/// Measures `archive` at each of `sizes` (events in the month); a markdown table.
pub fn run(sizes: &[u64], verbose: bool) -> Result<String, BenchError> {
    let server = auditrum_testdb::durable_server().map_err(BenchError::Connect)?;
    let mut out = format!(
        "archive of one month partition ({}), debug={}\n\n\
         | events | peak RSS | time | events/s | Parquet bytes/event | PostgreSQL bytes/event |\n\
         |---|---|---|---|---|---|\n",
        server.description(),
        cfg!(debug_assertions)
    );
    for &events in sizes {
        let m = measure(events, verbose)?;
        let _ = writeln!(
            out,
            "| {} | {:.1} MB | {:.1} s | {:.0} | {:.1} | {:.1} |",
            m.events,
            m.peak_rss_kib as f64 * 1024.0 / 1e6,
            m.seconds,
            m.events as f64 / m.seconds,
            m.parquet_bytes as f64 / m.events as f64,
            m.postgres_bytes as f64 / m.events as f64,
        );
    }
    Ok(out)
}

fn measure(events: u64, verbose: bool) -> Result<Measured, BenchError> {
    let db = auditrum_testdb::TestDatabase::new();
    let mut conn = db.connect();
    let config = AuditConfig::default();
    if verbose {
        eprintln!("archive-memory: writing {events} events");
    }
    fill(&mut conn, &config, events)?;
    let partition = measure::text(
        &mut conn,
        &format!(
            "SELECT ('auditlog_p' || to_char({MONTH_START} AT TIME ZONE 'UTC', 'YYYYMM'))::text"
        ),
    )?;
    let postgres_bytes = measure::bigint(&mut conn,
        &format!(
            "SELECT pg_total_relation_size('{partition}') + pg_total_relation_size('auditlog_context') \
             + pg_total_relation_size('auditlog_chain')"
        ),
    )?;
    let dir = std::env::temp_dir().join(format!("auditrum-bench-archive-{}", std::process::id()));
    let store = Store::parse(&dir.to_string_lossy()).map_err(|e| BenchError::Run(e.to_string()))?;
    reset_peak_rss()?;
    let started = Instant::now();
    let options = ArchiveOptions {
        older_than: "13 months",
        store: &store,
        keep_partition: false,
    };
    let report = archive::archive(&mut conn, &config, &options)
        .map_err(|e| BenchError::Run(format!("archive: {e}")))?;
    let seconds = started.elapsed().as_secs_f64();
    let peak_rss_kib = peak_rss_kib()?;
    let archived: i64 = report.months.iter().map(|m| m.events.rows).sum();
    if archived != events as i64 {
        return Err(BenchError::Run(format!(
            "archive wrote {archived} events, expected {events}"
        )));
    }
    let parquet_bytes = report
        .months
        .iter()
        .flat_map(|m| &m.files)
        .map(|f| f.bytes)
        .sum();
    let _ = std::fs::remove_dir_all(&dir);
    Ok(Measured {
        events,
        peak_rss_kib,
        seconds,
        parquet_bytes,
        postgres_bytes,
    })
}

/// The core schema, the chain, the month's partition and `events` events in it (inserts
/// and one-column updates of 1,000 records, 500 per transaction, one context each), sealed.
fn fill(conn: &mut PgConnection, config: &AuditConfig, events: u64) -> Result<(), BenchError> {
    auditrum_diesel::apply::install_core_schema(conn, config)?;
    chain::enable(conn, config)?;
    conn.batch_execute(&format!(
        "DO $$ DECLARE m timestamptz := {MONTH_START}; BEGIN
           EXECUTE format('CREATE TABLE auditlog_p%s PARTITION OF auditlog FOR VALUES FROM (%L) TO (%L)',
             to_char(m AT TIME ZONE 'UTC', 'YYYYMM'), m, m + interval '1 month');
         END $$;"
    ))?;
    for t in 0..events.div_ceil(PER_TRANSACTION) {
        let (from, to) = (
            t * PER_TRANSACTION + 1,
            ((t + 1) * PER_TRANSACTION).min(events),
        );
        conn.batch_execute(&format!(
            r#"BEGIN;
               SET LOCAL auditrum.context = '{{"user_id": "u{t}", "request_id": "r{t}"}}';
               INSERT INTO auditlog (changed_at, operation, table_schema, table_name, record_id, diff, new_data, txid, context_id)
               SELECT {MONTH_START} + make_interval(days => {t} % 27, secs => {t}),
                      (CASE WHEN g % 3 = 0 THEN 'UPDATE' ELSE 'INSERT' END)::auditrum_operation,
                      'public', 'notes', (g % 1000)::text,
                      CASE WHEN g % 3 = 0 THEN jsonb_build_object('body', jsonb_build_object('old', 'a', 'new', 'b' || g)) END,
                      jsonb_build_object('id', g % 1000, 'body', 'note ' || g),
                      txid_current(), auditlog_context_id()
               FROM generate_series({from}, {to}) g;
               UPDATE auditlog_context SET created_at = {MONTH_START} + make_interval(days => {t} % 27, secs => {t})
                WHERE txid = txid_current();
               COMMIT;"#
        ))?;
    }
    chain::seal(conn, config)?;
    Ok(())
}

/// Resets this process's peak RSS (VmHWM) to its current RSS (Linux 4.0+).
fn reset_peak_rss() -> Result<(), BenchError> {
    std::fs::write("/proc/self/clear_refs", "5").map_err(|e| {
        BenchError::Run(format!(
            "cannot reset the peak RSS (/proc/self/clear_refs): {e}"
        ))
    })
}

/// This process's peak RSS (VmHWM), in KiB.
fn peak_rss_kib() -> Result<u64, BenchError> {
    measure::peak_memory_kib()
        .ok_or_else(|| BenchError::Run("no VmHWM in /proc/self/status".into()))
}
