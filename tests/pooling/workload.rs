//! The request mix every pooling test runs, sync and async, and the check of what the
//! database holds afterwards: every event carries exactly its own request's context.
//!
//! Request `n` has the context `{"request_id": "r-n", "user_id": "u-n"}` (unique, so a
//! context that leaked to another request shows), and does one of six things, `n % 6`:
//!
//! 0. a write outside a transaction (the connection wraps it);
//! 1. a transaction of two writes, the user added to a `ContextHandle` mid-request;
//! 2. a transaction, a nested one with a change reason, then the outer context again;
//! 3. a transaction that fails: nothing may remain;
//! 4. no context at all: a write outside a transaction and one inside;
//! 5. writes outside a transaction, the middle one failing (duplicate key).

use std::collections::BTreeMap;

use auditrum_diesel::context::AuditContext;
use auditrum_diesel::schema::{auditlog, auditlog_context};
use auditrum_diesel::Operation;
use auditrum_diesel::TrackSpec;
use auditrum_integration_tests::*;
use diesel::prelude::*;
use diesel::result::{DatabaseErrorKind, Error};
use serde_json::Value;

diesel::table! {
    notes (id) {
        id -> Int4,
        body -> Nullable<Text>,
    }
}

/// How many kinds of request there are.
pub const KINDS: usize = 6;

/// A fresh audited database with the `notes` table tracked, and a reader.
pub fn setup() -> (auditrum_testdb::TestDatabase, PgConnection) {
    let (db, mut reader) = audited_database();
    exec(
        &mut reader,
        "CREATE TABLE notes (id int PRIMARY KEY, body text)",
    );
    track(
        &mut reader,
        &TrackSpec::builder("notes")
            .columns(["id", "body"])
            .build()
            .unwrap(),
    );
    (db, reader)
}

/// The context of request `n`.
pub fn context_of(n: usize) -> AuditContext {
    AuditContext::new()
        .request_id(format!("r-{n}"))
        .user_id(format!("u-{n}"))
}

pub fn reason_of(n: usize) -> String {
    format!("nested {n}")
}

pub fn id(n: usize) -> i32 {
    i32::try_from(n).expect("test ids fit an i32")
}

/// The events request `n` must leave on its note, in order, with their stored context.
fn expected(n: usize) -> Vec<(Operation, Option<Value>)> {
    let ctx = Some(context_of(n).to_json());
    let nested = Some(context_of(n).change_reason(reason_of(n)).to_json());
    match n % KINDS {
        0 => vec![(Operation::Insert, ctx)],
        1 => vec![(Operation::Insert, ctx.clone()), (Operation::Update, ctx)],
        2 => vec![
            (Operation::Insert, ctx.clone()),
            (Operation::Update, nested),
            (Operation::Update, ctx),
        ],
        3 => vec![],
        4 => vec![(Operation::Insert, None), (Operation::Update, None)],
        _ => vec![(Operation::Insert, ctx.clone()), (Operation::Update, ctx)],
    }
}

/// Asserts that the database holds exactly the events of requests `0..total`, each with
/// its own request's context, and that each failed write left nothing.
pub fn check(reader: &mut PgConnection, total: usize) {
    let rows: Vec<(Option<String>, Operation, Option<Value>)> = auditlog::table
        .left_join(auditlog_context::table)
        .filter(auditlog::table_name.eq("notes"))
        .order(auditlog::id)
        .select((
            auditlog::record_id,
            auditlog::operation,
            // The event's own context (a one-row statement), else its context row's.
            diesel::dsl::sql::<diesel::sql_types::Nullable<diesel::sql_types::Jsonb>>(
                "COALESCE(\"auditlog\".\"context\", \"auditlog_context\".\"context\")",
            ),
        ))
        .load(reader)
        .expect("events load");
    let mut actual: BTreeMap<usize, Vec<(Operation, Option<Value>)>> = BTreeMap::new();
    for (record, operation, context) in rows {
        let n: usize = record.expect("a key").parse().expect("a numeric key");
        actual.entry(n).or_default().push((operation, context));
    }
    let mut events = 0;
    for n in 0..total {
        let want = expected(n);
        events += want.len();
        let got = actual.remove(&n).unwrap_or_default();
        assert_eq!(got, want, "events of request {n} (kind {})", n % KINDS);
    }
    assert!(actual.is_empty(), "events of no request: {actual:?}");
    assert_eq!(
        count(reader, "SELECT count(*) FROM notes WHERE id % 6 = 3"),
        0,
        "failed transactions left rows"
    );
    let kept = (0..total).filter(|n| n % KINDS != 3).count();
    assert_eq!(count(reader, "SELECT count(*) FROM notes"), kept as i64);
    eprintln!("checked {total} requests, {events} events, each with its own context");
}

pub fn insert_sql(n: usize) -> diesel::query_builder::SqlQuery {
    diesel::sql_query(format!("INSERT INTO notes (id) VALUES ({})", id(n)))
}

/// Whether `error` is the duplicate key a kind-5 request provokes.
pub fn is_duplicate(error: &Error) -> bool {
    matches!(
        error,
        Error::DatabaseError(DatabaseErrorKind::UniqueViolation, _)
    )
}
