//! Each operation writes the expected events, and only changes to tracked columns count.

use auditrum_diesel::{Operation, StorageMode, TrackSpec};
use auditrum_integration_tests::*;
use serde_json::json;

fn users_spec() -> TrackSpec {
    TrackSpec::builder("users")
        .columns(["id", "email", "name", "password_hash", "updated_at"])
        .exclude(["password_hash", "updated_at"])
        .build()
        .unwrap()
}

fn setup() -> (auditrum_testdb::TestDatabase, diesel::PgConnection) {
    let (db, mut conn) = audited_database();
    exec(
        &mut conn,
        "CREATE TABLE users (id bigint PRIMARY KEY, email text, name text, password_hash text, updated_at timestamptz)",
    );
    track(&mut conn, &users_spec());
    (db, conn)
}

#[test]
fn insert_records_the_new_row_without_excluded_columns() {
    let (_db, mut conn) = setup();
    exec(&mut conn, "INSERT INTO users VALUES (1, 'a@x.org', 'Ann', 'secret', now()), (2, 'b@x.org', NULL, 'secret', now())");
    let events = events(&mut conn);
    assert_eq!(events.len(), 2);
    assert_eq!(events[0].operation, Operation::Insert);
    assert_eq!(events[0].table_schema, "public");
    assert_eq!(events[0].table_name, "users");
    assert_eq!(events[0].record_id.as_deref(), Some("1"));
    assert_eq!(
        events[0].new_data,
        Some(json!({"id": 1, "email": "a@x.org", "name": "Ann"}))
    );
    assert_eq!(
        events[1].new_data,
        Some(json!({"id": 2, "email": "b@x.org", "name": null}))
    );
    assert_eq!(events[0].old_data, None);
    assert_eq!(events[0].diff, None);
}

#[test]
fn update_records_a_paired_diff_of_changed_columns_only() {
    let (_db, mut conn) = setup();
    exec(
        &mut conn,
        "INSERT INTO users VALUES (1, 'a@x.org', 'Ann', 'secret', now())",
    );
    exec(
        &mut conn,
        "UPDATE users SET email = 'ann@x.org', name = 'Ann', password_hash = 'new' WHERE id = 1",
    );
    let events = events(&mut conn);
    assert_eq!(events.len(), 2);
    assert_eq!(events[1].operation, Operation::Update);
    assert_eq!(events[1].record_id.as_deref(), Some("1"));
    assert_eq!(events[1].old_record_id, None);
    assert_eq!(
        events[1].diff,
        Some(json!({"email": change(json!("a@x.org"), json!("ann@x.org"))}))
    );
    // Diff storage: no full images on UPDATE.
    assert_eq!(events[1].old_data, None);
    assert_eq!(events[1].new_data, None);
}

#[test]
fn a_change_to_null_is_recorded() {
    let (_db, mut conn) = setup();
    exec(
        &mut conn,
        "INSERT INTO users VALUES (1, 'a@x.org', 'Ann', 'secret', now())",
    );
    exec(&mut conn, "UPDATE users SET name = NULL WHERE id = 1");
    let update = &events(&mut conn)[1];
    assert_eq!(
        update.diff,
        Some(json!({"name": change(json!("Ann"), json!(null))}))
    );
}

/// The diff drops unchanged columns' keys only: a change to or from NULL keeps its null
/// inside `{"old", "new"}`, in a statement of one row and of several.
#[test]
fn changes_from_and_to_null_keep_their_nulls_in_bulk_too() {
    let (_db, mut conn) = setup();
    exec(
        &mut conn,
        "INSERT INTO users VALUES (1, 'a@x.org', NULL, 's', now()), (2, 'b@x.org', 'Bo', 's', now())",
    );
    exec(
        &mut conn,
        "UPDATE users SET name = CASE id WHEN 1 THEN 'Ann' END, email = CASE id WHEN 2 THEN NULL ELSE email END",
    );
    let events = events(&mut conn);
    assert_eq!(events.len(), 4);
    let by_record = |id: &str| {
        events[2..]
            .iter()
            .find(|e| e.record_id.as_deref() == Some(id))
            .and_then(|e| e.diff.clone())
    };
    assert_eq!(
        by_record("1"),
        Some(json!({"name": change(json!(null), json!("Ann"))}))
    );
    assert_eq!(
        by_record("2"),
        Some(
            json!({"email": change(json!("b@x.org"), json!(null)), "name": change(json!("Bo"), json!(null))})
        )
    );
}

#[test]
fn an_update_that_changes_nothing_tracked_writes_no_event() {
    let (_db, mut conn) = setup();
    exec(
        &mut conn,
        "INSERT INTO users VALUES (1, 'a@x.org', 'Ann', 'secret', now())",
    );
    exec(
        &mut conn,
        "UPDATE users SET email = email, name = name WHERE id = 1",
    );
    exec(
        &mut conn,
        "UPDATE users SET password_hash = 'rotated', updated_at = now() + interval '1 day'",
    );
    exec(&mut conn, "UPDATE users SET name = 'x' WHERE id = 42");
    assert_eq!(events(&mut conn).len(), 1, "only the INSERT is recorded");
}

#[test]
fn delete_records_the_old_row() {
    let (_db, mut conn) = setup();
    exec(&mut conn, "INSERT INTO users VALUES (1, 'a@x.org', 'Ann', 'secret', now()), (2, 'b@x.org', 'Bob', 's', now())");
    exec(&mut conn, "DELETE FROM users WHERE id = 2");
    let events = events(&mut conn);
    assert_eq!(events.len(), 3);
    assert_eq!(events[2].operation, Operation::Delete);
    assert_eq!(events[2].record_id.as_deref(), Some("2"));
    assert_eq!(
        events[2].old_data,
        Some(json!({"id": 2, "email": "b@x.org", "name": "Bob"}))
    );
    assert_eq!(events[2].new_data, None);
}

#[test]
fn truncate_records_one_event_for_the_table() {
    let (_db, mut conn) = setup();
    exec(
        &mut conn,
        "INSERT INTO users VALUES (1, 'a@x.org', 'Ann', 'secret', now())",
    );
    exec(&mut conn, "TRUNCATE users");
    let events = events(&mut conn);
    assert_eq!(events.len(), 2);
    assert_eq!(events[1].operation, Operation::Truncate);
    assert_eq!(events[1].record_id, None);
    assert_eq!(events[1].table_name, "users");
}

#[test]
fn track_only_ignores_other_columns_and_full_storage_keeps_both_images() {
    let (_db, mut conn) = audited_database();
    exec(
        &mut conn,
        "CREATE TABLE items (id int PRIMARY KEY, sku text, price numeric, note text)",
    );
    let spec = TrackSpec::builder("items")
        .track_only(["sku", "price"])
        .storage(StorageMode::Full)
        .build()
        .unwrap();
    track(&mut conn, &spec);
    exec(&mut conn, "INSERT INTO items VALUES (1, 'A-1', 9.50, 'n')");
    exec(&mut conn, "UPDATE items SET note = 'changed'");
    exec(&mut conn, "UPDATE items SET price = 10, note = 'again'");
    let events = events(&mut conn);
    assert_eq!(events.len(), 2, "the note-only update is not recorded");
    assert_eq!(
        events[0].new_data,
        Some(json!({"sku": "A-1", "price": 9.50}))
    );
    assert_eq!(
        events[1].diff,
        Some(json!({"price": change(json!(9.50), json!(10))}))
    );
    assert_eq!(
        events[1].old_data,
        Some(json!({"sku": "A-1", "price": 9.50}))
    );
    assert_eq!(events[1].new_data, Some(json!({"sku": "A-1", "price": 10})));
}

#[test]
fn json_columns_compare_by_value_and_meta_is_copied() {
    let (_db, mut conn) = audited_database();
    exec(
        &mut conn,
        "CREATE TABLE docs (id int PRIMARY KEY, tenant_id int, body json)",
    );
    // Columns read from the database carry their types: `json` has no equality operator.
    let spec = auditrum_diesel::introspect::complete(
        &mut conn,
        TrackSpec::builder("docs").meta(["tenant_id"]),
        true,
    )
    .unwrap();
    track(&mut conn, &spec);
    exec(
        &mut conn,
        r#"INSERT INTO docs VALUES (1, 7, '{"a": 1, "b": 2}')"#,
    );
    exec(&mut conn, r#"UPDATE docs SET body = '{"b": 2,   "a": 1}'"#);
    exec(&mut conn, r#"UPDATE docs SET body = '{"a": 2}'"#);
    let events = events(&mut conn);
    assert_eq!(
        events.len(),
        2,
        "a re-spelled but equal JSON value is no change"
    );
    assert_eq!(
        events[1].diff,
        Some(json!({"body": change(json!({"a": 1, "b": 2}), json!({"a": 2}))}))
    );
    assert_eq!(events[1].meta, Some(json!({"tenant_id": 7})));
}

#[test]
fn wide_tables_with_more_than_fifty_columns_work() {
    let (_db, mut conn) = audited_database();
    let columns: Vec<String> = (0..120).map(|i| format!("c{i}")).collect();
    let definitions: Vec<String> = columns
        .iter()
        .map(|c| format!("{c} int DEFAULT 0"))
        .collect();
    exec(
        &mut conn,
        &format!(
            "CREATE TABLE wide (id int PRIMARY KEY, {})",
            definitions.join(", ")
        ),
    );
    let mut all = vec!["id".to_owned()];
    all.extend(columns);
    track(
        &mut conn,
        &TrackSpec::builder("wide").columns(all).build().unwrap(),
    );
    exec(&mut conn, "INSERT INTO wide (id) VALUES (1)");
    exec(&mut conn, "UPDATE wide SET c0 = 1, c119 = 2");
    let events = events(&mut conn);
    assert_eq!(
        events[0]
            .new_data
            .as_ref()
            .unwrap()
            .as_object()
            .unwrap()
            .len(),
        121
    );
    assert_eq!(
        events[1].diff,
        Some(json!({"c0": change(json!(0), json!(1)), "c119": change(json!(0), json!(2))}))
    );
}
