//! `history --archive` and `as-of --archive`: after archiving, a record's history and its
//! state at an instant are what they were before archiving, and what DuckDB reads from the
//! same files.

use serde_json::Value;

use crate::common::{cli, stderr, stdout};
use crate::duckdb::require_duckdb;
use crate::{archivable, archive_dir, run_archive, MONTH_START};

/// `args` (plus `extra`) as JSON.
fn json(db: &auditrum_testdb::TestDatabase, args: &[&str], extra: &[&str]) -> Value {
    let all: Vec<&str> = args.iter().chain(extra).copied().collect();
    let out = cli(&all, Some(db.url()));
    assert!(out.status.success(), "{all:?}: {}", stderr(&out));
    serde_json::from_str(&stdout(&out)).unwrap_or_else(|e| panic!("{all:?}: {e}"))
}

/// Microseconds since the epoch of an RFC 3339 instant.
fn micros(instant: &Value) -> i64 {
    chrono::DateTime::parse_from_rfc3339(instant.as_str().unwrap())
        .unwrap()
        .timestamp_micros()
}

#[test]
fn history_and_as_of_with_the_archive_answer_as_before_archiving_and_as_duckdb() {
    require_duckdb();
    let (db, mut conn) = archivable(5_000);
    // Instants inside the archived month, and one after it.
    let instants: Vec<String> = ["2 days 1 second", "20 days", "2 months"]
        .iter()
        .map(|after| {
            crate::common::text(
                &mut conn,
                &format!(
                    "to_char(({MONTH_START} + interval '{after}') AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
                ),
            )
        })
        .collect();
    // Record 42 lives only in the archived month; record 1 also has a live event.
    let keys = ["42", "1"];
    let history = |key: &str, extra: &[&str]| {
        json(&db, &["history", "notes", key, "--format", "json"], extra)
    };
    let as_of = |key: &str, at: &str, extra: &[&str]| {
        json(&db, &["as-of", "notes", at, "--key", key], extra)
    };
    let before: Vec<Value> = keys.iter().map(|k| history(k, &[])).collect();
    let states: Vec<Value> = instants.iter().map(|at| as_of("42", at, &[])).collect();
    assert_eq!(before[0].as_array().unwrap().len(), 5, "{}", before[0]);
    assert!(
        states[1].is_object(),
        "record 42 existed then: {}",
        states[1]
    );

    let dir = archive_dir();
    let (code, text) = run_archive(&db, dir.path(), &[]);
    assert_eq!(code, Some(0), "{text}");
    let location = dir.path().to_str().unwrap();
    let archive = ["--archive", location];

    // Without the archive the old events are gone; with it, every answer is as before.
    assert_eq!(history("42", &[]), Value::Array(Vec::new()));
    for (key, was) in keys.iter().zip(&before) {
        assert_eq!(&history(key, &archive), was, "history of {key}");
    }
    let live_only = before[1].as_array().unwrap().last().unwrap()["id"].clone();
    assert_eq!(
        history("1", &[])[0]["id"],
        live_only,
        "record 1's live event stays"
    );
    for (at, was) in instants.iter().zip(&states) {
        assert_eq!(&as_of("42", at, &archive), was, "as-of {at}");
    }

    // DuckDB reads the same history from the files.
    let duck = crate::duckdb::duckdb_queries(dir.path(), "42");
    let text_json = |v: &Value| match v.as_str() {
        Some(text) => serde_json::from_str::<Value>(text).unwrap(),
        None => Value::Null,
    };
    let theirs: Vec<Value> = duck["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            serde_json::json!([
                row[0],
                row[1],
                row[2],
                text_json(&row[3]),
                text_json(&row[4]),
                row[5]
            ])
        })
        .collect();
    let ours: Vec<Value> = history("42", &archive)
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            serde_json::json!([
                e["id"],
                micros(&e["changed_at"]),
                e["operation"],
                e["diff"],
                e["new_data"],
                e["context"]["user_id"]
            ])
        })
        .collect();
    assert_eq!(ours, theirs);

    // Without the archive's files, a clear error (exit 2), not a shorter history.
    let out = cli(
        &[
            "history",
            "notes",
            "42",
            "--archive",
            "/nonexistent/archive",
        ],
        Some(db.url()),
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("no archive manifest"),
        "{}",
        stderr(&out)
    );
}
