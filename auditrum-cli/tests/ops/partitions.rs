//! `add-partitions`.

use std::thread;

use diesel::connection::SimpleConnection;

use crate::audited_notes;
use crate::common::{cli, count, stderr, stdout};

#[test]
fn two_runs_at_once_with_rows_waiting_in_default_lose_nothing() {
    let (db, mut conn) = audited_notes();
    // Drop this month's partition: this month's events land in DEFAULT.
    conn.batch_execute(
        "DO $$ BEGIN EXECUTE format('DROP TABLE auditlog_p%s', to_char(now() AT TIME ZONE 'UTC', 'YYYYMM')); END $$;
         INSERT INTO notes SELECT g, 'x' FROM generate_series(1, 500) g;",
    )
    .unwrap();
    assert_eq!(
        count(&mut conn, "SELECT count(*) FROM auditlog_default"),
        500
    );
    let ids_before = count(&mut conn, "SELECT sum(id) FROM auditlog");

    let runs: Vec<_> = (0..2)
        .map(|_| {
            let url = db.url().to_owned();
            thread::spawn(move || cli(&["add-partitions", "--months", "3"], Some(&url)))
        })
        .collect();
    for run in runs {
        let out = run.join().unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    }

    assert_eq!(
        count(&mut conn, "SELECT count(*) FROM auditlog"),
        500,
        "no row lost"
    );
    assert_eq!(
        count(&mut conn, "SELECT sum(id) FROM auditlog"),
        ids_before,
        "ids kept"
    );
    assert_eq!(count(&mut conn, "SELECT count(*) FROM auditlog_default"), 0);
    let this_month = "SELECT count(*) FROM auditlog WHERE tableoid::regclass::text = \
                      'auditlog_p' || to_char(now() AT TIME ZONE 'UTC', 'YYYYMM')";
    assert_eq!(
        count(&mut conn, this_month),
        500,
        "rows are in their month's partition"
    );
    // Current month + 3 ahead + DEFAULT.
    assert_eq!(
        count(
            &mut conn,
            "SELECT count(*) FROM pg_inherits WHERE inhparent = 'auditlog'::regclass"
        ),
        5
    );
    // A third run creates nothing.
    let again = cli(
        &["add-partitions", "--months", "3", "--format", "json"],
        Some(db.url()),
    );
    let report: serde_json::Value = serde_json::from_str(&stdout(&again)).unwrap();
    assert_eq!(report["created"], 0);
}

#[test]
fn bad_arguments_exit_2() {
    let (db, _conn) = audited_notes();
    let out = cli(&["add-partitions", "--months", "-1"], Some(db.url()));
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}
