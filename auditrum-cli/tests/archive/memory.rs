//! The archive's memory stays flat in the partition's size: peak RSS of the `archive`
//! process for 100k and 400k events. Also prints the throughput and the bytes per event
//! in Parquet and in PostgreSQL (the numbers in docs/scaling.md).

use std::process::Command;
use std::time::{Duration, Instant};

use crate::common::count;
use crate::{archivable, archive_dir, month};

struct Measured {
    peak_rss_kib: u64,
    seconds: f64,
    parquet_bytes: u64,
    postgres_bytes: i64,
}

/// Peak RSS (VmHWM) of a child, polled from /proc until it exits.
fn run_measured(db: &auditrum_testdb::TestDatabase, to: &str) -> (u64, f64) {
    let start = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_auditrum-diesel"))
        .args(["archive", "--older-than", "13 months", "--to", to])
        .env("DATABASE_URL", db.url())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let status_file = format!("/proc/{}/status", child.id());
    let mut peak = 0u64;
    loop {
        if let Ok(status) = std::fs::read_to_string(&status_file) {
            if let Some(line) = status.lines().find(|l| l.starts_with("VmHWM:")) {
                let kib: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
                peak = peak.max(kib);
            }
        }
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success());
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    (peak, start.elapsed().as_secs_f64())
}

fn measure(events: usize) -> Measured {
    let (db, mut conn) = archivable(events);
    let partition = format!("auditlog_p{}", month(&mut conn).replace('-', ""));
    // The partition with its indexes, and the context rows of its events.
    let postgres_bytes = count(
        &mut conn,
        &format!("SELECT pg_total_relation_size('{partition}')"),
    ) + count(
        &mut conn,
        "SELECT pg_total_relation_size('auditlog_context')",
    ) + count(&mut conn, "SELECT pg_total_relation_size('auditlog_chain')");
    let dir = archive_dir();
    let (peak_rss_kib, seconds) = run_measured(&db, dir.path().to_str().unwrap());
    let parquet_bytes = walk(dir.path());
    Measured {
        peak_rss_kib,
        seconds,
        parquet_bytes,
        postgres_bytes,
    }
}

fn walk(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| {
            if p.is_dir() {
                walk(&p)
            } else if p.extension().is_some_and(|x| x == "parquet") {
                p.metadata().unwrap().len()
            } else {
                0
            }
        })
        .sum()
}

#[test]
fn archive_memory_is_flat_in_the_partitions_size() {
    let small = measure(100_000);
    let large = measure(400_000);
    for (n, m) in [(100_000f64, &small), (400_000f64, &large)] {
        eprintln!(
            "archive of {n} events: peak RSS {} KiB, {:.1} s ({:.0} events/s), Parquet {:.1} bytes/event, PostgreSQL {:.1} bytes/event",
            m.peak_rss_kib,
            m.seconds,
            n / m.seconds,
            m.parquet_bytes as f64 / n,
            m.postgres_bytes as f64 / n,
        );
    }
    // Four times the events: the peak grows by less than a quarter (not 4x).
    assert!(
        (large.peak_rss_kib as f64) < small.peak_rss_kib as f64 * 1.25,
        "peak RSS {} KiB at 400k events vs {} KiB at 100k",
        large.peak_rss_kib,
        small.peak_rss_kib
    );
}
