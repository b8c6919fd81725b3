//! `condition` filters each operation as documented on `TrackSpec::condition`.

use auditrum_diesel::{Operation, TrackSpec};
use auditrum_integration_tests::*;

fn setup() -> (auditrum_testdb::TestDatabase, diesel::PgConnection) {
    let (db, mut conn) = audited_database();
    exec(
        &mut conn,
        "CREATE TABLE accounts (id int PRIMARY KEY, name text, is_active boolean NOT NULL)",
    );
    let spec = TrackSpec::builder("accounts")
        .columns(["id", "name", "is_active"])
        .condition("NEW.is_active")
        .build()
        .unwrap();
    track(&mut conn, &spec);
    (db, conn)
}

fn operations_of(conn: &mut diesel::PgConnection, key: &str) -> Vec<Operation> {
    events(conn)
        .into_iter()
        .filter(|e| e.record_id.as_deref() == Some(key))
        .map(|e| e.operation)
        .collect()
}

#[test]
fn insert_records_only_rows_matching_the_condition() {
    let (_db, mut conn) = setup();
    exec(
        &mut conn,
        "INSERT INTO accounts VALUES (1, 'on', true), (2, 'off', false)",
    );
    assert_eq!(operations_of(&mut conn, "1"), [Operation::Insert]);
    assert_eq!(operations_of(&mut conn, "2"), []);
}

#[test]
fn update_records_rows_matching_before_or_after() {
    let (_db, mut conn) = setup();
    exec(
        &mut conn,
        "INSERT INTO accounts VALUES (1, 'a', true), (2, 'b', false), (3, 'c', false)",
    );
    exec(
        &mut conn,
        "UPDATE accounts SET is_active = false WHERE id = 1",
    ); // leaves the set
    exec(
        &mut conn,
        "UPDATE accounts SET is_active = true WHERE id = 2",
    ); // enters the set
    exec(
        &mut conn,
        "UPDATE accounts SET name = 'still off' WHERE id = 3",
    ); // never in it
    assert_eq!(
        operations_of(&mut conn, "1"),
        [Operation::Insert, Operation::Update]
    );
    assert_eq!(operations_of(&mut conn, "2"), [Operation::Update]);
    assert_eq!(operations_of(&mut conn, "3"), []);
}

#[test]
fn delete_records_only_rows_that_matched_before_the_delete() {
    let (_db, mut conn) = setup();
    exec(
        &mut conn,
        "INSERT INTO accounts VALUES (1, 'a', true), (2, 'b', false)",
    );
    exec(&mut conn, "DELETE FROM accounts");
    assert_eq!(
        operations_of(&mut conn, "1"),
        [Operation::Insert, Operation::Delete]
    );
    assert_eq!(operations_of(&mut conn, "2"), []);
}

#[test]
fn truncate_is_always_recorded() {
    let (_db, mut conn) = setup();
    exec(&mut conn, "INSERT INTO accounts VALUES (2, 'b', false)");
    exec(&mut conn, "TRUNCATE accounts");
    let ops: Vec<Operation> = events(&mut conn).into_iter().map(|e| e.operation).collect();
    assert_eq!(ops, [Operation::Truncate]);
}
