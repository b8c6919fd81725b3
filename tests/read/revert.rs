//! Revert: of one event, of a transaction, of a whole request; conflicts refused (and
//! forced); dry runs write nothing; the revert is itself audited.

use auditrum_diesel::read::{
    revert, AuditEvent, EventWithContext, ReadError, RevertOptions, RevertTarget,
};
use auditrum_diesel::{AuditConfig, Operation};
use auditrum_integration_tests::{count, exec, on_both_logs};
use diesel::prelude::*;
use serde_json::json;

use crate::models::database;
use crate::queries::write;
use auditrum_diesel::context::{with_context, AuditContext};

fn users(conn: &mut PgConnection) -> Vec<(i32, String, String, i32)> {
    use crate::models::users::dsl::*;
    users
        .select((id, email, name, karma))
        .order(id)
        .load(conn)
        .unwrap()
}

fn ctx(user: &str, request: &str) -> AuditContext {
    AuditContext::new().user_id(user).request_id(request)
}

fn last_event(conn: &mut PgConnection, config: &AuditConfig) -> AuditEvent {
    auditrum_integration_tests::events_in(conn, config)
        .pop()
        .expect("an event")
}

/// The events after `after`, with their contexts.
fn events_after(
    conn: &mut PgConnection,
    config: &AuditConfig,
    after: i64,
) -> Vec<EventWithContext> {
    diesel::sql_query(format!(
        "SELECT e.*, c.context FROM {} e LEFT JOIN {} c ON c.id = e.context_id WHERE e.id > $1 ORDER BY e.id",
        config.qualified_table(),
        config.qualified_context_table()
    ))
    .bind::<diesel::sql_types::BigInt, _>(after)
    .load(conn)
    .unwrap()
}

fn options() -> RevertOptions {
    RevertOptions::default()
}

on_both_logs!(
    #[test]
    reverting_one_event_sets_its_columns_back_through_the_audited_path
);
fn reverting_one_event_sets_its_columns_back_through_the_audited_path(config: AuditConfig) {
    let (_db, mut conn) = database(&config);
    write(
        &mut conn,
        ctx("alice", "r-1"),
        "INSERT INTO users (id, email, name) VALUES (1, 'a@x', 'Ann')",
    );
    write(
        &mut conn,
        ctx("bob", "r-2"),
        "UPDATE users SET email = 'wrong@x' WHERE id = 1",
    );
    let bad = last_event(&mut conn, &config);
    write(
        &mut conn,
        ctx("carol", "r-3"),
        "UPDATE users SET karma = 5 WHERE id = 1",
    );
    let before = last_event(&mut conn, &config).id;

    let report = with_context(
        AuditContext::new()
            .user_id("admin")
            .change_reason("ticket 9"),
        || revert(&mut conn, &config, &RevertTarget::Event(bad.id), options()),
    )
    .unwrap();
    assert_eq!(report.events, [bad.id]);
    assert!(
        report.conflicts.is_empty(),
        "carol changed karma, not email"
    );
    assert!(report.steps[0].applied);
    assert_eq!(users(&mut conn), [(1, "a@x".into(), "Ann".into(), 5)]);

    let written = events_after(&mut conn, &config, before);
    assert_eq!(written.len(), 1);
    let event = &written[0].event;
    assert_eq!(event.operation, Operation::Update);
    assert_eq!(
        event.changed("email"),
        Some((&json!("wrong@x"), &json!("a@x")))
    );
    assert_eq!(Some(event.txid), report.txid);
    let context = written[0].context.as_ref().unwrap();
    assert_eq!(context.source.as_deref(), Some("revert"));
    assert_eq!(
        context.user_id.as_deref(),
        Some("admin"),
        "the caller's scope is kept"
    );
    assert_eq!(
        context.change_reason.as_deref(),
        Some(format!("ticket 9; revert of event #{}", bad.id).as_str())
    );
    assert_eq!(context.extra["reverts"], json!({"event": bad.id}));
}

on_both_logs!(
    #[test]
    reverting_a_request_undoes_its_inserts_updates_and_deletes
);
fn reverting_a_request_undoes_its_inserts_updates_and_deletes(config: AuditConfig) {
    let (_db, mut conn) = database(&config);
    write(&mut conn, ctx("alice", "r-1"), "INSERT INTO users (id, email, name, karma) VALUES (1, 'a@x', 'Ann', 1), (2, 'b@x', 'Bob', 2)");
    let original = users(&mut conn);
    // One request, two transactions: an insert, an update and a delete.
    write(&mut conn, ctx("mallory", "r-9"), "INSERT INTO users (id, email, name) VALUES (5, 'm@x', 'M'); UPDATE users SET name = 'Hacked' WHERE id = 1");
    write(
        &mut conn,
        ctx("mallory", "r-9"),
        "DELETE FROM users WHERE id = 2",
    );
    write(
        &mut conn,
        ctx("alice", "r-10"),
        "UPDATE users SET karma = 10 WHERE id = 1",
    );
    let before = last_event(&mut conn, &config).id;

    let report = revert(
        &mut conn,
        &config,
        &RevertTarget::Request("r-9".into()),
        options(),
    )
    .unwrap();
    assert_eq!(report.events.len(), 3);
    let operations: Vec<&str> = report.steps.iter().map(|s| s.operation.as_str()).collect();
    assert_eq!(
        operations,
        ["INSERT", "UPDATE", "DELETE"],
        "newest first: undo delete, update, insert"
    );
    let mut expected = original.clone();
    expected[0].3 = 10; // alice's later karma change stays
    assert_eq!(users(&mut conn), expected);

    let written = events_after(&mut conn, &config, before);
    let ops: Vec<(Operation, Option<&str>)> = written
        .iter()
        .map(|e| (e.event.operation, e.event.record_id.as_deref()))
        .collect();
    assert_eq!(
        ops,
        [
            (Operation::Insert, Some("2")),
            (Operation::Update, Some("1")),
            (Operation::Delete, Some("5"))
        ]
    );
    assert!(written.iter().all(|e| e.event.txid == report.txid.unwrap()));
    for event in &written {
        let context = event.context.as_ref().unwrap();
        assert_eq!(context.source.as_deref(), Some("revert"));
        assert_eq!(
            context.change_reason.as_deref(),
            Some("revert of request r-9")
        );
        assert_eq!(context.extra["reverts"], json!({"request_id": "r-9"}));
    }
    assert_eq!(
        written[1].event.changed("name"),
        Some((&json!("Hacked"), &json!("Ann")))
    );
    assert_eq!(written[0].event.new_data.as_ref().unwrap()["name"], "Bob");
    // The revert is itself revertable, by its transaction.
    revert(
        &mut conn,
        &config,
        &RevertTarget::Transaction(report.txid.unwrap()),
        options(),
    )
    .unwrap();
    assert_eq!(users(&mut conn).len(), 2);
    assert_eq!(users(&mut conn)[0].2, "Hacked");
    assert!(users(&mut conn).iter().any(|u| u.0 == 5));
}

on_both_logs!(
    #[test]
    a_later_change_of_the_same_field_is_a_conflict
);
fn a_later_change_of_the_same_field_is_a_conflict(config: AuditConfig) {
    let (_db, mut conn) = database(&config);
    write(
        &mut conn,
        ctx("alice", "r-1"),
        "INSERT INTO users (id, email, name) VALUES (1, 'a@x', 'Ann')",
    );
    write(
        &mut conn,
        ctx("bob", "r-2"),
        "UPDATE users SET email = 'b@x', name = 'Anne' WHERE id = 1",
    );
    let reverted = last_event(&mut conn, &config);
    write(
        &mut conn,
        ctx("carol", "r-3"),
        "UPDATE users SET email = 'c@x' WHERE id = 1",
    );
    let later = last_event(&mut conn, &config);
    let events_before = count(
        &mut conn,
        &format!("SELECT count(*) FROM {}", config.qualified_table()),
    );
    let target = RevertTarget::Event(reverted.id);

    match revert(&mut conn, &config, &target, options()) {
        Err(ReadError::Conflicts(conflicts)) => {
            assert_eq!(conflicts.len(), 1);
            assert_eq!(
                (conflicts[0].reverted, conflicts[0].later),
                (reverted.id, later.id)
            );
            assert_eq!(conflicts[0].what, "changed email");
            assert_eq!(
                conflicts[0].to_string(),
                format!(
                    "public.users 1: #{} changed email after #{}",
                    later.id, reverted.id
                )
            );
        }
        other => panic!("expected conflicts, got {other:?}"),
    }
    assert_eq!(
        users(&mut conn),
        [(1, "c@x".into(), "Anne".into(), 0)],
        "nothing written"
    );
    assert_eq!(
        count(
            &mut conn,
            &format!("SELECT count(*) FROM {}", config.qualified_table())
        ),
        events_before
    );

    // A dry run reports the conflict and writes nothing either.
    let dry = revert(
        &mut conn,
        &config,
        &target,
        RevertOptions {
            dry_run: true,
            force: false,
        },
    )
    .unwrap();
    assert_eq!(dry.conflicts.len(), 1);
    assert_eq!(dry.steps.len(), 1);
    assert!(!dry.steps[0].applied);
    assert_eq!(
        dry.steps[0].values,
        *json!({"email": "a@x", "name": "Ann"}).as_object().unwrap()
    );
    assert_eq!(
        count(
            &mut conn,
            &format!("SELECT count(*) FROM {}", config.qualified_table())
        ),
        events_before
    );
    assert_eq!(
        count(
            &mut conn,
            &format!("SELECT count(*) FROM {}", config.qualified_context_table())
        ),
        3
    );

    // Forced: the later change is overwritten.
    let forced = revert(
        &mut conn,
        &config,
        &target,
        RevertOptions {
            dry_run: false,
            force: true,
        },
    )
    .unwrap();
    assert_eq!(forced.conflicts.len(), 1);
    assert_eq!(users(&mut conn), [(1, "a@x".into(), "Ann".into(), 0)]);
    assert_eq!(
        count(
            &mut conn,
            &format!("SELECT count(*) FROM {}", config.qualified_table())
        ),
        events_before + 1
    );
}

on_both_logs!(
    #[test]
    deletes_and_key_changes_conflict_and_revert
);
fn deletes_and_key_changes_conflict_and_revert(config: AuditConfig) {
    let (_db, mut conn) = database(&config);
    write(
        &mut conn,
        ctx("alice", "r-1"),
        "INSERT INTO users (id, email, name) VALUES (1, 'a@x', 'Ann')",
    );
    let insert = last_event(&mut conn, &config);
    write(
        &mut conn,
        ctx("bob", "r-2"),
        "UPDATE users SET id = 7 WHERE id = 1",
    );
    let moved = last_event(&mut conn, &config);

    // Undoing the insert would delete a row that was moved since.
    let Err(ReadError::Conflicts(conflicts)) = revert(
        &mut conn,
        &config,
        &RevertTarget::Event(insert.id),
        options(),
    ) else {
        panic!("expected a conflict");
    };
    assert_eq!(conflicts[0].what, "moved the row to key 7");
    // Undoing the key change moves it back.
    revert(
        &mut conn,
        &config,
        &RevertTarget::Event(moved.id),
        options(),
    )
    .unwrap();
    assert_eq!(users(&mut conn), [(1, "a@x".into(), "Ann".into(), 0)]);
    let back = last_event(&mut conn, &config);
    assert_eq!(
        (back.record_id.as_deref(), back.old_record_id.as_deref()),
        (Some("1"), Some("7"))
    );

    write(
        &mut conn,
        ctx("carol", "r-3"),
        "DELETE FROM users WHERE id = 1",
    );
    let delete = last_event(&mut conn, &config);
    exec(
        &mut conn,
        "INSERT INTO users (id, email, name) VALUES (1, 'new@x', 'New')",
    );
    let Err(ReadError::Conflicts(conflicts)) = revert(
        &mut conn,
        &config,
        &RevertTarget::Event(delete.id),
        options(),
    ) else {
        panic!("expected a conflict");
    };
    assert_eq!(conflicts[0].what, "re-created the row");
    exec(&mut conn, "DELETE FROM users WHERE id = 1");
    revert(
        &mut conn,
        &config,
        &RevertTarget::Event(delete.id),
        options(),
    )
    .unwrap();
    let users_now = users(&mut conn);
    assert_eq!(users_now, [(1, "a@x".into(), "Ann".into(), 0)]);

    assert!(matches!(
        revert(&mut conn, &config, &RevertTarget::Event(999_999), options()),
        Err(ReadError::NoSuchEvent(999_999))
    ));
    assert!(matches!(
        revert(
            &mut conn,
            &config,
            &RevertTarget::Request("nope".into()),
            options()
        ),
        Err(ReadError::NothingToRevert(_))
    ));
}
