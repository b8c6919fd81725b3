//! Blame of the scripted history: text (aligned, cut) and complete JSON, whole record and
//! one field, and `-n`.

use auditrum_diesel::read::{blame, field_history, BlameText, FieldText};
use auditrum_diesel::AuditConfig;
use diesel::prelude::*;
use serde_json::Value;

use auditrum_integration_tests::on_both_logs;

use crate::models::database;
use crate::time_travel::scripted_history;

/// Text with the (run-dependent) times replaced by a placeholder of the same width.
fn stable_text(text: String, conn: &mut PgConnection, config: &AuditConfig) -> String {
    let times: Vec<chrono::DateTime<chrono::Utc>> =
        auditrum_integration_tests::events_in(conn, config)
            .into_iter()
            .map(|e| e.changed_at)
            .collect();
    let mut text = text;
    for time in times {
        text = text.replace(
            &time.format("%Y-%m-%d %H:%M:%S").to_string(),
            "YYYY-MM-DD hh:mm:ss",
        );
    }
    text
}

/// JSON with the run-dependent `changed_at` and `txid` replaced.
fn stable_json(mut value: Value) -> String {
    for item in value.as_array_mut().unwrap() {
        item["changed_at"] = Value::from("[time]");
        item["txid"] = Value::from("[txid]");
    }
    serde_json::to_string_pretty(&value).unwrap()
}

on_both_logs!(
    #[test]
    blame_of_the_scripted_history
);
fn blame_of_the_scripted_history(config: AuditConfig) {
    let (_db, mut conn) = database(&config);
    scripted_history(&mut conn, &config);

    let lines = blame(&mut conn, &config, "accounts", "1", None).unwrap();
    assert_eq!(
        lines.len(),
        7,
        "insert, 3 updates, delete, re-insert, the move to 3"
    );
    insta::assert_snapshot!(
        "blame_text",
        stable_text(BlameText(&lines).to_string(), &mut conn, &config)
    );
    insta::assert_snapshot!(
        "blame_json",
        stable_json(serde_json::to_value(&lines).unwrap())
    );

    let last = blame(&mut conn, &config, "public.accounts", "1", Some(2)).unwrap();
    assert_eq!(last, lines[5..]);

    let emails = field_history(&mut conn, &config, "accounts", "1", "email", None).unwrap();
    insta::assert_snapshot!(
        "blame_email_text",
        stable_text(FieldText(&emails).to_string(), &mut conn, &config)
    );
    insta::assert_snapshot!(
        "blame_email_json",
        stable_json(serde_json::to_value(&emails).unwrap())
    );
    let karma = field_history(&mut conn, &config, "accounts", "3", "karma", None).unwrap();
    assert_eq!(
        karma.len(),
        1,
        "under key 3: the move wrote no karma, the bonus did"
    );
    assert_eq!(karma.last().unwrap().new, Some(Value::from(101)));
}
