//! `audited_transaction` on diesel-async's `AsyncPgConnection`.

use auditrum_diesel::connection::AuditedAsyncTransactionExt;
use auditrum_diesel::context::{with_change_reason_async, AuditContext, ContextError};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl, SimpleAsyncConnection};
use serde_json::json;

use super::{context_of_note, notes, setup};

async fn insert(conn: &mut AsyncPgConnection, id: i32) -> QueryResult<usize> {
    diesel::insert_into(notes::table)
        .values(notes::id.eq(id))
        .execute(conn)
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_pg_transactions_carry_the_context() {
    let (db, mut reader, _pool) = setup();
    let mut conn = AsyncPgConnection::establish(db.url()).await.unwrap();

    // Merged over a task-local scope; SET TRANSACTION still works first thing.
    with_change_reason_async("bulk fix", async {
        conn.audited_transaction(AuditContext::new().user_id(9), |conn| {
            Box::pin(async move {
                conn.batch_execute("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE")
                    .await?;
                insert(conn, 1).await
            })
        })
        .await
    })
    .await
    .unwrap();

    // Nested in a plain transaction: its context for its own writes only.
    conn.transaction::<_, diesel::result::Error, _>(async |conn| {
        conn.batch_execute(r#"SET LOCAL auditrum.context = '{"source": "outer"}'"#)
            .await?;
        insert(conn, 2).await?;
        conn.audited_transaction(AuditContext::new().user_id(10), |conn| {
            Box::pin(async move { insert(conn, 3).await })
        })
        .await?;
        insert(conn, 4).await
    })
    .await
    .unwrap();

    // A NUL is refused and nothing is written.
    let error = conn
        .audited_transaction(AuditContext::new().user_id("a\0"), |conn| {
            Box::pin(async move { insert(conn, 5).await })
        })
        .await
        .unwrap_err();
    assert!(matches!(
        ContextError::from_diesel(&error),
        Some(ContextError::Nul { .. })
    ));
    insert(&mut conn, 6).await.unwrap();

    tokio::task::block_in_place(|| {
        let reader = &mut reader;
        assert_eq!(
            context_of_note(reader, 1),
            Some(json!({"user_id": "9", "change_reason": "bulk fix"}))
        );
        assert_eq!(context_of_note(reader, 2), Some(json!({"source": "outer"})));
        assert_eq!(context_of_note(reader, 3), Some(json!({"user_id": "10"})));
        assert_eq!(context_of_note(reader, 4), Some(json!({"source": "outer"})));
        assert_eq!(context_of_note(reader, 6), None);
        assert_eq!(
            auditrum_integration_tests::count(reader, "SELECT count(*) FROM notes WHERE id = 5"),
            0
        );
    });
}
