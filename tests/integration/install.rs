//! Installing, re-installing and removing a spec.

use auditrum_diesel::{apply, core_schema_sql, AuditConfig, Operation, TrackSpec};
use auditrum_integration_tests::*;
use serde_json::json;

fn trigger_count(conn: &mut diesel::PgConnection, table: &str) -> i64 {
    count(
        conn,
        &format!("SELECT count(*) FROM pg_trigger WHERE tgrelid = '{table}'::regclass AND NOT tgisinternal"),
    )
}

#[test]
fn the_core_schema_can_be_installed_twice() {
    let (_db, mut conn) = audited_database();
    exec(&mut conn, &core_schema_sql(&AuditConfig::default()));
    // Current and next month, plus DEFAULT.
    assert_eq!(
        count(
            &mut conn,
            "SELECT count(*) FROM pg_inherits WHERE inhparent = 'auditlog'::regclass"
        ),
        3
    );
}

#[test]
fn reinstalling_the_same_or_a_changed_spec_leaves_one_set_of_triggers() {
    let (_db, mut conn) = audited_database();
    exec(
        &mut conn,
        "CREATE TABLE users (id int PRIMARY KEY, email text, name text)",
    );
    let v1 = TrackSpec::builder("users")
        .columns(["id", "email", "name"])
        .build()
        .unwrap();
    track(&mut conn, &v1);
    track(&mut conn, &v1);
    assert_eq!(trigger_count(&mut conn, "users"), 4);
    let v2 = v1.to_builder().exclude(["name"]).build().unwrap();
    track(&mut conn, &v2);
    assert_eq!(trigger_count(&mut conn, "users"), 4);
    assert_eq!(count(&mut conn, "SELECT count(*) FROM auditlog_tracked"), 1);
    assert_eq!(
        count(
            &mut conn,
            &format!(
                "SELECT count(*) FROM auditlog_tracked WHERE fingerprint = '{}'",
                v2.fingerprint()
            )
        ),
        1
    );
    exec(&mut conn, "INSERT INTO users VALUES (1, 'a', 'Ann')");
    exec(&mut conn, "UPDATE users SET name = 'Anne'");
    let events = events(&mut conn);
    assert_eq!(
        events.len(),
        1,
        "one event per write (one trigger set), none for the excluded column"
    );
    assert_eq!(events[0].new_data, Some(json!({"id": 1, "email": "a"})));
}

#[test]
fn uninstall_stops_capture_and_keeps_the_events() {
    let (_db, mut conn) = audited_database();
    exec(
        &mut conn,
        "CREATE TABLE users (id int PRIMARY KEY, email text)",
    );
    let spec = TrackSpec::builder("users")
        .columns(["id", "email"])
        .build()
        .unwrap();
    track(&mut conn, &spec);
    exec(&mut conn, "INSERT INTO users VALUES (1, 'a')");
    apply::uninstall(&mut conn, &spec.name(), &AuditConfig::default()).unwrap();
    exec(&mut conn, "INSERT INTO users VALUES (2, 'b')");
    assert_eq!(trigger_count(&mut conn, "users"), 0);
    assert_eq!(count(&mut conn, "SELECT count(*) FROM auditlog_tracked"), 0);
    let events = events(&mut conn);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].operation, Operation::Insert);
}

#[test]
fn an_invalid_spec_does_not_build_nor_read_back() {
    // A `TrackSpec` in hand is valid: the builder refuses, and so does a stored spec
    // whose JSON was edited into an invalid one, so no SQL is ever made from it.
    let error = TrackSpec::builder("users")
        .columns(["id", "email"])
        .track_only(["email"])
        .exclude(["id"])
        .build()
        .unwrap_err();
    assert!(
        matches!(
            error,
            auditrum_diesel::SpecError::TrackOnlyAndExclude { .. }
        ),
        "{error}"
    );
    let edited = r#"{"schema":"public","table":"users","key":[],"columns":[{"name":"id"}]}"#;
    let error = serde_json::from_str::<TrackSpec>(edited).unwrap_err();
    assert!(
        error.to_string().contains("no primary-key column"),
        "{error}"
    );
}

#[test]
fn a_second_audit_log_with_its_own_names_works_beside_the_default() {
    let (_db, mut conn) = audited_database();
    let config = AuditConfig::new()
        .with_table("audit.events")
        .unwrap()
        .with_context_setting("myapp.audit")
        .unwrap();
    exec(
        &mut conn,
        "CREATE SCHEMA audit; CREATE TABLE t (id int PRIMARY KEY, v int)",
    );
    apply::install_core_schema(&mut conn, &config).unwrap();
    apply::install(
        &mut conn,
        &TrackSpec::builder("t")
            .columns(["id", "v"])
            .build()
            .unwrap(),
        &config,
    )
    .unwrap();
    exec(
        &mut conn,
        r#"BEGIN; SET LOCAL myapp.audit = '{"source": "job"}'; INSERT INTO t VALUES (1, 1); COMMIT;"#,
    );
    assert_eq!(count(&mut conn, "SELECT count(*) FROM audit.events"), 1);
    assert_eq!(count(&mut conn, "SELECT count(*) FROM auditlog"), 0);
    assert_eq!(
        count(&mut conn, "SELECT count(*) FROM audit.events e LEFT JOIN audit.events_context c ON c.id = e.context_id WHERE COALESCE(e.context, c.context) ->> 'source' = 'job'"),
        1
    );
}
