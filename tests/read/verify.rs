//! verify-history: a clean log verifies; writes made with the triggers off are found.

use auditrum_diesel::read::{verify_history, VerifyOptions};
use auditrum_diesel::{AuditConfig, TrackSpec};
use auditrum_integration_tests::{exec, on_both_logs, track_with};
use serde_json::{json, Value};

use crate::models::database;

/// A finding's key, column, expected and found value.
type Seen = (String, Option<String>, Option<Value>, Option<Value>);

fn options(table: Option<&str>) -> VerifyOptions {
    VerifyOptions {
        table: table.map(str::to_owned),
        allow_unlogged: false,
    }
}

on_both_logs!(
    #[test]
    a_clean_history_verifies
);
fn a_clean_history_verifies(config: AuditConfig) {
    let (_db, mut conn) = database(&config);
    exec(
        &mut conn,
        "INSERT INTO users (id, email, name) SELECT g, 'e' || g, 'n' FROM generate_series(1, 2500) g;
         UPDATE users SET karma = id WHERE id % 2 = 0;
         UPDATE users SET id = id + 10000 WHERE id % 100 = 0;
         DELETE FROM users WHERE id % 3 = 0;
         INSERT INTO users (id, email, name) VALUES (3, 'back', 'again');
         UPDATE users SET password_hash = 'changed';
         INSERT INTO app.memberships VALUES (1, 1, 'member', NULL);
         UPDATE app.memberships SET note = 'untracked', role = 'owner';",
    );
    let report = verify_history(&mut conn, &config, &options(None)).unwrap();
    assert_eq!(report.findings, [], "{:#?}", report.findings);
    assert_eq!(report.tables.len(), 2);
    let users = report
        .tables
        .iter()
        .find(|t| t.table == "public.users")
        .unwrap();
    assert_eq!(
        users.records, 2500,
        "one per row; key 3, deleted and re-inserted, is one"
    );
    assert_eq!(users.events, 2500 + 1250 + 25 + 833 + 1);
}

on_both_logs!(
    #[test]
    writes_with_the_triggers_off_are_found
);
fn writes_with_the_triggers_off_are_found(config: AuditConfig) {
    let (_db, mut conn) = database(&config);
    exec(
        &mut conn,
        "INSERT INTO users (id, email, name) VALUES (1, 'a@x', 'A'), (2, 'b@x', 'B'), (3, 'c@x', 'C'), (4, 'd@x', 'D');
         ALTER TABLE users DISABLE TRIGGER USER;
         UPDATE users SET email = 'sneaky@x' WHERE id = 1;
         UPDATE users SET name = 'Sneaky' WHERE id = 2;
         DELETE FROM users WHERE id = 3;
         INSERT INTO users (id, email, name) VALUES (5, 'ghost@x', 'G');
         ALTER TABLE users ENABLE TRIGGER USER;
         UPDATE users SET email = 'later@x' WHERE id = 1;",
    );
    let report = verify_history(&mut conn, &config, &options(Some("users"))).unwrap();
    let found: Vec<Seen> = report
        .findings
        .iter()
        .map(|f| {
            (
                f.key.clone(),
                f.column.clone(),
                f.expected.clone(),
                f.found.clone(),
            )
        })
        .collect();
    assert_eq!(
        found,
        [
            // The chain breaks where the next recorded update says what it overwrote.
            (
                "1".into(),
                Some("email".into()),
                Some(json!("a@x")),
                Some(json!("sneaky@x"))
            ),
            // No later event: the live row tells.
            (
                "2".into(),
                Some("name".into()),
                Some(json!("B")),
                Some(json!("Sneaky"))
            ),
            ("3".into(), None, None, None),
            ("5".into(), None, None, None),
        ],
        "{:#?}",
        report.findings
    );
    assert!(report.findings[0]
        .problem
        .contains("changed with the triggers off"));
    assert!(report.findings[0].event.is_some());
    assert!(report.findings[2]
        .problem
        .contains("deleted with the triggers off"));
    assert!(report.findings[3].problem.contains("no event"));
    assert_eq!(report.findings[1].to_string(), "public.users 2: the live row differs from the log: changed with the triggers off: name expected \"B\" found \"Sneaky\"");

    let allowed = VerifyOptions {
        table: Some("users".into()),
        allow_unlogged: true,
    };
    let report = verify_history(&mut conn, &config, &allowed).unwrap();
    assert_eq!(report.findings.len(), 3, "the unlogged row is allowed");
}

on_both_logs!(
    #[test]
    replica_mode_deletes_and_reinserts_and_conditions
);
fn replica_mode_deletes_and_reinserts_and_conditions(config: AuditConfig) {
    let (_db, mut conn) = database(&config);
    exec(
        &mut conn,
        "INSERT INTO users (id, email, name) VALUES (1, 'a@x', 'A');
         DELETE FROM users WHERE id = 1;
         SET session_replication_role = replica;
         INSERT INTO users (id, email, name) VALUES (1, 'zombie@x', 'Z');
         SET session_replication_role = DEFAULT;
         UPDATE users SET karma = 1 WHERE id = 1;
         CREATE TABLE flagged (id int PRIMARY KEY, on_ boolean, v int);",
    );
    track_with(
        &mut conn,
        &TrackSpec::builder("flagged")
            .columns(["id", "on_", "v"])
            .condition("NEW.on_")
            .build()
            .unwrap(),
        &config,
    );
    let report = verify_history(&mut conn, &config, &options(None)).unwrap();
    let users: Vec<&str> = report.findings.iter().map(|f| f.problem.as_str()).collect();
    assert_eq!(users.len(), 1, "{:#?}", report.findings);
    assert!(users[0].starts_with("written while the log shows the row deleted"));
    let flagged = report
        .tables
        .iter()
        .find(|t| t.table == "public.flagged")
        .unwrap();
    assert!(flagged.skipped.as_deref().unwrap().contains("condition"));
}
