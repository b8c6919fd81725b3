//! `sync` as a library call: concurrent runs apply each change once.

use std::sync::{Arc, Barrier};

use auditrum_diesel::sync::sync;
use auditrum_diesel::{AuditConfig, TrackSpec};
use auditrum_integration_tests::{count, events_of, exec};
use auditrum_testdb::TestDatabase;

use crate::registry;

#[test]
fn concurrent_syncs_apply_each_change_once() {
    let db = TestDatabase::new();
    let mut conn = db.connect();
    exec(
        &mut conn,
        "CREATE TABLE a (id int PRIMARY KEY, v int); CREATE TABLE b (id int PRIMARY KEY, v int)",
    );
    let specs = || {
        registry([
            TrackSpec::builder("a")
                .columns(["id", "v"])
                .build()
                .unwrap(),
            TrackSpec::builder("b")
                .columns(["id", "v"])
                .build()
                .unwrap(),
        ])
    };
    let barrier = Arc::new(Barrier::new(4));
    let runs: Vec<_> = (0..4)
        .map(|_| {
            let barrier = Arc::clone(&barrier);
            let mut conn = db.connect();
            let registry = specs();
            std::thread::spawn(move || {
                barrier.wait();
                sync(&mut conn, &registry, &AuditConfig::default()).unwrap()
            })
        })
        .collect();
    let reports: Vec<_> = runs.into_iter().map(|r| r.join().unwrap()).collect();
    let changes: usize = reports.iter().map(|r| r.changes().len()).sum();
    assert_eq!(changes, 3, "core + a + b, once in all: {reports:#?}");
    assert_eq!(count(&mut conn, "SELECT count(*) FROM auditlog_tracked"), 2);
    exec(
        &mut conn,
        "INSERT INTO a VALUES (1, 1); INSERT INTO b VALUES (1, 1)",
    );
    assert_eq!(events_of(&mut conn, "a").len(), 1, "one set of triggers");
    assert_eq!(events_of(&mut conn, "b").len(), 1);
}
