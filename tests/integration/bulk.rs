//! One statement over many rows writes exactly its events, with one INSERT … SELECT.

use auditrum_diesel::TrackSpec;
use auditrum_integration_tests::*;

#[test]
fn one_update_of_10000_rows_writes_exactly_10000_events() {
    let (_db, mut conn) = audited_database();
    exec(
        &mut conn,
        "CREATE TABLE readings (id int PRIMARY KEY, value int NOT NULL);
         INSERT INTO readings SELECT g, g FROM generate_series(1, 10000) g;",
    );
    track(
        &mut conn,
        &TrackSpec::builder("readings")
            .columns(["id", "value"])
            .build()
            .unwrap(),
    );
    exec(&mut conn, "UPDATE readings SET value = value * 2");
    assert_eq!(
        count(
            &mut conn,
            "SELECT count(*) FROM auditlog WHERE operation = 'UPDATE'"
        ),
        10_000
    );
    // Each event carries its own row's change.
    let wrong = count(
        &mut conn,
        "SELECT count(*) FROM auditlog
         WHERE (diff -> 'value' ->> 'old')::int <> record_id::int
            OR (diff -> 'value' ->> 'new')::int <> 2 * record_id::int",
    );
    assert_eq!(wrong, 0);
    assert_eq!(
        count(&mut conn, "SELECT count(DISTINCT record_id) FROM auditlog"),
        10_000
    );
}

#[test]
fn one_insert_and_one_delete_of_many_rows() {
    let (_db, mut conn) = audited_database();
    exec(
        &mut conn,
        "CREATE TABLE readings (id int PRIMARY KEY, value int NOT NULL)",
    );
    track(
        &mut conn,
        &TrackSpec::builder("readings")
            .columns(["id", "value"])
            .build()
            .unwrap(),
    );
    exec(
        &mut conn,
        "INSERT INTO readings SELECT g, g FROM generate_series(1, 5000) g",
    );
    exec(&mut conn, "DELETE FROM readings WHERE id % 2 = 0");
    assert_eq!(
        count(
            &mut conn,
            "SELECT count(*) FROM auditlog WHERE operation = 'INSERT'"
        ),
        5000
    );
    assert_eq!(
        count(
            &mut conn,
            "SELECT count(*) FROM auditlog WHERE operation = 'DELETE'"
        ),
        2500
    );
    let wrong = count(
        &mut conn,
        "SELECT count(*) FROM auditlog WHERE operation = 'DELETE'
         AND ((old_data ->> 'id')::int % 2 <> 0 OR old_data ->> 'id' <> record_id)",
    );
    assert_eq!(wrong, 0);
}
