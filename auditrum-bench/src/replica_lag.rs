//! `--replica-lag`: how far an audit replica (docs/scaling.md) trails the primary under a
//! write load. Two local clusters with the test settings (`auditrum_testdb::server()` and
//! `second_server()`: `wal_level = logical`, durability off), the publications and the
//! subscription of docs/scaling.md, an audited table written by `clients` clients (one
//! single-row INSERT per transaction, each with its context) for `seconds`, a sealer every
//! 200 ms, and the lag sampled every 50 ms: how long after the primary held an event the
//! replica held it too (to within the 50 ms of sampling), the replay lag the walsender
//! reports (`pg_stat_replication.replay_lag`) and the WAL bytes the subscriber has not yet
//! reported written. Then the time the replica takes to hold every event.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use auditrum_diesel::ops::chain;
use auditrum_diesel::{AuditConfig, TrackSpec};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Double, Nullable};

use crate::{measure, BenchError};

/// The subscription's name (and its replication slot's).
const SUBSCRIPTION: &str = "auditrum_log";

/// Measures the lag; a markdown table.
pub fn run(clients: u32, seconds: f64, verbose: bool) -> Result<String, BenchError> {
    let primary_db = auditrum_testdb::TestDatabase::new();
    let replica_db = auditrum_testdb::TestDatabase::on(auditrum_testdb::second_server());
    let mut primary = primary_db.connect();
    let mut replica = replica_db.connect();
    let config = AuditConfig::default();
    for conn in [&mut primary, &mut replica] {
        auditrum_diesel::apply::install_core_schema(conn, &config)?;
        chain::enable(conn, &config)?;
    }
    primary.batch_execute("CREATE TABLE notes (id bigserial PRIMARY KEY, body text)")?;
    let spec = TrackSpec::builder("notes");
    let spec = auditrum_diesel::introspect::complete(&mut primary, spec, true)?;
    auditrum_diesel::apply::install(&mut primary, &spec, &config)?;
    replica.batch_execute("TRUNCATE auditlog_chain_state")?;
    primary.batch_execute(
        "CREATE PUBLICATION auditrum_log FOR TABLE auditlog, auditlog_context, auditlog_chain
             WITH (publish = 'insert', publish_via_partition_root = true);
         CREATE PUBLICATION auditrum_log_state FOR TABLE auditlog_chain_state, auditlog_tracked
             WITH (publish = 'insert, update');",
    )?;
    replica.batch_execute(&format!(
        "CREATE SUBSCRIPTION {SUBSCRIPTION} CONNECTION '{}' PUBLICATION auditrum_log, auditrum_log_state",
        primary_db.url().replace('\'', "''")
    ))?;
    let _cleanup = DropSubscription(replica_db.url().to_owned());
    wait_until(Duration::from_secs(60), || {
        Ok(measure::bigint(
            &mut replica,
            "SELECT count(*) FROM pg_subscription_rel WHERE srsubstate <> 'r'",
        )? == 0)
    })?;

    let stop = Arc::new(AtomicBool::new(false));
    let written = Arc::new(AtomicU64::new(0));
    let mut threads = Vec::new();
    for client in 0..clients {
        let (url, stop, written) = (primary_db.url().to_owned(), stop.clone(), written.clone());
        threads.push(std::thread::spawn(move || -> Result<(), BenchError> {
            let mut conn = PgConnection::establish(&url).map_err(|e| BenchError::Connect(e.to_string()))?;
            let mut i = 0u64;
            while !stop.load(Ordering::Relaxed) {
                conn.batch_execute(&format!(
                    r#"BEGIN; SET LOCAL auditrum.context = '{{"user_id": "c{client}", "request_id": "r{i}"}}';
                       INSERT INTO notes (body) VALUES ('note {i}'); COMMIT;"#
                ))?;
                i += 1;
                written.fetch_add(1, Ordering::Relaxed);
            }
            Ok(())
        }));
    }
    {
        let (url, stop) = (primary_db.url().to_owned(), stop.clone());
        threads.push(std::thread::spawn(move || -> Result<(), BenchError> {
            let mut conn =
                PgConnection::establish(&url).map_err(|e| BenchError::Connect(e.to_string()))?;
            while !stop.load(Ordering::Relaxed) {
                chain::seal(&mut conn, &AuditConfig::default())?;
                std::thread::sleep(Duration::from_millis(200));
            }
            Ok(())
        }));
    }
    let started = Instant::now();
    let (mut bytes, mut millis, mut visible) = (Vec::new(), Vec::new(), Vec::new());
    // (when, the primary's newest event id then), waiting to be seen on the replica.
    let mut pending: std::collections::VecDeque<(Instant, i64)> = Default::default();
    while started.elapsed().as_secs_f64() < seconds {
        std::thread::sleep(Duration::from_millis(50));
        let sample: Sample = diesel::sql_query(
            "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), write_lsn)::bigint AS bytes,
                    extract(epoch FROM replay_lag)::float8 * 1000 AS millis
             FROM pg_stat_replication WHERE application_name = $1",
        )
        .bind::<diesel::sql_types::Text, _>(SUBSCRIPTION)
        .get_result::<Sample>(&mut primary)
        .optional()?
        .unwrap_or(Sample {
            bytes: None,
            millis: None,
        });
        bytes.extend(sample.bytes.map(|b| b as f64));
        millis.extend(sample.millis);
        pending.push_back((Instant::now(), newest(&mut primary)?));
        let seen = newest(&mut replica)?;
        while pending.front().is_some_and(|(_, id)| *id <= seen) {
            let (at, _) = pending.pop_front().expect("checked");
            visible.push(at.elapsed().as_secs_f64() * 1000.0);
        }
    }
    stop.store(true, Ordering::Relaxed);
    let elapsed = started.elapsed().as_secs_f64();
    for thread in threads {
        thread
            .join()
            .map_err(|_| BenchError::Run("a writer panicked".into()))??;
    }
    chain::seal(&mut primary, &config)?;
    let stopped = Instant::now();
    let events = measure::bigint(&mut primary, "SELECT count(*) FROM auditlog")?;
    wait_until(Duration::from_secs(120), || {
        Ok(measure::bigint(&mut replica, "SELECT count(*) FROM auditlog")? == events)
    })?;
    let catch_up = stopped.elapsed().as_secs_f64();
    let links = measure::bigint(&mut primary, "SELECT last_seq FROM auditlog_chain_state")?;
    wait_until(Duration::from_secs(60), || {
        Ok(measure::bigint(&mut replica, "SELECT last_seq FROM auditlog_chain_state")? == links)
    })?;
    if verbose {
        eprintln!("replica-lag: {events} events, {} samples", bytes.len());
    }
    let rate = written.load(Ordering::Relaxed) as f64 / elapsed;
    let mut out = format!(
        "audit replica lag: {clients} client(s), single-row INSERT transactions with context, \
         sealer every 200 ms, {elapsed:.0} s, {rate:.0} events/s written; two local clusters \
         (test settings: fsync off), debug={}\n\n\
         | measure | median | p95 | max |\n|---|---|---|---|\n",
        cfg!(debug_assertions)
    );
    for (name, values, unit) in [
        ("an event visible on the replica after", &mut visible, "ms"),
        ("walsender's replay_lag", &mut millis, "ms"),
        ("WAL not yet written by the subscriber", &mut bytes, "bytes"),
    ] {
        let (p50, p95, max) = percentiles(values);
        let _ = writeln!(out, "| {name} ({unit}) | {p50:.0} | {p95:.0} | {max:.0} |");
    }
    let _ = writeln!(
        out,
        "\nafter the load stopped, the replica held all {events} events within {:.0} ms",
        catch_up * 1000.0
    );
    Ok(out)
}

/// The newest event id in `conn`'s log (0 when empty).
fn newest(conn: &mut PgConnection) -> Result<i64, BenchError> {
    measure::bigint(conn, "SELECT coalesce(max(id), 0) FROM auditlog")
}

#[derive(QueryableByName)]
struct Sample {
    #[diesel(sql_type = Nullable<BigInt>)]
    bytes: Option<i64>,
    #[diesel(sql_type = Nullable<Double>)]
    millis: Option<f64>,
}

/// Median, 95th percentile and maximum (0 when there is no sample).
fn percentiles(values: &mut [f64]) -> (f64, f64, f64) {
    values.sort_by(f64::total_cmp);
    let v = values;
    let at = |q: f64| {
        v.get(((v.len() as f64 - 1.0) * q).round() as usize)
            .copied()
            .unwrap_or(0.0)
    };
    (at(0.5), at(0.95), at(1.0))
}

/// Drops the subscription (and the primary's slot) so both databases can be dropped.
struct DropSubscription(String);

impl Drop for DropSubscription {
    fn drop(&mut self) {
        if let Ok(mut conn) = PgConnection::establish(&self.0) {
            let _ = conn.batch_execute(&format!("ALTER SUBSCRIPTION {SUBSCRIPTION} DISABLE"));
            let _ = conn.batch_execute(&format!("DROP SUBSCRIPTION {SUBSCRIPTION}"));
        }
    }
}

fn wait_until(
    timeout: Duration,
    mut done: impl FnMut() -> Result<bool, BenchError>,
) -> Result<(), BenchError> {
    let deadline = Instant::now() + timeout;
    while !done()? {
        if Instant::now() > deadline {
            return Err(BenchError::Run(format!(
                "the replica did not catch up within {timeout:?}"
            )));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(())
}
