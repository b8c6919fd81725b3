//! `AsyncAuditedConnection` on its own: round trips, a future made outside its scope,
//! savepoints rolled back, batches, `SET TRANSACTION`, a write cancelled mid-way.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use auditrum_diesel::connection::AsyncAuditedConnection;
use auditrum_diesel::context::{with_context_async, AuditContext};
use auditrum_diesel::schema::{auditlog, auditlog_context};
use diesel::connection::InstrumentationEvent;
use diesel::prelude::{ExpressionMethods, QueryDsl};
use diesel::result::Error;
use diesel::{NullableExpressionMethods, PgConnection, QueryResult};
use diesel_async::pooled_connection::PoolableConnection;
use diesel_async::{AsyncConnection, RunQueryDsl, SimpleAsyncConnection};
use futures_util::FutureExt;
use serde_json::{json, Value};

use super::workload::{notes, setup};

async fn insert(conn: &mut AsyncAuditedConnection, id: i32) -> QueryResult<usize> {
    diesel::insert_into(notes::table)
        .values(notes::id.eq(id))
        .execute(conn)
        .await
}

/// The stored context of each event on `notes`, by note id, in event order.
fn contexts(reader: &mut PgConnection) -> Vec<(String, Option<Value>)> {
    let query = auditlog::table
        .left_join(auditlog_context::table)
        .filter(auditlog::table_name.eq("notes"))
        .order(auditlog::id)
        .select((
            auditlog::record_id.assume_not_null(),
            // The event's own context (a one-row statement), else its context row's.
            diesel::dsl::sql::<diesel::sql_types::Nullable<diesel::sql_types::Jsonb>>(
                "COALESCE(\"auditlog\".\"context\", \"auditlog_context\".\"context\")",
            ),
        ));
    diesel::RunQueryDsl::load(query, reader).expect("events load")
}

fn ctx(user: &str) -> AuditContext {
    AuditContext::new().user_id(user)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_async_wrapper_attributes_every_write() {
    let (db, mut reader) = setup();
    let mut conn = AsyncAuditedConnection::establish(db.url()).await.unwrap();
    let statements = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&statements);
    conn.set_instrumentation(move |event: InstrumentationEvent<'_>| {
        if matches!(event, InstrumentationEvent::StartQuery { .. }) {
            counter.fetch_add(1, Ordering::Relaxed);
        }
    });

    // A transaction with a context: BEGIN; SET LOCAL (one batch), INSERT, COMMIT.
    with_context_async(ctx("a"), async {
        conn.transaction::<_, Error, _>(async |conn| insert(conn, 1).await)
            .await
    })
    .await
    .unwrap();
    assert_eq!(statements.swap(0, Ordering::Relaxed), 3, "round trips");

    // The future is made outside the scope and runs inside it: the context is read when
    // it runs. Wrapped: the same three round trips.
    let write = diesel::insert_into(notes::table)
        .values(notes::id.eq(2))
        .execute(&mut conn);
    with_context_async(ctx("b"), write).await.unwrap();
    assert_eq!(statements.swap(0, Ordering::Relaxed), 3, "round trips");

    // SET TRANSACTION first thing still works; a savepoint rolled back restores the
    // outer context by itself.
    with_context_async(ctx("c"), async {
        conn.transaction::<_, Error, _>(async |conn| {
            conn.batch_execute("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE")
                .await?;
            insert(conn, 3).await?;
            let inner = with_context_async(ctx("inner"), async {
                conn.transaction::<(), Error, _>(async |conn| {
                    insert(conn, 4).await?;
                    Err(Error::RollbackTransaction)
                })
                .await
            })
            .await;
            assert!(inner.is_err());
            insert(conn, 5).await
        })
        .await
    })
    .await
    .unwrap();

    // A batch that writes, outside a transaction: the SET LOCAL goes in front.
    with_context_async(ctx("d"), async {
        conn.batch_execute(
            "INSERT INTO notes (id) VALUES (6); UPDATE notes SET body = 'x' WHERE id = 6",
        )
        .await
    })
    .await
    .unwrap();

    // A wrapped write cancelled after its BEGIN was sent: the connection says it is broken
    // (a pool drops it); used again, it ends that transaction first.
    let cancelled = with_context_async(ctx("cancelled"), insert(&mut conn, 7)).now_or_never();
    assert!(cancelled.is_none(), "the write was still under way");
    assert!(PoolableConnection::is_broken(&mut conn));
    insert(&mut conn, 8).await.unwrap();
    assert!(!PoolableConnection::is_broken(&mut conn));

    // A bad context fails the write and writes nothing; reads still work.
    let bad = with_context_async(ctx("nul\0"), insert(&mut conn, 9)).await;
    assert!(bad.is_err());
    let ids: Vec<i32> = with_context_async(ctx("nul\0"), async {
        notes::table
            .select(notes::id)
            .order(notes::id)
            .load(&mut conn)
            .await
    })
    .await
    .unwrap();
    assert_eq!(ids, [1, 2, 3, 5, 6, 8]);

    // `audited_transaction`, inside a task of its own (its future is `Send`).
    let mut conn = tokio::spawn(async move {
        conn.audited_transaction(ctx("e"), |conn| Box::pin(insert(conn, 10)))
            .await
            .map(|_| conn)
    })
    .await
    .unwrap()
    .unwrap();
    insert(&mut conn, 11).await.unwrap();

    let user = |u: &str| Some(json!({ "user_id": u }));
    assert_eq!(
        tokio::task::block_in_place(|| contexts(&mut reader)),
        [
            ("1".to_owned(), user("a")),
            ("2".to_owned(), user("b")),
            ("3".to_owned(), user("c")),
            ("5".to_owned(), user("c")),
            ("6".to_owned(), user("d")),
            ("6".to_owned(), user("d")),
            ("8".to_owned(), None),
            ("10".to_owned(), user("e")),
            ("11".to_owned(), None),
        ]
    );
}
