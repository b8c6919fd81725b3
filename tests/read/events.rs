//! `AuditEvent`, `EventWithContext` and `EventContext` read back what the triggers wrote.

use auditrum_diesel::connection::AuditedTransactionExt;
use auditrum_diesel::context::AuditContext;
use auditrum_diesel::read::{AuditEvent, EventWithContext, RecordKey};
use auditrum_diesel::schema::{auditlog, auditlog_context};
use auditrum_diesel::{AuditConfig, Operation};
use auditrum_integration_tests::exec;
use diesel::prelude::*;
use serde_json::json;

use crate::models::{database, Membership, User};

#[test]
fn events_of_a_record_are_typed_with_their_changes() {
    let (_db, mut conn) = database(&AuditConfig::default());
    exec(
        &mut conn,
        "INSERT INTO users (id, email, name) VALUES (1, 'a@x', 'Ann')",
    );
    exec(
        &mut conn,
        "UPDATE users SET email = 'b@x', karma = 5, password_hash = 'secret' WHERE id = 1",
    );
    exec(&mut conn, "UPDATE users SET id = 2 WHERE id = 1");
    exec(&mut conn, "DELETE FROM users WHERE id = 2");

    let events: Vec<AuditEvent> = AuditEvent::for_record::<User>(1)
        .order(auditlog::id.asc())
        .load(&mut conn)
        .unwrap();
    let operations: Vec<Operation> = events.iter().map(|e| e.operation).collect();
    // Under key 1: the insert, the update, and the move to key 2 (not the delete of 2).
    assert_eq!(
        operations,
        [Operation::Insert, Operation::Update, Operation::Update]
    );
    let [insert, update, moved] = &events[..] else {
        unreachable!()
    };
    assert_eq!(insert.value_after("email"), Some(&json!("a@x")));
    assert_eq!(insert.changed("email"), None);
    assert_eq!(
        update.changed("email"),
        Some((&json!("a@x"), &json!("b@x")))
    );
    assert_eq!(
        update.changed_as::<i32>("karma").unwrap(),
        Some((0, 5)),
        "typed access"
    );
    assert_eq!(
        update.changed("password_hash"),
        None,
        "excluded columns are never stored"
    );
    let changed: Vec<&str> = update
        .changes()
        .iter()
        .map(|(column, _, _)| *column)
        .collect();
    assert_eq!(changed, ["email", "karma"]);
    assert_eq!(update.value_before("email"), Some(&json!("a@x")));
    assert!(moved.changed_key());
    assert_eq!(moved.record_id.as_deref(), Some("2"));
    assert_eq!(moved.changed("id"), Some((&json!(1), &json!(2))));

    let under_2 = AuditEvent::for_record::<User>(2).load(&mut conn).unwrap();
    assert_eq!(under_2.len(), 2, "the move and the delete");
    assert_eq!(under_2[1].value_before("name"), Some(&json!("Ann")));
}

#[test]
fn composite_keys_and_tables_outside_public() {
    let (_db, mut conn) = database(&AuditConfig::default());
    exec(
        &mut conn,
        "INSERT INTO app.memberships VALUES (7, 1, 'member', 'n'), (7, 2, 'member', NULL);
         UPDATE app.memberships SET role = 'owner' WHERE user_id = 1;",
    );
    let events = AuditEvent::for_record::<Membership>((7, 1))
        .load(&mut conn)
        .unwrap();
    assert_eq!(events.len(), 2);
    assert!(events
        .iter()
        .all(|e| e.table_schema == "app"
            && e.record_id.as_deref() == Some((7, 1).record_id().as_str())));
    assert_eq!(events[0].record_id.as_deref(), Some("[7, 1]"));
    let mut owners = AuditEvent::touching::<Membership>("role")
        .filter(auditlog::operation.eq(Operation::Update))
        .load(&mut conn)
        .unwrap();
    assert_eq!(owners.len(), 1);
    let owner = owners.pop().unwrap();
    assert_eq!(
        owner.changed_as::<String>("role").unwrap(),
        Some(("member".into(), "owner".into()))
    );
    assert_eq!(owner.changed("note"), None, "not tracked");
}

#[test]
fn the_context_comes_back_typed_with_custom_keys_kept() {
    let (_db, mut conn) = database(&AuditConfig::default());
    let ctx = AuditContext::new()
        .user_id(42)
        .request_id("r-1")
        .source("web")
        .change_reason("ticket 7")
        .insert("tenant", "acme")
        .insert("ticket", 7);
    conn.audited_transaction(ctx, |conn| {
        diesel::sql_query("INSERT INTO users (id, email, name) VALUES (1, 'a@x', 'Ann')")
            .execute(conn)
    })
    .unwrap();
    exec(&mut conn, "UPDATE users SET karma = 1"); // no context

    let events: Vec<EventWithContext> = auditlog::table
        .left_join(auditlog_context::table)
        .select(EventWithContext::as_select())
        .order(auditlog::id)
        .load(&mut conn)
        .unwrap();
    assert_eq!(events.len(), 2);
    let ctx = events[0]
        .context
        .as_ref()
        .expect("the insert has a context");
    assert_eq!(ctx.user_id.as_deref(), Some("42"));
    assert_eq!(ctx.request_id.as_deref(), Some("r-1"));
    assert_eq!(ctx.source.as_deref(), Some("web"));
    assert_eq!(ctx.change_reasons(), ["ticket 7"]);
    assert_eq!(ctx.extra.get("tenant"), Some(&json!("acme")));
    assert_eq!(ctx.extra.get("ticket"), Some(&json!(7)));
    assert_eq!(
        ctx.to_json(),
        json!({"user_id": "42", "request_id": "r-1", "source": "web",
               "change_reason": "ticket 7", "tenant": "acme", "ticket": 7})
    );
    assert_eq!(events[1].context, None);
    assert_eq!(events[1].event.operation, Operation::Update);
    // Serialized flat: the event's columns and `context`.
    let json = serde_json::to_value(&events[0]).unwrap();
    assert_eq!(json["operation"], "INSERT");
    assert_eq!(json["context"]["tenant"], "acme");
}
