//! DuckDB reads the archive natively and answers as PostgreSQL did before archiving: the
//! count per month and one record's history, with who made each change.
//! Needs the `duckdb` Python package: `pip install duckdb`.

use std::path::Path;
use std::process::Command;

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text};
use serde_json::{json, Value};

use crate::{archivable, archive_dir, month, run_archive, verify};

const QUERIES: &str = include_str!("duckdb_queries.py");

/// What `duckdb_queries.py` answers (JSON) about the archive in `dir` and its record `key`.
pub fn duckdb_queries(dir: &Path, key: &str) -> Value {
    let out = run_python(
        dir,
        "duckdb_queries",
        QUERIES,
        &[dir.as_os_str(), key.as_ref()],
    );
    serde_json::from_slice(&out).unwrap()
}

/// Runs the Python `source` (written beside the archive `dir`, as `<name>_<pid>.py`) with
/// `args`; panics with its stderr when it fails. Returns its stdout.
fn run_python(dir: &Path, name: &str, source: &str, args: &[&std::ffi::OsStr]) -> Vec<u8> {
    let script = dir
        .join("..")
        .join(format!("{name}_{}.py", std::process::id()));
    std::fs::write(&script, source).unwrap();
    let out = Command::new("python3")
        .arg(&script)
        .args(args)
        .output()
        .expect("python3 runs");
    let _ = std::fs::remove_file(&script);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

#[derive(QueryableByName)]
struct Event {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = BigInt)]
    changed_at_us: i64,
    #[diesel(sql_type = Text)]
    operation: String,
    #[diesel(sql_type = Nullable<Text>)]
    diff: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    new_data: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    user_id: Option<String>,
}

/// Fails loudly when DuckDB for Python is not installed: this test must not pass silently.
pub fn require_duckdb() {
    let ok = Command::new("python3")
        .args(["-c", "import duckdb"])
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        ok,
        "DuckDB for Python is missing: provision it with `pip install duckdb` (python3 on PATH)"
    );
}

#[test]
fn duckdb_counts_and_one_records_history_match_postgresql() {
    require_duckdb();
    let (db, mut conn) = archivable(20_000);
    let month = month(&mut conn);
    let ours: Vec<Event> = diesel::sql_query(
        "SELECT e.id, (extract(epoch FROM e.changed_at) * 1000000)::bigint AS changed_at_us,
                e.operation::text AS operation, e.diff::text AS diff, e.new_data::text AS new_data,
                COALESCE(e.context, c.context) ->> 'user_id' AS user_id
         FROM auditlog e LEFT JOIN auditlog_context c ON c.id = e.context_id
         WHERE e.table_schema = 'public' AND e.table_name = 'notes' AND e.record_id = '42'
           AND e.changed_at < now() - interval '13 months'
         ORDER BY e.id",
    )
    .load(&mut conn)
    .unwrap();
    assert_eq!(ours.len(), 20, "record 42 has an event per thousand");
    let dir = archive_dir();
    let (code, text) = run_archive(&db, dir.path(), &[]);
    assert_eq!(code, Some(0), "{text}");

    let answer = duckdb_queries(dir.path(), "42");

    assert_eq!(answer["months"], json!([[month, 20_000]]));
    let expected: Vec<Value> = ours
        .iter()
        .map(|e| {
            json!([
                e.id,
                e.changed_at_us,
                e.operation,
                e.diff,
                e.new_data,
                e.user_id
            ])
        })
        .collect();
    assert_eq!(answer["history"], Value::Array(expected));
}

#[test]
fn a_row_rewritten_with_a_matching_manifest_is_found_by_the_chain() {
    require_duckdb();
    let (db, mut conn) = archivable(2_000);
    let month = month(&mut conn);
    let dir = archive_dir();
    let (code, text) = run_archive(&db, dir.path(), &[]);
    assert_eq!(code, Some(0), "{text}");
    let (code, text) = verify(&db, dir.path());
    assert_eq!(code, Some(0), "{text}");

    let events = dir
        .path()
        .join(format!("table=auditlog/month={month}/part-0.parquet"));
    let manifest = dir
        .path()
        .join(format!("_manifests/table=auditlog/month={month}.json"));
    run_python(
        dir.path(),
        "duckdb_rewrite",
        include_str!("duckdb_rewrite.py"),
        &[events.as_os_str(), manifest.as_os_str(), "700".as_ref()],
    );

    let (code, text) = verify(&db, dir.path());
    assert_eq!(code, Some(1), "{text}");
    assert!(
        !text.contains("changed file"),
        "the manifest matches the rewritten file: {text}"
    );
    // Event 700 is the 699th archived event (event 1 predates the chain): transaction 2 of
    // 500 events, link 2.
    assert!(
        text.contains("BROKEN link 2 (transaction")
            && text.contains("the archived events' hash differs"),
        "{text}"
    );
}
