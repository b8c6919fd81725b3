//! The `auditrum-diesel` binary, run as a process against a real PostgreSQL: what it does to
//! the database, what it prints and its exit codes.

mod common;

use auditrum_testdb::TestDatabase;
use common::{cli, count, stderr};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use serde_json::Value;

fn database_with_users() -> (TestDatabase, PgConnection) {
    let db = TestDatabase::new();
    let mut conn = db.connect();
    conn.batch_execute("CREATE TABLE users (id int PRIMARY KEY, email text, password_hash text)")
        .unwrap();
    (db, conn)
}

#[test]
fn init_schema_track_write_and_history() {
    let (db, mut conn) = database_with_users();
    for _ in 0..2 {
        let init = cli(&["init-schema"], Some(db.url()));
        assert!(init.status.success(), "{}", stderr(&init));
    }
    let track = cli(
        &["track", "users", "--exclude", "password_hash"],
        Some(db.url()),
    );
    assert!(track.status.success(), "{}", stderr(&track));
    conn.batch_execute(
        r#"INSERT INTO users VALUES (1, 'a@x.org', 'h1');
           BEGIN;
           SET LOCAL auditrum.context = '{"user_id": "alice", "change_reason": "typo"}';
           UPDATE users SET email = 'b@x.org', password_hash = 'h2';
           COMMIT;"#,
    )
    .unwrap();

    let json = cli(
        &["history", "users", "1", "--format", "json"],
        Some(db.url()),
    );
    assert_eq!(json.status.code(), Some(0), "{}", stderr(&json));
    let events: Value = serde_json::from_slice(&json.stdout).expect("history prints JSON");
    let events = events.as_array().expect("an array");
    assert_eq!(events.len(), 2);
    assert_eq!(events[0]["operation"], "INSERT");
    assert_eq!(events[0]["table"], "users");
    assert_eq!(events[0]["record_id"], "1");
    assert_eq!(events[0]["context"], Value::Null);
    assert_eq!(
        events[0]["new_data"],
        serde_json::json!({"id": 1, "email": "a@x.org"})
    );
    assert_eq!(events[1]["operation"], "UPDATE");
    assert_eq!(
        events[1]["diff"],
        serde_json::json!({"email": {"old": "a@x.org", "new": "b@x.org"}})
    );
    assert_eq!(events[1]["context"]["change_reason"], "typo");
    assert!(events[0]["id"].as_i64().unwrap() < events[1]["id"].as_i64().unwrap());
    assert!(events[0]["changed_at"].as_str().unwrap().contains('T'));

    let text = cli(&["history", "users", "1"], Some(db.url()));
    assert_eq!(text.status.code(), Some(0));
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(text.contains("UPDATE"), "{text}");
    assert!(text.contains(r#"email: "a@x.org" → "b@x.org""#), "{text}");
    assert!(
        text.contains("by: alice") && text.contains("reason: typo"),
        "{text}"
    );
}

#[test]
fn untrack_removes_the_triggers_and_keeps_the_events() {
    let (db, mut conn) = database_with_users();
    assert!(cli(&["init-schema"], Some(db.url())).status.success());
    assert!(cli(&["track", "users"], Some(db.url())).status.success());
    conn.batch_execute("INSERT INTO users VALUES (1, 'a', 'h')")
        .unwrap();
    let untrack = cli(&["untrack", "users"], Some(db.url()));
    assert!(untrack.status.success(), "{}", stderr(&untrack));
    conn.batch_execute("INSERT INTO users VALUES (2, 'b', 'h')")
        .unwrap();
    assert_eq!(count(&mut conn, "SELECT count(*) FROM auditlog"), 1);
    assert_eq!(
        count(
            &mut conn,
            "SELECT count(*) FROM pg_trigger WHERE tgrelid = 'users'::regclass"
        ),
        0
    );
}

#[test]
fn dry_run_prints_sql_and_changes_nothing() {
    let (db, mut conn) = database_with_users();
    let init = cli(&["init-schema", "--dry-run"], Some(db.url()));
    assert!(init.status.success());
    assert!(String::from_utf8_lossy(&init.stdout).contains("PARTITION BY RANGE (changed_at)"));
    assert_eq!(
        count(
            &mut conn,
            "SELECT count(*) FROM pg_class WHERE relname = 'auditlog'"
        ),
        0
    );
    // Without a database the column list comes from the arguments.
    let track = cli(
        &["track", "app.users", "--track-only", "email", "--dry-run"],
        None,
    );
    assert!(track.status.success(), "{}", stderr(&track));
    assert!(String::from_utf8_lossy(&track.stdout).contains(r#"AFTER UPDATE ON "app"."users""#));
}

#[test]
fn bad_arguments_exit_2_with_one_line() {
    let (db, _conn) = database_with_users();
    assert!(cli(&["init-schema"], Some(db.url())).status.success());
    let cases: &[&[&str]] = &[
        &["track", "users", "--track-only", "email", "--exclude", "id"],
        &["track", "users", "--track-only", "nope"],
        &["track", "missing_table"],
        &["track", "a.b.c"],
        &["history", "users", "1", "--format", "xml"],
        &["no-such-command"],
    ];
    for args in cases {
        let output = cli(args, Some(db.url()));
        assert_eq!(
            output.status.code(),
            Some(2),
            "{args:?}: {}",
            stderr(&output)
        );
        assert!(
            !stderr(&output).trim().is_empty(),
            "{args:?} explains itself"
        );
    }
    let unknown = cli(&["track", "users", "--track-only", "nope"], Some(db.url()));
    assert_eq!(stderr(&unknown).trim().lines().count(), 1);
    assert!(
        stderr(&unknown).contains("unknown column `nope`"),
        "{}",
        stderr(&unknown)
    );
    let missing = cli(&["track", "missing_table"], Some(db.url()));
    assert!(
        stderr(&missing).contains("does not exist"),
        "{}",
        stderr(&missing)
    );
}

#[test]
fn an_unreachable_database_exits_2_with_one_line() {
    let output = cli(
        &["history", "users", "1"],
        Some("postgres://nobody@127.0.0.1:1/none"),
    );
    assert_eq!(output.status.code(), Some(2));
    let message = stderr(&output);
    assert_eq!(message.trim().lines().count(), 1, "{message}");
    assert!(
        message.contains("cannot connect to the database"),
        "{message}"
    );
    let none = cli(&["init-schema"], None);
    assert_eq!(none.status.code(), Some(2));
    assert!(stderr(&none).contains("DATABASE_URL"));
}
