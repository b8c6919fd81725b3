//! Every command that touches the log, on a log under another name in another schema
//! (`--audit-table audit.events`): each reads and writes that log, and the default
//! `public.auditlog` never appears.

mod common;

use std::process::Output;

use auditrum_testdb::TestDatabase;
use common::{count, get, serve, stderr, stdout};
use diesel::connection::SimpleConnection;
use serde_json::Value;

const LOG: &str = "audit.events";

/// `auditrum-diesel --audit-table audit.events ARGS` against `db`.
fn run(db: &TestDatabase, args: &[&str]) -> Output {
    let mut all = vec!["--audit-table", LOG];
    all.extend_from_slice(args);
    common::cli(&all, Some(db.url()))
}

/// [`run`], asserting exit code `code`; its stdout.
fn expect(db: &TestDatabase, code: i32, args: &[&str]) -> String {
    let output = run(db, args);
    assert_eq!(
        output.status.code(),
        Some(code),
        "{args:?}\nstdout: {}\nstderr: {}",
        stdout(&output),
        stderr(&output)
    );
    stdout(&output)
}

fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

#[test]
fn every_command_works_on_a_log_in_another_schema() {
    let db = TestDatabase::new();
    let mut conn = db.connect();
    conn.batch_execute(
        "CREATE SCHEMA audit;
         CREATE TABLE users (id int PRIMARY KEY, email text, name text);",
    )
    .unwrap();

    expect(&db, 0, &["init-schema"]);
    let missing = "SELECT count(*) FROM pg_class WHERE relname = 'auditlog'";
    assert_eq!(count(&mut conn, missing), 0, "no default log");
    expect(&db, 0, &["add-partitions", "--months", "2"]);
    assert!(
        count(
            &mut conn,
            "SELECT count(*) FROM pg_inherits WHERE inhparent = 'audit.events'::regclass"
        ) >= 4,
        "DEFAULT, this month and 2 ahead"
    );
    expect(&db, 0, &["track", "users"]);
    expect(&db, 0, &["enable-hash-chain"]);
    conn.batch_execute(
        r#"INSERT INTO users VALUES (1, 'a@x', 'Ann'), (2, 'b@x', 'Bob');
           BEGIN;
           SET LOCAL auditrum.context = '{"user_id": "alice", "change_reason": "typo", "request_id": "r-1"}';
           UPDATE users SET email = 'a@y' WHERE id = 1;
           COMMIT;"#,
    )
    .unwrap();
    assert_eq!(count(&mut conn, "SELECT count(*) FROM audit.events"), 3);

    let history = json(&expect(
        &db,
        0,
        &["history", "users", "1", "--format", "json"],
    ));
    assert_eq!(history.as_array().unwrap().len(), 2);
    assert_eq!(history[1]["context"]["change_reason"], "typo");
    let blame = json(&expect(
        &db,
        0,
        &["blame", "users", "1", "email", "--format", "json"],
    ));
    assert_eq!(blame.as_array().unwrap().last().unwrap()["new"], "a@y");
    let now = expect(&db, 0, &["as-of", "users", "now", "--key", "1"]);
    assert!(now.contains("a@y"), "{now}");

    expect(&db, 0, &["seal-chain"]);
    let tip = json(&expect(&db, 0, &["chain-tip"]));
    let verified = json(&expect(&db, 0, &["verify-chain", "--format", "json"]));
    assert_eq!(verified["breaks"], Value::Array(vec![]));
    assert_eq!(verified["chained_events"], 3, "{verified}");
    assert_eq!(verified["unsealed"], 0, "{verified}");
    assert_eq!(verified["tip"]["seq"], tip["seq"]);
    let status = json(&expect(&db, 0, &["status", "--format", "json"]));
    assert!(status.to_string().contains("events"), "{status}");
    expect(&db, 0, &["verify-history"]);

    // Revert the typo fix through the audited path: it lands in audit.events too.
    let fix = count(&mut conn, "SELECT max(id) FROM audit.events");
    expect(&db, 0, &["revert", "--event", &fix.to_string()]);
    assert_eq!(
        count(&mut conn, "SELECT count(*) FROM users WHERE email = 'a@x'"),
        1
    );
    assert_eq!(count(&mut conn, "SELECT count(*) FROM audit.events"), 4);

    let purge = json(&expect(
        &db,
        0,
        &[
            "purge",
            "--older-than",
            "1 day",
            "--dry-run",
            "--format",
            "json",
        ],
    ));
    assert_eq!(purge["deleted_events"], 0);
    let archive_dir = tempfile::tempdir().unwrap();
    let archived = json(&expect(
        &db,
        0,
        &[
            "archive",
            "--older-than",
            "1 day",
            "--to",
            archive_dir.path().to_str().unwrap(),
            "--format",
            "json",
        ],
    ));
    assert_eq!(archived["months"], Value::Array(vec![]), "nothing that old");
    let harden = expect(&db, 0, &["harden", "--app-role", "app_role", "--dry-run"]);
    assert!(harden.contains(r#""audit"."events""#), "{harden}");
    assert!(harden.contains(r#""audit"."events_context""#), "{harden}");

    // The viewer reads audit.events: the list shows its events, /metrics counts them.
    serve_lists_the_events(&db);

    // Without models linked, sync would untrack users: it read this log's registry.
    let sync = run(&db, &["sync", "--dry-run"]);
    assert_eq!(sync.status.code(), Some(2));
    assert!(stderr(&sync).contains("1 table(s)"), "{}", stderr(&sync));
    let plan = expect(&db, 0, &["sync", "--dry-run", "--allow-empty"]);
    assert!(plan.contains("users"), "{plan}");
    let migrations = tempfile::tempdir().unwrap();
    expect(
        &db,
        0,
        &[
            "makemigrations",
            "--dir",
            migrations.path().to_str().unwrap(),
            "--allow-empty",
        ],
    );
    let written: String = std::fs::read_dir(migrations.path())
        .unwrap()
        .flat_map(|dir| std::fs::read_dir(dir.unwrap().path()).unwrap())
        .map(|file| std::fs::read_to_string(file.unwrap().path()).unwrap())
        .collect();
    assert!(written.contains(r#""audit"."events""#), "{written}");
    assert!(!written.contains("auditlog"), "{written}");

    expect(&db, 0, &["untrack", "users"]);
    conn.batch_execute("UPDATE users SET name = 'untracked'")
        .unwrap();
    assert_eq!(count(&mut conn, "SELECT count(*) FROM audit.events"), 4);
    assert_eq!(count(&mut conn, missing), 0, "still no default log");
}

/// `serve --audit-table audit.events`: the list shows the log's 4 events.
fn serve_lists_the_events(db: &TestDatabase) {
    let (mut child, address) = serve(db, &["--audit-table", LOG, "--bind", "127.0.0.1:0"]);
    let (status, list) = get(&address, "/", None);
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(status.starts_with("HTTP/1.1 200"), "{status}");
    assert_eq!(list.matches("<tr class=\"event\"").count(), 4, "{list}");
}
