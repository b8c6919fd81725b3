//! `status`: healthy, then drift made by hand.

use diesel::connection::SimpleConnection;

use crate::audited_notes;
use crate::common::{cli, stderr, stdout};

#[test]
fn a_healthy_log_exits_0() {
    let (db, _conn) = audited_notes();
    let out = cli(&["status"], Some(db.url()));
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    assert!(stdout(&out).contains("no problems"), "{}", stdout(&out));
    let json = cli(&["status", "--format", "json"], Some(db.url()));
    let status: serde_json::Value = serde_json::from_str(&stdout(&json)).unwrap();
    assert_eq!(status["tables"][0]["table"], "notes");
    assert_eq!(status["problems"], serde_json::json!([]));
    assert_eq!(status["default_rows"], 0);
}

#[test]
fn a_trigger_disabled_by_hand_is_drift() {
    let (db, mut conn) = audited_notes();
    conn.batch_execute("ALTER TABLE notes DISABLE TRIGGER auditlog_update")
        .unwrap();
    let out = cli(&["status", "--format", "json"], Some(db.url()));
    assert_eq!(out.status.code(), Some(1));
    let status: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let problems = status["tables"][0]["problems"].to_string();
    assert!(
        problems.contains("auditlog_update is disabled"),
        "{problems}"
    );
}

#[test]
fn a_function_changed_by_hand_is_drift() {
    let (db, mut conn) = audited_notes();
    conn.batch_execute(
        "CREATE OR REPLACE FUNCTION public.auditlog_public_notes_delete() RETURNS trigger
         LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$",
    )
    .unwrap();
    let out = cli(&["status"], Some(db.url()));
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).contains("auditlog_public_notes_delete\" differs from the installed spec"),
        "{}",
        stdout(&out)
    );
    assert!(stderr(&out).contains("1 problem"), "{}", stderr(&out));
}

#[test]
fn a_spec_edited_by_hand_and_a_dropped_trigger_are_drift() {
    let (db, mut conn) = audited_notes();
    conn.batch_execute(
        r#"UPDATE auditlog_tracked SET spec = jsonb_set(spec, '{exclude}', '["body"]');
           DROP TRIGGER auditlog_truncate ON notes;"#,
    )
    .unwrap();
    let out = cli(&["status"], Some(db.url()));
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(text.contains("fingerprint does not match"), "{text}");
    assert!(text.contains("auditlog_truncate is missing"), "{text}");
}

#[test]
fn rows_in_default_and_short_runway_are_problems() {
    let (db, mut conn) = audited_notes();
    conn.batch_execute(
        "DO $$ DECLARE p text; BEGIN
           FOR p IN SELECT inhrelid::regclass::text FROM pg_inherits
                    WHERE inhparent = 'auditlog'::regclass AND inhrelid <> 'auditlog_default'::regclass LOOP
             EXECUTE format('DROP TABLE %s', p);
           END LOOP; END $$;
         INSERT INTO notes VALUES (1, 'a');",
    )
    .unwrap();
    let out = cli(&["status"], Some(db.url()));
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(
        text.contains("1 event(s) in the DEFAULT partition"),
        "{text}"
    );
    assert!(text.contains("no monthly partition"), "{text}");
}

#[test]
fn a_dropped_tracked_column_and_an_unaudited_new_column_are_drift() {
    let (db, mut conn) = audited_notes();
    conn.batch_execute(
        "ALTER TABLE notes DROP COLUMN body; ALTER TABLE notes ADD COLUMN title text",
    )
    .unwrap();
    let out = cli(&["status"], Some(db.url()));
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(
        text.contains("column body is in the spec but not in the table"),
        "{text}"
    );
    assert!(
        text.contains("column title was added after the spec was installed"),
        "{text}"
    );
}

#[test]
fn a_missing_current_month_and_a_missing_default_are_problems() {
    let (db, mut conn) = audited_notes();
    conn.batch_execute(
        "DROP TABLE auditlog_default;
         DO $$ BEGIN EXECUTE format('DROP TABLE auditlog_p%s', to_char(now() AT TIME ZONE 'UTC', 'YYYYMM')); END $$;",
    )
    .unwrap();
    let out = cli(&["status"], Some(db.url()));
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(text.contains("DEFAULT partition is missing"), "{text}");
    assert!(
        text.contains("no partition holds the current month"),
        "{text}"
    );
}

#[test]
fn a_renamed_table_is_reported_once_with_what_to_do() {
    let (db, mut conn) = audited_notes();
    conn.batch_execute("ALTER TABLE notes RENAME TO memos")
        .unwrap();
    let out = cli(&["status", "--format", "json"], Some(db.url()));
    assert_eq!(out.status.code(), Some(1));
    let status: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let problems = status["tables"][0]["problems"].as_array().unwrap().clone();
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].as_str().unwrap().contains("renamed"),
        "{problems:?}"
    );
}

/// A core schema stamped by a newer version: `status` says so, and `init-schema` refuses
/// (exit 2, one line) rather than running this build's older SQL over it.
#[test]
fn a_newer_core_schema_is_a_problem_and_init_schema_leaves_it() {
    let (db, mut conn) = audited_notes();
    conn.batch_execute("COMMENT ON TABLE auditlog IS 'auditrum core v99 0123abcd'")
        .unwrap();
    let out = cli(&["status"], Some(db.url()));
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("the core schema is version 99, newer than this build's"),
        "{}",
        stdout(&out)
    );
    let out = cli(&["init-schema"], Some(db.url()));
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert_eq!(stderr(&out).trim().lines().count(), 1, "{}", stderr(&out));
    assert!(
        stderr(&out).contains("upgrade auditrum-diesel"),
        "{}",
        stderr(&out)
    );
    let out = cli(&["status", "--format", "json"], Some(db.url()));
    let status: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(status["core"]["version"], 99, "left as it was");
}
