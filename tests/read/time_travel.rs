//! Time travel: rows and tables rebuilt at instants, compared with what the table held then.

use std::collections::BTreeMap;

use auditrum_diesel::connection::AuditedTransactionExt;
use auditrum_diesel::context::AuditContext;
use auditrum_diesel::read::{as_of_in, as_of_json, table_as_of_in, table_as_of_json, ReadError};
use auditrum_diesel::{AuditConfig, Audited, TrackSpec};
use auditrum_integration_tests::{count, exec, on_both_logs, track_with};
use chrono::{DateTime, Utc};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::Timestamptz;
use serde_json::{json, Value};

use crate::models::{database, Membership, User};

diesel::table! {
    accounts (id) {
        id -> Integer,
        email -> Text,
        name -> Text,
        karma -> Integer,
        note -> Nullable<Text>,
    }
}

/// Every column tracked.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Audited)]
#[diesel(table_name = accounts)]
pub struct Account {
    pub id: i32,
    pub email: String,
    pub name: String,
    pub karma: i32,
    pub note: Option<String>,
}

/// The server's clock now (after the last commit, before the next transaction starts).
pub fn instant(conn: &mut PgConnection) -> DateTime<Utc> {
    #[derive(QueryableByName)]
    struct Now {
        #[diesel(sql_type = Timestamptz)]
        now: DateTime<Utc>,
    }
    diesel::sql_query("SELECT clock_timestamp() AS now")
        .get_result::<Now>(conn)
        .unwrap()
        .now
}

fn accounts_now(conn: &mut PgConnection) -> Vec<Account> {
    accounts::table
        .select(Account::as_select())
        .order(accounts::id)
        .load(conn)
        .unwrap()
}

fn table_at(conn: &mut PgConnection, config: &AuditConfig, at: DateTime<Utc>) -> Vec<Account> {
    let mut rows = Vec::new();
    let n = table_as_of_in::<Account, ReadError>(conn, config, at, |row| {
        rows.push(row);
        Ok(())
    })
    .unwrap();
    assert_eq!(n as usize, rows.len());
    rows.sort_by_key(|a| a.id);
    rows
}

/// The script: each step one transaction by a user, with a reason and a request id.
pub const SCRIPT: [(&str, &str, &str); 11] = [
    ("alice", "signup", "INSERT INTO accounts VALUES (1, 'ann@x', 'Ann', 0, 'new'), (2, 'bob@x', 'Bob', 5, NULL)"),
    ("bob", "ticket 1: typo", "UPDATE accounts SET email = 'ann@y' WHERE id = 1"),
    ("carol", "promotion after the quarterly review of every team's results", "UPDATE accounts SET name = 'Anne', karma = 10, note = 'promoted to senior engineer after the quarterly review' WHERE id = 1"),
    ("alice", "clear note", "UPDATE accounts SET note = NULL WHERE id = 1; UPDATE accounts SET note = 'vip' WHERE id = 2"),
    ("dave", "gdpr request", "DELETE FROM accounts WHERE id = 1"),
    ("alice", "came back", "INSERT INTO accounts VALUES (1, 'ann@z', 'Ann B', 1, 'again')"),
    ("bob", "renumber", "UPDATE accounts SET id = 3 WHERE id = 1"),
    ("carol", "bonus", "UPDATE accounts SET karma = karma + 100"),
    ("dave", "two steps", "UPDATE accounts SET karma = 7 WHERE id = 2; UPDATE accounts SET karma = 8 WHERE id = 2"),
    ("erin", "reset", "TRUNCATE accounts"),
    ("alice", "reload", "INSERT INTO accounts VALUES (2, 'bob@new', 'Bob', 0, NULL)"),
];

/// Creates and tracks `accounts`, runs [`SCRIPT`] (step `i` with request id `req-<i>`),
/// and returns the instant before the first step and after each, with the table's rows
/// then.
pub fn scripted_history(
    conn: &mut PgConnection,
    config: &AuditConfig,
) -> Vec<(DateTime<Utc>, Vec<Account>)> {
    exec(
        conn,
        "CREATE TABLE accounts (id int PRIMARY KEY, email text NOT NULL, name text NOT NULL,
            karma int NOT NULL, note text)",
    );
    track_with(conn, &Account::track_spec(), config);
    let mut snapshots = vec![(instant(conn), vec![])];
    for (i, (user, reason, sql)) in SCRIPT.into_iter().enumerate() {
        let ctx = AuditContext::new()
            .user_id(user)
            .change_reason(reason)
            .request_id(format!("req-{}", i + 1));
        conn.audited_transaction(ctx, |conn| conn.batch_execute(sql))
            .unwrap_or_else(|e| panic!("{sql}: {e}"));
        snapshots.push((instant(conn), accounts_now(conn)));
    }
    snapshots
}

// The scripted history of the issue: inserts, updates by different users with reasons,
// a change to NULL, a delete, a re-insert, a key change, a bulk update and a TRUNCATE;
// the table rebuilt at each of 12 instants equals the snapshot taken then, row by row and
// field by field, through `as_of` (each key), `table_as_of` and `as_of_json`.
on_both_logs!(
    #[test]
    a_scripted_history_is_rebuilt_exactly_at_every_instant
);
fn a_scripted_history_is_rebuilt_exactly_at_every_instant(config: AuditConfig) {
    let (_db, mut conn) = database(&config);
    let snapshots = scripted_history(&mut conn, &config);
    assert_eq!(snapshots.len(), 12);
    let spec = Account::track_spec();
    for (i, (at, expected)) in snapshots.iter().enumerate() {
        for id in 1..=3 {
            let want = expected.iter().find(|a| a.id == id).cloned();
            let got = as_of_in::<Account>(&mut conn, &config, id, *at).unwrap();
            assert_eq!(got, want, "instant {i}, as_of account {id}");
            let got_json = as_of_json(&mut conn, &config, &spec, &id.to_string(), *at).unwrap();
            let want_json = want.as_ref().map(|a| {
                json!({"id": a.id, "email": a.email, "name": a.name, "karma": a.karma, "note": a.note})
            });
            assert_eq!(got_json, want_json, "instant {i}, as_of_json account {id}");
        }
        assert_eq!(
            &table_at(&mut conn, &config, *at),
            expected,
            "instant {i}, table_as_of"
        );
    }
    // Spot checks, so the snapshots above are known to differ where they should.
    assert_eq!(snapshots[4].1[0].note, None);
    assert_eq!(
        snapshots[7].1.iter().map(|a| a.id).collect::<Vec<_>>(),
        [2, 3]
    );
    assert!(snapshots[10].1.is_empty());
}

on_both_logs!(
    #[test]
    untracked_columns_come_from_the_live_row_while_it_lives
);
fn untracked_columns_come_from_the_live_row_while_it_lives(config: AuditConfig) {
    let (_db, mut conn) = database(&config);
    exec(&mut conn, "INSERT INTO users (id, email, name, password_hash) VALUES (1, 'a@x', 'A', 'h1'), (2, 'b@x', 'B', 'h2')");
    let t1 = instant(&mut conn);
    exec(
        &mut conn,
        "UPDATE users SET email = 'a@y', password_hash = 'h1b' WHERE id = 1",
    );
    exec(&mut conn, "DELETE FROM users WHERE id = 2");
    let t2 = instant(&mut conn);

    let user = as_of_in::<User>(&mut conn, &config, 1, t1)
        .unwrap()
        .unwrap();
    assert_eq!(user.email, "a@x", "tracked: as it was");
    assert_eq!(
        user.password_hash, "h1b",
        "excluded: from the live row, as it is now"
    );
    assert_eq!(
        as_of_in::<User>(&mut conn, &config, 1, t2)
            .unwrap()
            .unwrap()
            .email,
        "a@y"
    );
    // Row 2 is gone: its password hash is nowhere.
    match as_of_in::<User>(&mut conn, &config, 2, t1) {
        Err(ReadError::UnknownColumns { columns, .. }) => assert_eq!(columns, "password_hash"),
        other => panic!("expected UnknownColumns, got {other:?}"),
    }
    let json = as_of_json(&mut conn, &config, &User::track_spec(), "2", t1).unwrap();
    assert_eq!(
        json,
        Some(json!({"id": 2, "email": "b@x", "name": "B", "karma": 0}))
    );
    assert_eq!(as_of_in::<User>(&mut conn, &config, 2, t2).unwrap(), None);

    // track_only, composite key, schema: the untracked note comes from the live row.
    exec(
        &mut conn,
        "INSERT INTO app.memberships VALUES (7, 1, 'member', 'first')",
    );
    let t3 = instant(&mut conn);
    exec(
        &mut conn,
        "UPDATE app.memberships SET role = 'owner', note = 'second'",
    );
    let m = as_of_in::<Membership>(&mut conn, &config, (7, 1), t3)
        .unwrap()
        .unwrap();
    assert_eq!(
        (m.role.as_str(), m.note.as_deref()),
        ("member", Some("second"))
    );
    let t4 = instant(&mut conn);
    let m = as_of_in::<Membership>(&mut conn, &config, (7, 1), t4)
        .unwrap()
        .unwrap();
    assert_eq!(m.role, "owner");
}

on_both_logs!(
    #[test]
    rows_older_than_the_log_and_rows_it_never_saw
);
fn rows_older_than_the_log_and_rows_it_never_saw(config: AuditConfig) {
    let (_db, mut conn) = auditrum_integration_tests::audited_database_with(&config);
    exec(&mut conn, "CREATE TABLE accounts (id int PRIMARY KEY, email text NOT NULL, name text NOT NULL, karma int NOT NULL, note text);
                     INSERT INTO accounts VALUES (1, 'old@x', 'Old', 1, NULL), (2, 'still@x', 'Still', 2, NULL)");
    track_with(&mut conn, &Account::track_spec(), &config);
    let before = instant(&mut conn);
    exec(
        &mut conn,
        "UPDATE accounts SET email = 'new@x' WHERE id = 1",
    );
    let after = instant(&mut conn);

    let old = as_of_in::<Account>(&mut conn, &config, 1, before)
        .unwrap()
        .unwrap();
    assert_eq!(old.email, "old@x", "read backwards from the first change");
    assert_eq!(
        as_of_in::<Account>(&mut conn, &config, 1, after)
            .unwrap()
            .unwrap()
            .email,
        "new@x"
    );
    let still = as_of_in::<Account>(&mut conn, &config, 2, before)
        .unwrap()
        .unwrap();
    assert_eq!(still.name, "Still", "no event: as it is now");
    let ids: Vec<(i32, String)> = table_at(&mut conn, &config, before)
        .into_iter()
        .map(|a| (a.id, a.email))
        .collect();
    assert_eq!(ids, [(1, "old@x".to_owned()), (2, "still@x".to_owned())]);
}

on_both_logs!(
    #[test]
    swapped_keys_are_followed_row_by_row
);
fn swapped_keys_are_followed_row_by_row(config: AuditConfig) {
    let (_db, mut conn) = auditrum_integration_tests::audited_database_with(&config);
    exec(&mut conn, "CREATE TABLE accounts (id int PRIMARY KEY DEFERRABLE INITIALLY DEFERRED, email text NOT NULL, name text NOT NULL, karma int NOT NULL, note text)");
    track_with(&mut conn, &Account::track_spec(), &config);
    exec(
        &mut conn,
        "INSERT INTO accounts VALUES (1, 'one@x', 'One', 1, NULL), (2, 'two@x', 'Two', 2, NULL)",
    );
    let t1 = instant(&mut conn);
    exec(&mut conn, "UPDATE accounts SET id = 3 - id");
    let t2 = instant(&mut conn);
    exec(&mut conn, "UPDATE accounts SET karma = karma * 10");
    let t3 = instant(&mut conn);
    let at = |conn: &mut PgConnection, id: i32, t| {
        as_of_in::<Account>(conn, &config, id, t).unwrap().unwrap()
    };
    assert_eq!(at(&mut conn, 1, t1).name, "One");
    assert_eq!(at(&mut conn, 1, t2).name, "Two");
    assert_eq!(at(&mut conn, 2, t2).name, "One");
    assert_eq!(
        (
            at(&mut conn, 1, t3).name.as_str(),
            at(&mut conn, 1, t3).karma
        ),
        ("Two", 20)
    );
    let names: Vec<String> = table_at(&mut conn, &config, t2)
        .into_iter()
        .map(|a| a.name)
        .collect();
    assert_eq!(names, ["Two", "One"]);
    assert_eq!(table_at(&mut conn, &config, t3), accounts_now(&mut conn));
}

// 25,000 rows, each inserted and updated at random: the table streamed as of now equals
// the table, and as of the instant between the two writes equals the copy taken then.
// The stream goes through the cursor in batches, splitting rows' events across batches.
on_both_logs!(
    #[test]
    a_large_table_streams_in_batches
);
fn a_large_table_streams_in_batches(config: AuditConfig) {
    let (_db, mut conn) = auditrum_integration_tests::audited_database_with(&config);
    exec(&mut conn, "CREATE TABLE accounts (id int PRIMARY KEY, email text NOT NULL, name text NOT NULL, karma int NOT NULL, note text)");
    track_with(&mut conn, &Account::track_spec(), &config);
    exec(&mut conn, "INSERT INTO accounts SELECT g, 'e' || g, 'n' || g, g, NULL FROM generate_series(1, 25000) g;
                     CREATE TABLE copy AS SELECT * FROM accounts;");
    let middle = instant(&mut conn);
    exec(
        &mut conn,
        "UPDATE accounts SET karma = karma + 1, note = 'x' WHERE id % 3 = 0;
                     UPDATE accounts SET email = 'changed' WHERE id % 5 = 0;
                     DELETE FROM accounts WHERE id % 7 = 0;",
    );
    assert_eq!(
        count(
            &mut conn,
            &format!("SELECT count(*) FROM {}", config.qualified_table())
        ),
        25_000 + 8_333 + 5_000 + 3_571
    );
    let end = instant(&mut conn);
    let now = table_at(&mut conn, &config, end);
    assert_eq!(now.len(), 25_000 - 3_571);
    assert_eq!(now, accounts_now(&mut conn));
    let then = table_at(&mut conn, &config, middle);
    let copy: Vec<Account> = diesel::sql_query("SELECT * FROM copy ORDER BY id")
        .load::<AccountByName>(&mut conn)
        .unwrap()
        .into_iter()
        .map(|a| Account {
            id: a.id,
            email: a.email,
            name: a.name,
            karma: a.karma,
            note: a.note,
        })
        .collect();
    assert_eq!(then.len(), 25_000);
    assert_eq!(then, copy);

    let mut by_id = BTreeMap::new();
    let spec = Account::track_spec();
    table_as_of_json::<ReadError>(&mut conn, &config, &spec, middle, |row: Value| {
        by_id.insert(row["id"].as_i64().unwrap(), row);
        Ok(())
    })
    .unwrap();
    assert_eq!(by_id.len(), 25_000);
    assert_eq!(
        by_id[&21],
        json!({"id": 21, "email": "e21", "name": "n21", "karma": 21, "note": null})
    );
}

#[derive(QueryableByName)]
#[diesel(table_name = accounts)]
struct AccountByName {
    id: i32,
    email: String,
    name: String,
    karma: i32,
    note: Option<String>,
}

on_both_logs!(
    #[test]
    a_spec_can_be_read_from_the_database_for_json
);
fn a_spec_can_be_read_from_the_database_for_json(config: AuditConfig) {
    let (_db, mut conn) = database(&config);
    exec(
        &mut conn,
        "INSERT INTO users (id, email, name) VALUES (1, 'a@x', 'A')",
    );
    let spec = TrackSpec::builder("users")
        .key(["id"])
        .track_only(["email"])
        .build()
        .unwrap();
    let at = instant(&mut conn);
    let row = as_of_json(&mut conn, &config, &spec, "1", at).unwrap();
    assert_eq!(row.unwrap()["email"], "a@x");
}
