//! The query helpers: what each returns, and that each is answered through an index on a
//! log of 100,000 events.

use auditrum_diesel::connection::AuditedTransactionExt;
use auditrum_diesel::context::AuditContext;
use auditrum_diesel::read::{filter, AuditEvent, EventSearch, Page};
use auditrum_diesel::schema::auditlog;
use auditrum_diesel::{AuditConfig, Operation};
use auditrum_integration_tests::{count, events_in, exec, on_both_logs};
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

/// Six events: alice inserts users 1 and 2 (r-1), bob renames 2 (r-2), one transaction of
/// alice (karma of 1) with a nested scope of carol (email of 2), and a membership without
/// context.
fn scripted_writes(conn: &mut PgConnection) {
    let alice = || AuditContext::new().user_id("alice").request_id("r-1");
    let bob = || AuditContext::new().user_id("bob").request_id("r-2");
    write(
        conn,
        alice(),
        "INSERT INTO users (id, email, name) VALUES (1, 'a@x', 'A'), (2, 'b@x', 'B')",
    );
    write(conn, bob(), "UPDATE users SET name = 'Bee' WHERE id = 2");
    // One transaction, two contexts: alice, then a nested scope of carol.
    conn.audited_transaction(alice(), |conn| {
        diesel::sql_query("UPDATE users SET karma = 1 WHERE id = 1").execute(conn)?;
        conn.audited_transaction(AuditContext::new().user_id("carol"), |conn| {
            diesel::sql_query("UPDATE users SET email = 'c@x' WHERE id = 2").execute(conn)
        })
    })
    .unwrap();
    exec(
        conn,
        "INSERT INTO app.memberships VALUES (1, 1, 'member', NULL)",
    );
}

#[test]
fn each_helper_returns_exactly_its_events() {
    let (_db, mut conn) = database(&AuditConfig::default());
    scripted_writes(&mut conn);
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

on_both_logs!(
    #[test]
    event_search_returns_exactly_its_events
);
fn event_search_returns_exactly_its_events(config: AuditConfig) {
    let (_db, mut conn) = database(&config);
    scripted_writes(&mut conn);
    let all = events_in(&mut conn, &config);
    assert_eq!(all.len(), 6);
    let id = |i: usize| all[i].id;
    let load = |conn: &mut PgConnection, search: EventSearch| -> Vec<i64> {
        ids(&search.load(conn, &config, None).unwrap())
    };
    let search = EventSearch::new;
    assert_eq!(
        load(&mut conn, search().user("alice")),
        [id(0), id(1), id(3)]
    );
    assert_eq!(
        load(&mut conn, search().user("carol")),
        [id(4)],
        "same transaction, own context"
    );
    assert_eq!(load(&mut conn, search().user("nobody")), Vec::<i64>::new());
    assert_eq!(load(&mut conn, search().request("r-2")), [id(2)]);
    assert_eq!(
        load(&mut conn, search().transaction(all[3].txid)),
        [id(3), id(4)]
    );
    assert_eq!(
        load(&mut conn, search().table("public", "users")),
        [id(0), id(1), id(2), id(3), id(4)]
    );
    assert_eq!(
        load(&mut conn, search().table_named("app.memberships").unwrap()),
        [id(5)]
    );
    assert_eq!(
        load(&mut conn, search().record("public", "users", 2)),
        [id(1), id(2), id(4)]
    );
    assert_eq!(
        load(&mut conn, search().key("[1, 1]")),
        [id(5)],
        "a key of any table"
    );
    assert_eq!(
        load(
            &mut conn,
            search().table("public", "users").touching("name")
        ),
        [id(0), id(1), id(2)]
    );
    assert_eq!(
        load(
            &mut conn,
            search()
                .user("alice")
                .table("public", "users")
                .touching("karma")
        ),
        [id(0), id(1), id(3)],
    );
    assert_eq!(
        load(
            &mut conn,
            search().user("alice").operation(Operation::Update)
        ),
        [id(3)]
    );
    let (start, end) = (all[0].changed_at, all[5].changed_at);
    assert_eq!(
        load(&mut conn, search().between(start, end)).len(),
        5,
        "the end is excluded"
    );
    assert_eq!(load(&mut conn, search().since(end)), [id(5)]);
    assert_eq!(
        search().load(&mut conn, &config, Some(2)).unwrap().len(),
        2,
        "a limit"
    );
    // A value that would change the query if spliced into SQL matches nothing.
    assert!(load(&mut conn, search().user("alice' OR '1'='1")).is_empty());

    // Pages: newest first, without gaps or overlaps.
    let mut seen = Vec::new();
    let mut page = Some(Page::first(2));
    while let Some(current) = page {
        let result = search()
            .table("public", "users")
            .page(&mut conn, &config, current)
            .unwrap();
        seen.extend(ids(&result.events));
        page = result.next;
    }
    assert_eq!(seen, [id(4), id(3), id(2), id(1), id(0)]);
}

#[test]
fn pages_go_newest_first_without_gaps_or_overlaps() {
    let (_db, mut conn) = database(&AuditConfig::default());
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

/// 100,000 events over 50 days in 20 tables, 5,000 transactions of 100 users.
fn fill_log(conn: &mut PgConnection, config: &AuditConfig) {
    let sql = "INSERT INTO auditlog_context (txid, created_at, context)
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
         ANALYZE auditlog; ANALYZE auditlog_context;"
        .replace("auditlog_context", &config.qualified_context_table())
        .replace(
            "INSERT INTO auditlog ",
            &format!("INSERT INTO {} ", config.qualified_table()),
        )
        .replace(
            "ANALYZE auditlog;",
            &format!("ANALYZE {};", config.qualified_table()),
        )
        .replace(
            "::auditrum_operation",
            &format!(
                "::{}",
                auditrum_diesel::sql::quote::qualified(config.schema(), "auditrum_operation")
            ),
        );
    exec(conn, &sql);
    assert_eq!(
        count(
            conn,
            &format!("SELECT count(*) FROM {}", config.qualified_table())
        ),
        100_000
    );
}

/// Asserts the plan reads no table holding rows sequentially (the planner may scan an
/// empty partition, the next month's, in no time) and uses one of the indexes attached to
/// the audit log's index `parent`.
fn assert_uses(conn: &mut PgConnection, what: &str, plan: &str, parent: &str) {
    assert_uses_in(conn, &AuditConfig::default(), what, plan, parent);
}

/// [`assert_uses`] on the log of `config`; `parent` is named after the default log
/// (`auditlog_record_idx`) and renamed after `config`'s table.
fn assert_uses_in(
    conn: &mut PgConnection,
    config: &AuditConfig,
    what: &str,
    plan: &str,
    parent: &str,
) {
    let parent = parent.replacen("auditlog", config.table(), 1);
    let parent = parent.as_str();
    for scanned in plan.split("Seq Scan on ").skip(1) {
        let relation = scanned.split_whitespace().next().unwrap();
        let relation = format!("{}.{relation}", config.schema());
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
    let (_db, mut conn) = database(&AuditConfig::default());
    fill_log(&mut conn, &AuditConfig::default());
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

on_both_logs!(
    #[test]
    event_search_uses_an_index_on_100k_events
);
fn event_search_uses_an_index_on_100k_events(config: AuditConfig) {
    let (_db, mut conn) = database(&config);
    fill_log(&mut conn, &config);
    let at = |days: i64| -> DateTime<Utc> { Utc::now() - Duration::days(days) };
    let search = EventSearch::new;
    let cases: Vec<(&str, EventSearch, &str)> = vec![
        (
            "record",
            search().record("public", "users", 42),
            "auditlog_record_idx",
        ),
        (
            "record (moved away)",
            search().record("public", "users", 5040),
            "auditlog_old_record_idx",
        ),
        (
            "table",
            search().table("public", "users"),
            "auditlog_record_idx",
        ),
        (
            "touching",
            search().table("public", "users").touching("email"),
            "auditlog_record_idx",
        ),
        ("user", search().user("u7"), "auditlog_txid_idx"),
        (
            "user (context)",
            search().user("u7"),
            "auditlog_context_user_idx",
        ),
        ("request", search().request("req-42"), "auditlog_txid_idx"),
        (
            "request (context)",
            search().request("req-42"),
            "auditlog_context_request_idx",
        ),
        (
            "transaction",
            search().transaction(1_000_042),
            "auditlog_txid_idx",
        ),
        (
            "between",
            search().between(at(20), at(20) + Duration::hours(2)),
            "auditlog_time_idx",
        ),
    ];
    for (what, search, index) in cases {
        let plan = plan(&mut conn, search.query(&config, None));
        assert_uses_in(&mut conn, &config, what, &plan, index);
    }
}
