//! Keys: key changes, swapped keys, composite keys, tables outside `public`.

use auditrum_diesel::{Operation, TrackSpec};
use auditrum_integration_tests::*;
use serde_json::json;

#[test]
fn an_update_that_changes_the_key_records_old_and_new_keys() {
    let (_db, mut conn) = audited_database();
    exec(
        &mut conn,
        "CREATE TABLE tags (id int PRIMARY KEY, label text)",
    );
    track(
        &mut conn,
        &TrackSpec::builder("tags")
            .track_only(["label"])
            .build()
            .unwrap(),
    );
    exec(&mut conn, "INSERT INTO tags VALUES (1, 'a'), (2, 'b')");
    exec(&mut conn, "UPDATE tags SET id = id + 100");
    let updates: Vec<Event> = events(&mut conn)
        .into_iter()
        .filter(|e| e.operation == Operation::Update)
        .collect();
    assert_eq!(
        updates.len(),
        2,
        "the key is not tracked, but a key change is recorded"
    );
    assert_eq!(updates[0].record_id.as_deref(), Some("101"));
    assert_eq!(updates[0].old_record_id.as_deref(), Some("1"));
    assert_eq!(updates[1].record_id.as_deref(), Some("102"));
    assert_eq!(updates[1].old_record_id.as_deref(), Some("2"));
    assert_eq!(updates[0].diff, Some(json!({})));
}

/// Pins the PostgreSQL property the UPDATE trigger relies on: `old_rows` and `new_rows`
/// hold the rows in the same order, also when the transition tables spill to disk and
/// every key is swapped (pairing by key would pair each row with its partner).
#[test]
fn update_pairs_rows_by_position_when_every_key_is_swapped() {
    let (_db, mut conn) = audited_database();
    exec(
        &mut conn,
        "CREATE TABLE pairs (id int PRIMARY KEY DEFERRABLE INITIALLY DEFERRED, v int NOT NULL);
         INSERT INTO pairs SELECT g, g * 10 FROM generate_series(1, 300000) g;",
    );
    track(
        &mut conn,
        &TrackSpec::builder("pairs")
            .columns(["id", "v"])
            .build()
            .unwrap(),
    );
    exec(
        &mut conn,
        "BEGIN;
         SET LOCAL work_mem = '64kB';
         UPDATE pairs SET id = CASE WHEN id % 2 = 1 THEN id + 1 ELSE id - 1 END, v = v + 1;
         COMMIT;",
    );
    assert_eq!(
        count(
            &mut conn,
            "SELECT count(*) FROM auditlog WHERE operation = 'UPDATE'"
        ),
        300_000
    );
    // Row (id k, v 10k) became (id partner(k), v 10k + 1): every event must say so.
    let mispaired = count(
        &mut conn,
        "SELECT count(*) FROM auditlog WHERE operation = 'UPDATE' AND NOT (
             old_record_id::int * 10 = (diff -> 'v' ->> 'old')::int
         AND (diff -> 'v' ->> 'new')::int = (diff -> 'v' ->> 'old')::int + 1
         AND (diff -> 'id' ->> 'old')::int = old_record_id::int
         AND (diff -> 'id' ->> 'new')::int = record_id::int
         AND abs(record_id::int - old_record_id::int) = 1)",
    );
    assert_eq!(mispaired, 0);
}

#[test]
fn composite_keys_are_recorded_as_json_arrays() {
    let (_db, mut conn) = audited_database();
    exec(
        &mut conn,
        "CREATE TABLE lines (order_id int, line_no int, qty int, PRIMARY KEY (order_id, line_no))",
    );
    let spec = TrackSpec::builder("lines")
        .key(["order_id", "line_no"])
        .columns(["order_id", "line_no", "qty"])
        .build()
        .unwrap();
    track(&mut conn, &spec);
    exec(&mut conn, "INSERT INTO lines VALUES (7, 1, 3)");
    exec(&mut conn, "UPDATE lines SET qty = 4");
    exec(&mut conn, "UPDATE lines SET line_no = 2");
    let events = events(&mut conn);
    assert_eq!(events[0].record_id.as_deref(), Some("[7, 1]"));
    assert_eq!(events[1].record_id.as_deref(), Some("[7, 1]"));
    assert_eq!(
        events[1].diff,
        Some(json!({"qty": change(json!(3), json!(4))}))
    );
    assert_eq!(events[2].record_id.as_deref(), Some("[7, 2]"));
    assert_eq!(events[2].old_record_id.as_deref(), Some("[7, 1]"));
}

#[test]
fn tables_in_another_schema_keep_their_schema() {
    let (_db, mut conn) = audited_database();
    exec(
        &mut conn,
        r#"CREATE SCHEMA "Sales Dept"; CREATE TABLE "Sales Dept"."Order" (id uuid PRIMARY KEY, total int)"#,
    );
    let spec = TrackSpec::builder("Sales Dept.Order")
        .columns(["id", "total"])
        .build()
        .unwrap();
    track(&mut conn, &spec);
    exec(
        &mut conn,
        r#"INSERT INTO "Sales Dept"."Order" VALUES ('00000000-0000-0000-0000-000000000001', 5)"#,
    );
    let events = events(&mut conn);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].table_schema, "Sales Dept");
    assert_eq!(events[0].table_name, "Order");
    assert_eq!(
        events[0].record_id.as_deref(),
        Some("00000000-0000-0000-0000-000000000001")
    );
}
