//! `AsyncAuditedConnection` in diesel-async's deadpool and bb8 pools: 1,000 requests over
//! a pool of 2 connections from 8 tasks.

use auditrum_diesel::connection::AsyncAuditedConnection;
use diesel_async::pooled_connection::{bb8, deadpool, AsyncDieselConnectionManager};

use super::async_requests::run_async;
use super::workload::{check, setup};

const REQUESTS: usize = 1_000;
const TASKS: usize = 8;
const CONNECTIONS: usize = 2;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deadpool_requests_each_carry_their_own_context() {
    let (db, mut reader) = setup();
    let manager = AsyncDieselConnectionManager::<AsyncAuditedConnection>::new(db.url());
    let pool = deadpool::Pool::builder(manager)
        .max_size(CONNECTIONS)
        .build()
        .unwrap();
    run_async(REQUESTS, TASKS, move || {
        let pool = pool.clone();
        async move { pool.get().await.expect("a pooled connection") }
    })
    .await;
    tokio::task::block_in_place(|| check(&mut reader, REQUESTS));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bb8_requests_each_carry_their_own_context() {
    let (db, mut reader) = setup();
    let manager = AsyncDieselConnectionManager::<AsyncAuditedConnection>::new(db.url());
    let pool = bb8::Pool::builder()
        .max_size(CONNECTIONS as u32)
        .build(manager)
        .await
        .unwrap();
    run_async(REQUESTS, TASKS, move || {
        let pool = pool.clone();
        async move { pool.get_owned().await.expect("a pooled connection") }
    })
    .await;
    tokio::task::block_in_place(|| check(&mut reader, REQUESTS));
}
