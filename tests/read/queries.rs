//! The query helpers: what each returns, and that each is answered through an index on a
//! log of 100,000 events.

use auditrum_diesel::connection::AuditedTransactionExt;
use auditrum_diesel::context::AuditContext;
use auditrum_diesel::read::{filter, AuditEvent, Page};
use auditrum_diesel::schema::auditlog;
use auditrum_diesel::Operation;
use auditrum_integration_tests::{count, exec};
use chrono::{DateTime, Duration, Utc};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;

use crate::explain::{partition_indexes, plan};
use crate::models::{database, User};

pub fn write(conn: &mut PgConnection, ctx: AuditContext, sql: &str) {
    conn.audited_transaction(ctx, |conn| conn.batch_execute(sql))
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

fn ids(events: &[AuditEvent]) -> Vec<i64> {
    events.iter().map(|e| e.id).collect()
}

#[test]
fn each_helper_returns_exactly_its_events() {
    let (_db, mut conn) = database();
    let alice = || AuditContext::new().user_id("alice").request_id("r-1");
    let bob = || AuditContext::new().user_id("bob").request_id("r-2");
    write(
        &mut conn,
        alice(),
        "INSERT INTO users (id, email, name) VALUES (1, 'a@x', 'A'), (2, 'b@x', 'B')",
    );
    write(
        &mut conn,
        bob(),
        "UPDATE users SET name = 'Bee' WHERE id = 2",
    );
    // One transaction, two contexts: alice, then a nested scope of carol.
    conn.audited_transaction(alice(), |conn| {
        diesel::sql_query("UPDATE users SET karma = 1 WHERE id = 1").execute(conn)?;
        conn.audited_transaction(AuditContext::new().user_id("carol"), |conn| {
            diesel::sql_query("UPDATE users SET email = 'c@x' WHERE id = 2").execute(conn)
        })
    })
    .unwrap();
    exec(
        &mut conn,
        "INSERT INTO app.memberships VALUES (1, 1, 'member', NULL)",
    );

    let all: Vec<AuditEvent> = AuditEvent::query()
        .order(auditlog::id)
        .load(&mut conn)
        .unwrap();
    assert_eq!(all.len(), 6);
    let id = |i: usize| all[i].id;
    let load = |conn: &mut PgConnection, q: filter::EventQuery<'static>| -> Vec<i64> {
        ids(&q.order(auditlog::id).load(conn).unwrap())
    };

    assert_eq!(
        load(&mut conn, AuditEvent::by_user("alice")),
        [id(0), id(1), id(3)]
    );
    assert_eq!(
        load(&mut conn, AuditEvent::by_user("carol")),
        [id(4)],
        "same transaction, own context"
    );
    assert_eq!(
        load(&mut conn, AuditEvent::by_user("nobody")),
        Vec::<i64>::new()
    );
    assert_eq!(load(&mut conn, AuditEvent::by_request("r-2")), [id(2)]);
    assert_eq!(
        load(&mut conn, AuditEvent::in_transaction(all[3].txid)),
        [id(3), id(4)]
    );
    assert_eq!(
        load(&mut conn, AuditEvent::for_table::<User>()),
        [id(0), id(1), id(2), id(3), id(4)]
    );
    assert_eq!(
        load(&mut conn, AuditEvent::of_table("app.memberships").unwrap()),
        [id(5)]
    );
    assert_eq!(
        load(&mut conn, AuditEvent::for_record::<User>(2)),
        [id(1), id(2), id(4)]
    );
    assert_eq!(
        load(&mut conn, AuditEvent::touching::<User>("name")),
        [id(0), id(1), id(2)]
    );
    // Composed: alice's writes to users that touched karma.
    assert_eq!(
        load(
            &mut conn,
            AuditEvent::by_user("alice").filter(filter::touching::<User>("karma"))
        ),
        [id(0), id(1), id(3)],
    );
    let updates = AuditEvent::by_user("alice").filter(auditlog::operation.eq(Operation::Update));
    assert_eq!(load(&mut conn, updates), [id(3)]);

    let start = all[0].changed_at;
    let end = all[5].changed_at;
    assert_eq!(
        load(&mut conn, AuditEvent::between(start, end)).len(),
        5,
        "the end is excluded"
    );
    assert_eq!(
        load(
            &mut conn,
            AuditEvent::between(end, end + Duration::seconds(1))
        ),
        [id(5)]
    );
}

#[test]
fn pages_go_newest_first_without_gaps_or_overlaps() {
    let (_db, mut conn) = database();
    exec(
        &mut conn,
        "INSERT INTO users (id, email, name) SELECT g, 'e' || g, 'n' FROM generate_series(1, 10) g;
         UPDATE users SET karma = 1;
         INSERT INTO app.memberships VALUES (1, 1, 'member', NULL);",
    );
    let mut seen = Vec::new();
    let mut page = Some(Page::first(3));
    let mut pages = 0;
    while let Some(current) = page {
        let result = current
            .load(&mut conn, AuditEvent::for_table::<User>())
            .unwrap();
        assert!(result.events.len() <= 3);
        seen.extend(ids(&result.events));
        page = result.next;
        pages += 1;
    }
    let mut expected: Vec<i64> = ids(&AuditEvent::for_table::<User>().load(&mut conn).unwrap());
    expected.sort_unstable_by(|a, b| b.cmp(a));
    assert_eq!(expected.len(), 20);
    assert_eq!(seen, expected);
    assert_eq!(pages, 7, "6 full pages, then an empty last one");
}

/// 100,000 events over 50 days in 20 tables, 5,000 transactions of 100 users; and 5,000
/// one-event transactions of 100 other users, whose events carry their context.
fn fill_log(conn: &mut PgConnection) {
    exec(
        conn,
        "INSERT INTO auditlog_context (txid, created_at, context)
         SELECT 1000000 + k, now() - interval '50 days' + k * interval '864 seconds',
                jsonb_build_object('user_id', 'u' || (k % 100), 'request_id', 'req-' || k)
         FROM generate_series(1, 5000) k;
         INSERT INTO auditlog (changed_at, operation, table_schema, table_name, record_id,
                               old_record_id, diff, new_data, txid, context_id)
         SELECT now() - interval '50 days' + (g / 20 + 1) * interval '864 seconds',
                CASE WHEN g % 7 = 0 THEN 'INSERT' ELSE 'UPDATE' END::auditrum_operation,
                'public', CASE g % 20 WHEN 0 THEN 'users' ELSE 't' || (g % 20) END,
                ((g / 20) % 2000)::text,
                CASE WHEN g % 997 = 0 THEN ((g / 20) % 2000 + 5000)::text END,
                CASE WHEN g % 7 <> 0 THEN jsonb_build_object(
                    CASE WHEN g % 3 = 0 THEN 'email' ELSE 'name' END,
                    jsonb_build_object('old', 'x', 'new', 'y')) END,
                CASE WHEN g % 7 = 0 THEN '{\"email\": \"x\", \"name\": \"y\"}'::jsonb END,
                1000000 + g / 20 + 1, g / 20 + 1
         FROM generate_series(0, 99999) g;
         INSERT INTO auditlog (changed_at, operation, table_schema, table_name, record_id,
                               new_data, txid, context)
         SELECT now() - interval '50 days' + k * interval '864 seconds', 'INSERT', 'public',
                't' || (k % 20), (3000 + k)::text, '{}'::jsonb, 2000000 + k,
                jsonb_build_object('user_id', 'v' || (k % 100), 'request_id', 'ireq-' || k)
         FROM generate_series(1, 5000) k;
         ANALYZE auditlog; ANALYZE auditlog_context;",
    );
    assert_eq!(count(conn, "SELECT count(*) FROM auditlog"), 105_000);
}

/// Asserts the plan reads no table holding rows sequentially (the planner may scan an
/// empty partition, the next month's, in no time) and uses one of the indexes attached to
/// the audit log's index `parent`.
fn assert_uses(conn: &mut PgConnection, what: &str, plan: &str, parent: &str) {
    for scanned in plan.split("Seq Scan on ").skip(1) {
        let relation = scanned.split_whitespace().next().unwrap();
        let rows = count(conn, &format!("SELECT count(*) FROM {relation}"));
        assert_eq!(rows, 0, "{what}: a sequential scan of {relation}\n{plan}");
    }
    let indexes = partition_indexes(conn, parent);
    assert!(
        indexes.iter().any(|index| plan.contains(index.as_str())),
        "{what}: none of {indexes:?} in the plan\n{plan}"
    );
}

#[test]
fn every_helper_uses_an_index_on_100k_events() {
    let (_db, mut conn) = database();
    fill_log(&mut conn);
    let at = |days: i64| -> DateTime<Utc> { Utc::now() - Duration::days(days) };

    let cases: Vec<(&str, filter::EventQuery<'static>, &str)> = vec![
        (
            "for_record",
            AuditEvent::for_record::<User>(42),
            "auditlog_record_idx",
        ),
        (
            "for_record (moved away)",
            AuditEvent::for_record::<User>(5040),
            "auditlog_old_record_idx",
        ),
        (
            "for_table",
            AuditEvent::for_table::<User>(),
            "auditlog_record_idx",
        ),
        (
            "touching",
            AuditEvent::touching::<User>("email"),
            "auditlog_record_idx",
        ),
        ("by_user", AuditEvent::by_user("u7"), "auditlog_txid_idx"),
        (
            "by_user (context)",
            AuditEvent::by_user("u7"),
            "auditlog_context_user_idx",
        ),
        (
            "by_request",
            AuditEvent::by_request("req-42"),
            "auditlog_txid_idx",
        ),
        (
            "by_request (context)",
            AuditEvent::by_request("req-42"),
            "auditlog_context_request_idx",
        ),
        (
            "by_user (context on the event)",
            AuditEvent::by_user("v7"),
            "auditlog_inline_user_idx",
        ),
        (
            "by_request (context on the event)",
            AuditEvent::by_request("ireq-42"),
            "auditlog_inline_request_idx",
        ),
        (
            "in_transaction",
            AuditEvent::in_transaction(1_000_042),
            "auditlog_txid_idx",
        ),
        (
            "between",
            AuditEvent::between(at(20), at(20) + Duration::hours(2)),
            "auditlog_time_idx",
        ),
        (
            "page of the log",
            Page::first(50).apply(AuditEvent::query()),
            "auditlog_pkey",
        ),
        (
            "page after a cursor",
            Page::before(60_000, 50).apply(AuditEvent::query()),
            "auditlog_pkey",
        ),
        (
            "page of a user",
            Page::first(50).apply(AuditEvent::by_user("u7")),
            "auditlog_txid_idx",
        ),
        (
            "page of a record",
            Page::first(50).apply(AuditEvent::for_record::<User>(42)),
            "auditlog_record_idx",
        ),
    ];
    for (what, query, index) in cases {
        let plan = plan(&mut conn, query);
        assert_uses(&mut conn, what, &plan, index);
    }
}
