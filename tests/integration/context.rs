//! The context set with `SET LOCAL auditrum.context` reaches the events of its transaction,
//! is stored once per transaction, and does not leak into the next one.

use auditrum_diesel::TrackSpec;
use auditrum_integration_tests::*;
use serde_json::json;

fn setup() -> (auditrum_testdb::TestDatabase, diesel::PgConnection) {
    let (db, mut conn) = audited_database();
    exec(
        &mut conn,
        "CREATE TABLE notes (id int PRIMARY KEY, body text)",
    );
    track(
        &mut conn,
        &TrackSpec::builder("notes")
            .columns(["id", "body"])
            .build()
            .unwrap(),
    );
    (db, conn)
}

#[test]
fn the_context_reaches_every_event_of_its_transaction_once() {
    let (_db, mut conn) = setup();
    exec(
        &mut conn,
        r#"BEGIN;
           SET LOCAL auditrum.context = '{"user_id": "alice@example.com", "change_reason": "it''s a \\ test", "request_id": "r-1"}';
           INSERT INTO notes SELECT g, 'x' FROM generate_series(1, 1000) g;
           UPDATE notes SET body = 'y';
           COMMIT;"#,
    );
    let events = events(&mut conn);
    assert_eq!(events.len(), 2000);
    let context_id = events[0].context_id.expect("events point at their context");
    assert!(events.iter().all(|e| e.context_id == Some(context_id)));
    assert_eq!(
        context_rows(&mut conn),
        1,
        "stored once, not per row or per statement"
    );
    assert_eq!(
        context_of(&mut conn, &events[0]),
        Some(
            json!({"user_id": "alice@example.com", "change_reason": "it's a \\ test", "request_id": "r-1"})
        )
    );
}

#[test]
fn the_context_does_not_leak_into_the_next_transaction() {
    let (_db, mut conn) = setup();
    exec(
        &mut conn,
        r#"BEGIN; SET LOCAL auditrum.context = '{"user_id": "42"}'; INSERT INTO notes VALUES (1, 'a'); COMMIT;
           BEGIN; INSERT INTO notes VALUES (2, 'b'); COMMIT;
           INSERT INTO notes VALUES (3, 'c');"#,
    );
    let events = events(&mut conn);
    assert_eq!(
        context_of(&mut conn, &events[0]),
        Some(json!({"user_id": "42"}))
    );
    assert_eq!(
        context_of(&mut conn, &events[1]),
        None,
        "no context in the next transaction"
    );
    assert_eq!(
        context_of(&mut conn, &events[2]),
        None,
        "nor outside any transaction"
    );
}

#[test]
fn each_transaction_gets_its_own_context_row() {
    let (_db, mut conn) = setup();
    for i in 0..3 {
        exec(
            &mut conn,
            &format!(
                r#"BEGIN; SET LOCAL auditrum.context = '{{"user_id": "u"}}';
                   INSERT INTO notes VALUES ({i}, 'a'), ({i} + 100, 'b'); COMMIT;"#
            ),
        );
    }
    let events = events(&mut conn);
    assert_eq!(
        context_rows(&mut conn),
        3,
        "the same context in three transactions is three rows"
    );
    assert_eq!(events[0].context_id, events[1].context_id);
    assert_ne!(events[0].context_id, events[2].context_id);
    let txids = count(
        &mut conn,
        "SELECT count(DISTINCT txid) FROM auditlog_context",
    );
    assert_eq!(txids, 3);
}

#[test]
fn a_one_row_statement_keeps_the_context_on_its_event_and_a_bulk_one_stores_it_once() {
    let (_db, mut conn) = setup();
    exec(
        &mut conn,
        r#"BEGIN; SET LOCAL auditrum.context = '{"user_id": "u1"}'; INSERT INTO notes VALUES (1, 'a'); COMMIT;
           BEGIN; SET LOCAL auditrum.context = '{"user_id": "u2"}';
           INSERT INTO notes VALUES (2, 'a');
           INSERT INTO notes SELECT g, 'b' FROM generate_series(10, 19) g;
           UPDATE notes SET body = 'c' WHERE id >= 10;
           DELETE FROM notes WHERE id = 2;
           COMMIT;"#,
    );
    let events = events(&mut conn);
    assert_eq!(events.len(), 1 + 1 + 10 + 10 + 1);
    // The one-row statements: the context on the event, no context row.
    for event in [&events[0], &events[1], &events[22]] {
        assert_eq!(event.context_id, None, "event {}", event.id);
    }
    assert_eq!(
        context_of(&mut conn, &events[0]),
        Some(json!({"user_id": "u1"}))
    );
    // The bulk statements of the second transaction share one context row.
    let row = events[2]
        .context_id
        .expect("a bulk statement points at the context row");
    assert!(events[2..22].iter().all(|e| e.context_id == Some(row)));
    assert_eq!(
        context_rows(&mut conn),
        1,
        "stored once for both bulk statements"
    );
    assert_eq!(
        count(
            &mut conn,
            "SELECT count(*) FROM auditlog WHERE context IS NOT NULL"
        ),
        3
    );
    // Every event of the second transaction reads the same context.
    for event in &events[1..] {
        assert_eq!(
            context_of(&mut conn, event),
            Some(json!({"user_id": "u2"})),
            "event {}",
            event.id
        );
    }
}

#[test]
fn a_changed_context_within_a_transaction_is_stored_again() {
    let (_db, mut conn) = setup();
    exec(
        &mut conn,
        r#"BEGIN;
           SET LOCAL auditrum.context = '{"change_reason": "first"}';
           INSERT INTO notes VALUES (1, 'a'), (11, 'a');
           SAVEPOINT s;
           SET LOCAL auditrum.context = '{"change_reason": "second"}';
           INSERT INTO notes VALUES (2, 'b'), (12, 'b');
           ROLLBACK TO SAVEPOINT s;
           INSERT INTO notes VALUES (3, 'c'), (13, 'c');
           SET LOCAL auditrum.context = '{"change_reason": "third"}';
           INSERT INTO notes VALUES (4, 'd'), (14, 'd');
           COMMIT;"#,
    );
    let events = events(&mut conn);
    let reasons: Vec<_> = events
        .iter()
        .map(|e| context_of(&mut conn, e).unwrap()["change_reason"].clone())
        .collect();
    let [first, third] = [json!("first"), json!("third")];
    assert_eq!(
        reasons,
        [
            first.clone(),
            first.clone(),
            first.clone(),
            first,
            third.clone(),
            third
        ]
    );
    assert_eq!(
        context_rows(&mut conn),
        2,
        "the rolled-back context row is gone with its savepoint"
    );
}

#[test]
fn an_invalid_context_fails_the_write_and_loses_nothing() {
    let (_db, mut conn) = setup();
    let result = diesel::connection::SimpleConnection::batch_execute(
        &mut conn,
        "BEGIN; SET LOCAL auditrum.context = 'not json'; INSERT INTO notes VALUES (1, 'a'); COMMIT;",
    );
    let error = result.expect_err("the write fails").to_string();
    assert!(
        error.contains("auditrum"),
        "the error names its source: {error}"
    );
    exec(&mut conn, "ROLLBACK");
    assert_eq!(count(&mut conn, "SELECT count(*) FROM notes"), 0);
    assert_eq!(events(&mut conn).len(), 0);
}

#[test]
fn a_context_that_looks_like_an_object_but_is_not_json_fails_the_write() {
    let (_db, mut conn) = setup();
    let result = diesel::connection::SimpleConnection::batch_execute(
        &mut conn,
        "BEGIN; SET LOCAL auditrum.context = '{oops'; INSERT INTO notes VALUES (1, 'a'); COMMIT;",
    );
    assert!(result.is_err(), "the write fails");
    exec(&mut conn, "ROLLBACK");
    assert_eq!(count(&mut conn, "SELECT count(*) FROM notes"), 0);
    assert_eq!(events(&mut conn).len(), 0);
}
