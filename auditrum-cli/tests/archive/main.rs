//! `archive` and `verify-chain --archive` run as processes against a real PostgreSQL, with
//! the archive read back by DuckDB (the `duckdb` Python package: `pip install duckdb`).

#[path = "../common/mod.rs"]
mod common;

mod dir;
mod duckdb;
mod interrupted;
mod read;
mod redacted;
mod s3;

use std::path::{Path, PathBuf};

use auditrum_testdb::TestDatabase;
use diesel::connection::SimpleConnection;
use diesel::PgConnection;

use common::{cli, stderr, stdout};

/// The archived month: 14 months ago (UTC), older than `--older-than '13 months'`.
pub const MONTH_START: &str =
    "((date_trunc('month', now() AT TIME ZONE 'UTC') - interval '14 months') AT TIME ZONE 'UTC')";

/// A database with an audited `notes` table, the hash chain on, one event from before the
/// chain, `events` events 14 months ago in transactions of 500 (each with its own context,
/// holding characters JSON escapes), a partition for that month and for the month after,
/// and one live event now; everything sealed.
pub fn archivable(events: usize) -> (TestDatabase, PgConnection) {
    let db = TestDatabase::new();
    let mut conn = db.connect();
    conn.batch_execute("CREATE TABLE notes (id int PRIMARY KEY, body text)")
        .unwrap();
    for args in [&["init-schema"][..], &["track", "notes"]] {
        let out = cli(args, Some(db.url()));
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
    }
    conn.batch_execute("INSERT INTO notes VALUES (0, 'before the chain')")
        .unwrap();
    let out = cli(&["enable-hash-chain"], Some(db.url()));
    assert!(out.status.success(), "{}", stderr(&out));
    conn.batch_execute(&format!(
        "DO $$ DECLARE m timestamptz := {MONTH_START}; BEGIN
           FOR i IN 0..1 LOOP
             EXECUTE format('CREATE TABLE auditlog_p%s PARTITION OF auditlog FOR VALUES FROM (%L) TO (%L)',
               to_char((m AT TIME ZONE 'UTC') + make_interval(months => i), 'YYYYMM'),
               m + make_interval(months => i), m + make_interval(months => i + 1));
           END LOOP; END $$;"
    ))
    .unwrap();
    let per = 500;
    for t in 0..events.div_ceil(per) {
        let (from, to) = (t * per + 1, ((t + 1) * per).min(events));
        conn.batch_execute(&format!(
            r#"BEGIN;
               SET LOCAL auditrum.context = '{{"user_id": "u{t}", "request_id": "r{t}", "note": "tab\t quote\" é"}}';
               INSERT INTO auditlog (changed_at, operation, table_schema, table_name, record_id, diff, new_data, txid, context_id)
               SELECT {MONTH_START} + make_interval(days => {t} % 27, secs => {t}),
                      (CASE WHEN g % 3 = 0 THEN 'UPDATE' ELSE 'INSERT' END)::auditrum_operation,
                      'public', 'notes', (g % 1000)::text,
                      CASE WHEN g % 3 = 0 THEN jsonb_build_object('body', jsonb_build_object('old', 'a', 'new', 'b' || g)) END,
                      jsonb_build_object('id', g % 1000, 'body', 'n' || g || E'\n"x"\\'),
                      txid_current(), auditlog_context_id()
               FROM generate_series({from}, {to}) g;
               -- As a genuine transaction of that day: its events and its context row
               -- carry one instant (verify-chain reports anything else as backdated).
               UPDATE auditlog_context SET created_at = {MONTH_START} + make_interval(days => {t} % 27, secs => {t})
                WHERE txid = txid_current();
               COMMIT;"#
        ))
        .unwrap();
    }
    conn.batch_execute("INSERT INTO notes VALUES (1, 'live')")
        .unwrap();
    let out = cli(&["seal-chain"], Some(db.url()));
    assert!(out.status.success(), "{}", stderr(&out));
    (db, conn)
}

/// A fresh archive directory for a test.
pub fn archive_dir() -> tempfile::TempDir {
    tempfile::tempdir().expect("a temporary directory")
}

/// `archive --older-than '13 months' --to DIR` plus `extra`; (exit code, output).
pub fn run_archive(db: &TestDatabase, dir: &Path, extra: &[&str]) -> (Option<i32>, String) {
    let mut args = vec![
        "archive",
        "--older-than",
        "13 months",
        "--to",
        dir.to_str().unwrap(),
    ];
    args.extend(extra);
    let out = cli(&args, Some(db.url()));
    (out.status.code(), stdout(&out) + &stderr(&out))
}

/// `verify-chain --archive DIR`; (exit code, output).
pub fn verify(db: &TestDatabase, dir: &Path) -> (Option<i32>, String) {
    let out = cli(
        &["verify-chain", "--archive", dir.to_str().unwrap()],
        Some(db.url()),
    );
    (out.status.code(), stdout(&out) + &stderr(&out))
}

/// The archived month's events file.
pub fn events_file(dir: &Path, conn: &mut PgConnection) -> PathBuf {
    dir.join(format!(
        "table=auditlog/month={}/part-0.parquet",
        month(conn)
    ))
}

/// The archived month, `YYYY-MM`.
pub fn month(conn: &mut PgConnection) -> String {
    use diesel::prelude::*;
    #[derive(QueryableByName)]
    struct M {
        #[diesel(sql_type = diesel::sql_types::Text)]
        m: String,
    }
    diesel::sql_query(format!(
        "SELECT to_char({MONTH_START} AT TIME ZONE 'UTC', 'YYYY-MM') AS m"
    ))
    .get_result::<M>(conn)
    .unwrap()
    .m
}
