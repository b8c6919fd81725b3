//! The request mix of [`workload`](super::workload) on sync Diesel connections.

use std::ops::DerefMut;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use auditrum_diesel::connection::AuditedConnection;
use auditrum_diesel::context::{
    self, with_change_reason, with_context, AuditContext, ContextHandle,
};
use diesel::prelude::*;
use diesel::result::Error;

use super::workload::{context_of, id, insert_sql, is_duplicate, notes, reason_of, KINDS};

/// Runs requests `0..total` from `threads` threads, each request on a connection of its
/// own from `get` (a pool checkout).
pub fn run_sync<G, C>(total: usize, threads: usize, get: G)
where
    G: Fn() -> C + Clone + Send + 'static,
    C: DerefMut<Target = AuditedConnection>,
{
    let next = Arc::new(AtomicUsize::new(0));
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let (next, get) = (Arc::clone(&next), get.clone());
            std::thread::spawn(move || loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= total {
                    break;
                }
                let mut conn = get();
                request_sync(&mut conn, n);
            })
        })
        .collect();
    for handle in handles {
        handle.join().expect("a request thread panicked");
    }
}

fn insert_sync(conn: &mut AuditedConnection, n: usize) -> QueryResult<usize> {
    notes::table
        .count()
        .get_result::<i64>(conn)
        .expect("a read");
    diesel::insert_into(notes::table)
        .values(notes::id.eq(id(n)))
        .execute(conn)
}

fn set_body_sync(conn: &mut AuditedConnection, n: usize, body: &str) -> QueryResult<usize> {
    diesel::update(notes::table.find(id(n)))
        .set(notes::body.eq(body))
        .execute(conn)
}

/// One request of the mix, sync.
pub fn request_sync(conn: &mut AuditedConnection, n: usize) {
    match n % KINDS {
        0 => with_context(context_of(n), || insert_sync(conn, n)).unwrap(),
        1 => {
            let handle = ContextHandle::new(AuditContext::new().request_id(format!("r-{n}")));
            let _scope = context::enter_handle(handle);
            ContextHandle::current()
                .unwrap()
                .set_user_id(format!("u-{n}"));
            conn.transaction::<_, Error, _>(|conn| {
                insert_sync(conn, n)?;
                set_body_sync(conn, n, "one")
            })
            .unwrap()
        }
        2 => with_context(context_of(n), || {
            conn.transaction::<_, Error, _>(|conn| {
                insert_sync(conn, n)?;
                with_change_reason(reason_of(n), || {
                    conn.transaction::<_, Error, _>(|conn| set_body_sync(conn, n, "inner"))
                })?;
                set_body_sync(conn, n, "outer")
            })
        })
        .unwrap(),
        3 => {
            let failed = with_context(context_of(n), || {
                conn.transaction::<usize, Error, _>(|conn| {
                    insert_sync(conn, n)?;
                    Err(Error::RollbackTransaction)
                })
            });
            assert!(matches!(failed, Err(Error::RollbackTransaction)));
            0
        }
        4 => {
            insert_sync(conn, n).unwrap();
            conn.transaction::<_, Error, _>(|conn| set_body_sync(conn, n, "four"))
                .unwrap()
        }
        _ => with_context(context_of(n), || {
            insert_sync(conn, n)?;
            let duplicate = insert_sql(n).execute(conn).unwrap_err();
            assert!(is_duplicate(&duplicate), "{duplicate}");
            set_body_sync(conn, n, "five")
        })
        .unwrap(),
    };
}
