//! Async scopes (feature `tokio`): a task-local context holds across `.await`, reaches sync
//! Diesel through `spawn_blocking(carry(..))`, and never crosses into another task.

use auditrum_diesel::context::{
    carry, carry_future, with_change_reason, with_change_reason_async, with_context_async,
    AuditContext,
};
use serde_json::json;

use super::{context_of_note, setup, write_note, DbPool};

async fn write(pool: &DbPool, id: i32) {
    let pool = pool.clone();
    tokio::task::spawn_blocking(carry(move || write_note(&pool, id)))
        .await
        .unwrap()
        .unwrap();
}

#[with_change_reason("async attribute")]
async fn attributed(pool: &DbPool, id: i32) {
    tokio::task::yield_now().await;
    write(pool, id).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn task_scopes_hold_across_awaits_and_reach_blocking_writes() {
    let (_db, mut reader, pool) = setup();
    with_context_async(AuditContext::new().user_id("u1"), async {
        tokio::task::yield_now().await;
        write(&pool, 1).await;
        with_change_reason_async("inner", async {
            tokio::task::yield_now().await;
            write(&pool, 2).await;
        })
        .await;
        // A sync scope inside async code, for a sync section.
        with_change_reason("sync section", || {
            let pool = pool.clone();
            std::thread::spawn(carry(move || write_note(&pool, 3)))
                .join()
                .unwrap()
                .unwrap();
        });
        // A spawned task starts with no context unless it is carried.
        let p = pool.clone();
        tokio::spawn(async move { write(&p, 4).await })
            .await
            .unwrap();
        let p = pool.clone();
        tokio::spawn(carry_future(async move { write(&p, 5).await }))
            .await
            .unwrap();
    })
    .await;
    attributed(&pool, 6).await;
    write(&pool, 7).await;

    let user = json!({"user_id": "u1"});
    tokio::task::block_in_place(|| {
        let reader = &mut reader;
        assert_eq!(context_of_note(reader, 1), Some(user.clone()));
        assert_eq!(
            context_of_note(reader, 2),
            Some(json!({"user_id": "u1", "change_reason": "inner"}))
        );
        assert_eq!(
            context_of_note(reader, 3),
            Some(json!({"user_id": "u1", "change_reason": "sync section"}))
        );
        assert_eq!(
            context_of_note(reader, 4),
            None,
            "tokio::spawn inherits nothing"
        );
        assert_eq!(context_of_note(reader, 5), Some(user));
        assert_eq!(
            context_of_note(reader, 6),
            Some(json!({"change_reason": "async attribute"}))
        );
        assert_eq!(context_of_note(reader, 7), None);
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interleaved_tasks_keep_their_own_context() {
    let (_db, mut reader, pool) = setup();
    let tasks: Vec<_> = (0..40)
        .map(|id| {
            let pool = pool.clone();
            tokio::spawn(with_context_async(
                AuditContext::new().request_id(format!("task-{id}")),
                async move {
                    // Yield between setting up and writing, so tasks interleave on the
                    // two worker threads.
                    for _ in 0..(id % 5) {
                        tokio::task::yield_now().await;
                    }
                    write(&pool, id).await;
                },
            ))
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    tokio::task::block_in_place(|| {
        for id in 0..40 {
            assert_eq!(
                context_of_note(&mut reader, id),
                Some(json!({"request_id": format!("task-{id}")})),
                "task {id}"
            );
        }
    });
}
