//! The request mix of [`workload`](super::workload) on diesel-async connections.

use std::ops::DerefMut;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use auditrum_diesel::connection::AsyncAuditedConnection;
use auditrum_diesel::context::{
    with_change_reason_async, with_context_async, with_handle_async, AuditContext, ContextHandle,
};
use diesel::result::Error;
use diesel::{ExpressionMethods, QueryDsl, QueryResult};
use diesel_async::{AsyncConnection, RunQueryDsl};

use super::workload::{context_of, id, insert_sql, is_duplicate, notes, reason_of, KINDS};

/// Runs requests `0..total` from `tasks` tokio tasks, each request on a connection of its
/// own from `get` (a pool checkout).
pub async fn run_async<G, Fut, C>(total: usize, tasks: usize, get: G)
where
    G: Fn() -> Fut + Clone + Send + Sync + 'static,
    Fut: std::future::Future<Output = C> + Send,
    C: DerefMut<Target = AsyncAuditedConnection> + Send,
{
    let next = Arc::new(AtomicUsize::new(0));
    let mut handles = Vec::new();
    for _ in 0..tasks {
        let (next, get) = (Arc::clone(&next), get.clone());
        handles.push(tokio::spawn(async move {
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= total {
                    break;
                }
                let mut conn = get().await;
                request_async(&mut conn, n).await;
            }
        }));
    }
    for handle in handles {
        handle.await.expect("a request task panicked");
    }
}

async fn insert_async(conn: &mut AsyncAuditedConnection, n: usize) -> QueryResult<usize> {
    notes::table
        .count()
        .get_result::<i64>(conn)
        .await
        .expect("a read");
    diesel::insert_into(notes::table)
        .values(notes::id.eq(id(n)))
        .execute(conn)
        .await
}

async fn set_body_async(
    conn: &mut AsyncAuditedConnection,
    n: usize,
    body: &str,
) -> QueryResult<usize> {
    diesel::update(notes::table.find(id(n)))
        .set(notes::body.eq(body))
        .execute(conn)
        .await
}

/// One request of the mix, async.
pub async fn request_async(conn: &mut AsyncAuditedConnection, n: usize) {
    let yield_now = tokio::task::yield_now;
    match n % KINDS {
        0 => with_context_async(context_of(n), insert_async(conn, n))
            .await
            .unwrap(),
        1 => {
            let handle = ContextHandle::new(AuditContext::new().request_id(format!("r-{n}")));
            with_handle_async(handle, async {
                yield_now().await;
                // Authentication, later in the request.
                ContextHandle::current()
                    .unwrap()
                    .set_user_id(format!("u-{n}"));
                conn.transaction::<_, Error, _>(async |conn| {
                    insert_async(conn, n).await?;
                    yield_now().await;
                    set_body_async(conn, n, "one").await
                })
                .await
            })
            .await
            .unwrap()
        }
        2 => with_context_async(context_of(n), async {
            conn.transaction::<_, Error, _>(async |conn| {
                insert_async(conn, n).await?;
                with_change_reason_async(reason_of(n), async {
                    conn.transaction::<_, Error, _>(async |conn| {
                        yield_now().await;
                        set_body_async(conn, n, "inner").await
                    })
                    .await
                })
                .await?;
                set_body_async(conn, n, "outer").await
            })
            .await
        })
        .await
        .unwrap(),
        3 => {
            let failed = with_context_async(context_of(n), async {
                conn.transaction::<usize, Error, _>(async |conn| {
                    insert_async(conn, n).await?;
                    yield_now().await;
                    Err(Error::RollbackTransaction)
                })
                .await
            })
            .await;
            assert!(matches!(failed, Err(Error::RollbackTransaction)));
            0
        }
        4 => {
            insert_async(conn, n).await.unwrap();
            conn.transaction::<_, Error, _>(async |conn| set_body_async(conn, n, "four").await)
                .await
                .unwrap()
        }
        _ => with_context_async(context_of(n), async {
            insert_async(conn, n).await?;
            yield_now().await;
            let duplicate = insert_sql(n).execute(conn).await.unwrap_err();
            assert!(is_duplicate(&duplicate), "{duplicate}");
            set_body_async(conn, n, "five").await
        })
        .await
        .unwrap(),
    };
}
