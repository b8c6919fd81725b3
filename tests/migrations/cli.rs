//! An application's own audit binary (`tests/app`: one model, one `register!`), run as a
//! process: `makemigrations`, its `--check` exit codes, and `sync`.

use std::path::Path;
use std::process::{Command, Output};

use auditrum_diesel::migrations::Generator;
use auditrum_diesel::{apply, AuditConfig, TrackSpec};
use auditrum_integration_tests::{count, events_of, exec};
use auditrum_testdb::TestDatabase;

use crate::{at, folders, registry};

fn app(args: &[&str], database_url: Option<&str>) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_audit-test-app"));
    command
        .args(args)
        .env_remove("DATABASE_URL")
        .env_remove("MIGRATION_DIRECTORY");
    if let Some(url) = database_url {
        command.env("DATABASE_URL", url);
    }
    command.output().expect("the app's audit binary runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn makemigrations(dir: &Path, extra: &[&str]) -> Output {
    let mut args = vec!["makemigrations", "--dir", dir.to_str().unwrap()];
    args.extend_from_slice(extra);
    app(&args, None)
}

#[test]
fn check_exits_1_on_stale_migrations_and_0_when_they_are_fresh() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("migrations");

    let stale = makemigrations(&dir, &["--check"]);
    assert_eq!(stale.status.code(), Some(1), "{}", stderr(&stale));
    let list = stdout(&stale);
    for line in [
        "are stale: 3 change(s) to write",
        "+ public.auditlog: the audit log's core schema",
        "+ public.legacy_events: newly audited (2 column(s))",
        "+ public.users: newly audited (3 column(s))",
    ] {
        assert!(list.contains(line), "{line:?} missing from:\n{list}");
    }
    assert!(
        stderr(&stale).contains("run `makemigrations`"),
        "{}",
        stderr(&stale)
    );
    assert!(!dir.exists(), "--check writes nothing");

    let made = makemigrations(&dir, &[]);
    assert_eq!(made.status.code(), Some(0), "{}", stderr(&made));
    assert_eq!(
        stdout(&made).matches("wrote ").count(),
        3,
        "{}",
        stdout(&made)
    );
    let written = folders(&dir);
    assert_eq!(written.len(), 3);
    assert!(written[0].ends_with("_auditrum_core"), "{written:?}");

    let fresh = makemigrations(&dir, &["--check"]);
    assert_eq!(fresh.status.code(), Some(0), "{}", stderr(&fresh));
    assert!(stdout(&fresh).contains("up to date"), "{}", stdout(&fresh));
    let again = makemigrations(&dir, &[]);
    assert_eq!(again.status.code(), Some(0));
    assert_eq!(folders(&dir), written, "nothing changed, nothing written");

    // Migrations written from another registry (a branch where `users` changed and the
    // legacy table was dropped): the app's registry now differs from what they install.
    let other = TrackSpec::builder("users")
        .columns(["id", "email", "name", "password_hash"])
        .track_only(["email"])
        .build()
        .unwrap();
    Generator::new(&dir, registry([other]))
        .generate(at("2030-01-01T00:00:00Z"))
        .unwrap_or_else(|e| panic!("{e}"));
    let drift = makemigrations(&dir, &["--check"]);
    assert_eq!(drift.status.code(), Some(1));
    let list = stdout(&drift);
    assert!(list.contains("are stale: 2 change(s)"), "{list}");
    assert!(
        list.contains("+ public.legacy_events: newly audited"),
        "{list}"
    );
    assert!(
        list.contains("~ public.users: spec changed (exclude, track_only)"),
        "{list}"
    );
}

#[test]
fn a_bad_migration_name_is_an_error_exit_2() {
    let root = tempfile::tempdir().unwrap();
    let out = makemigrations(root.path(), &["--name", "two words"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("invalid migration name"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn sync_installs_replaces_and_removes_then_has_nothing_to_do() {
    let db = TestDatabase::new();
    let mut conn = db.connect();
    exec(
        &mut conn,
        "CREATE TABLE users (id int PRIMARY KEY, email text, name text, password_hash text);
         CREATE TABLE legacy_events (id int PRIMARY KEY, kind text, payload text);
         CREATE TABLE other (id int PRIMARY KEY, v int);",
    );

    let first = app(&["sync"], Some(db.url()));
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    assert!(
        stdout(&first).starts_with("3 change(s):"),
        "{}",
        stdout(&first)
    );
    exec(&mut conn, "INSERT INTO users VALUES (1, 'a@x', 'Ann', 'h')");
    let users = events_of(&mut conn, "users");
    assert_eq!(users.len(), 1);
    assert_eq!(
        users[0].new_data,
        Some(serde_json::json!({"id": 1, "email": "a@x", "name": "Ann"}))
    );

    let second = app(&["sync"], Some(db.url()));
    assert_eq!(second.status.code(), Some(0));
    assert!(
        stdout(&second).contains("in line with the registry"),
        "{}",
        stdout(&second)
    );

    // Drift: `users` under another spec, and a table the app does not register.
    let config = AuditConfig::default();
    let narrowed = TrackSpec::builder("users")
        .track_only(["email"])
        .build()
        .unwrap();
    apply::install(&mut conn, &narrowed, &config).unwrap();
    let other = TrackSpec::builder("other")
        .track_only(["v"])
        .build()
        .unwrap();
    apply::install(&mut conn, &other, &config).unwrap();

    let dry = app(&["sync", "--dry-run"], Some(db.url()));
    assert_eq!(dry.status.code(), Some(0));
    assert!(stdout(&dry).contains("~ public.users"), "{}", stdout(&dry));
    assert!(stdout(&dry).contains("- public.other"), "{}", stdout(&dry));
    exec(&mut conn, "UPDATE users SET name = 'Anne'");
    assert_eq!(
        events_of(&mut conn, "users").len(),
        1,
        "dry run changed nothing"
    );

    let third = app(&["sync"], Some(db.url()));
    assert_eq!(third.status.code(), Some(0), "{}", stderr(&third));
    assert!(
        stdout(&third).starts_with("2 change(s):"),
        "{}",
        stdout(&third)
    );
    exec(
        &mut conn,
        "UPDATE users SET name = 'Annie'; INSERT INTO other VALUES (1, 1)",
    );
    assert_eq!(events_of(&mut conn, "users").len(), 2, "name tracked again");
    assert_eq!(
        events_of(&mut conn, "other").len(),
        0,
        "other no longer tracked"
    );
    assert_eq!(count(&mut conn, "SELECT count(*) FROM auditlog_tracked"), 2);
}
