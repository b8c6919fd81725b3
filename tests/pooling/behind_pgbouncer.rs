//! Behind a real PgBouncer (started per test, see [`pgbouncer`](super::pgbouncer)): more
//! clients than server connections, sync and async. What docs/context.md says about
//! poolers is what these tests show.

use auditrum_diesel::connection::{AsyncAuditedConnection, AuditedConnection};
use auditrum_diesel::context::{with_context, AuditContext};
use auditrum_integration_tests::count;
use diesel::connection::CacheSize;
use diesel::prelude::*;
use diesel::r2d2::{ConnectionManager, CustomizeConnection, Pool};
use diesel::result::{DatabaseErrorKind, Error};
use diesel_async::pooled_connection::{deadpool, AsyncDieselConnectionManager};

use super::async_requests::run_async;
use super::pgbouncer::{self, PgBouncer, PoolMode, Settings};
use super::sync_requests::run_sync;
use super::workload::{check, notes, setup};

const REQUESTS: usize = 600;
const CLIENTS: usize = 8;
const SERVER_CONNECTIONS: usize = 2;

/// Diesel's statement cache off: its named prepared statements outlive the transaction,
/// and transaction pooling gives the next transaction another server connection.
#[derive(Debug)]
struct NoStatementCache;

impl CustomizeConnection<AuditedConnection, diesel::r2d2::Error> for NoStatementCache {
    fn on_acquire(&self, conn: &mut AuditedConnection) -> Result<(), diesel::r2d2::Error> {
        conn.set_prepared_statement_cache_size(CacheSize::Disabled);
        Ok(())
    }
}

fn transaction_pooling(prepared_statements: usize) -> Settings {
    Settings {
        mode: PoolMode::Transaction,
        server_connections: SERVER_CONNECTIONS,
        prepared_statements,
    }
}

/// 8 threads, an r2d2 pool of 8 `AuditedConnection`s, 2 server connections.
#[test]
fn sync_requests_behind_transaction_pooling_carry_their_own_context() {
    let (db, mut reader) = setup();
    let bouncer = PgBouncer::start(&db, transaction_pooling(0));
    let pool = Pool::builder()
        .max_size(CLIENTS as u32)
        .connection_customizer(Box::new(NoStatementCache))
        .build(ConnectionManager::<AuditedConnection>::new(
            bouncer.url(db.name()),
        ))
        .unwrap();
    run_sync(REQUESTS, CLIENTS, move || {
        pool.get().expect("a pooled connection")
    });
    check(&mut reader, REQUESTS);
}

/// The same with Diesel's statement cache on: PgBouncer 1.21 and later with
/// `max_prepared_statements` tracks the named statements (`__diesel_stmt_N`) across server
/// connections, so the sync stack needs no setting either.
#[test]
fn sync_requests_with_the_statement_cache_behind_transaction_pooling() {
    if not_run("the sync statement cache behind PgBouncer transaction pooling") {
        return;
    }
    let (db, mut reader) = setup();
    let bouncer = PgBouncer::start(&db, transaction_pooling(100));
    let pool = Pool::builder()
        .max_size(CLIENTS as u32)
        .build(ConnectionManager::<AuditedConnection>::new(
            bouncer.url(db.name()),
        ))
        .unwrap();
    run_sync(REQUESTS, CLIENTS, move || {
        pool.get().expect("a pooled connection")
    });
    check(&mut reader, REQUESTS);
}

/// With Diesel's statement cache on and PgBouncer passing named prepared statements
/// through (before 1.21, or `max_prepared_statements = 0`), two clients on one server
/// connection both prepare `__diesel_stmt_0`: the second fails. This is what users see.
#[test]
fn named_prepared_statements_break_behind_transaction_pooling() {
    let (db, _reader) = setup();
    let bouncer = PgBouncer::start(
        &db,
        Settings {
            server_connections: 1,
            ..transaction_pooling(0)
        },
    );
    let read = |conn: &mut AuditedConnection| notes::table.count().get_result::<i64>(conn);
    let mut first = AuditedConnection::establish(&bouncer.url(db.name())).unwrap();
    let mut second = AuditedConnection::establish(&bouncer.url(db.name())).unwrap();
    read(&mut first).expect("the first client prepares __diesel_stmt_0");
    let error = read(&mut second).expect_err("the server connection has it already");
    assert!(
        error.to_string().contains("prepared statement"),
        "unexpected error: {error}"
    );
    eprintln!("behind transaction pooling with the statement cache on: {error}");

    // With the cache off, the same works.
    second.set_prepared_statement_cache_size(CacheSize::Disabled);
    assert_eq!(read(&mut second).unwrap(), 0);
}

/// Statement pooling allows no transaction: the one that carries the context makes
/// PgBouncer close the connection, and nothing is written.
#[test]
fn statement_pooling_refuses_the_context_transaction() {
    let (db, mut reader) = setup();
    let bouncer = PgBouncer::start(
        &db,
        Settings {
            mode: PoolMode::Statement,
            ..transaction_pooling(0)
        },
    );
    let mut conn = AuditedConnection::establish(&bouncer.url(db.name())).unwrap();
    conn.set_prepared_statement_cache_size(CacheSize::Disabled);
    let error = with_context(AuditContext::new().user_id("alice"), || {
        diesel::sql_query("INSERT INTO notes (id) VALUES (1)").execute(&mut conn)
    })
    .expect_err("statement pooling refuses the transaction");
    assert!(
        matches!(
            error,
            Error::DatabaseError(DatabaseErrorKind::ClosedConnection, _)
        ),
        "{error:?}"
    );
    assert!(
        bouncer
            .log()
            .contains("transaction blocks not allowed in statement pooling mode"),
        "{}",
        bouncer.log()
    );
    eprintln!("behind statement pooling: {error}");
    assert_eq!(count(&mut reader, "SELECT count(*) FROM notes"), 0);
    assert_eq!(count(&mut reader, "SELECT count(*) FROM auditlog"), 0);
}

/// 8 tasks, a deadpool of 8 `AsyncAuditedConnection`s, 2 server connections. diesel-async
/// (tokio-postgres) prepares every statement as a named statement in a round trip of its
/// own, connection setup included, so this needs PgBouncer 1.21 or later with
/// `max_prepared_statements`, which `scripts/test` provides (it builds 1.24.1 when the
/// system's is older). Older PgBouncers fail with `prepared statement "sN" does not exist`:
/// then this test says so loudly and runs nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_requests_behind_transaction_pooling_carry_their_own_context() {
    if not_run("diesel-async behind PgBouncer transaction pooling") {
        return;
    }
    let (db, mut reader) = setup();
    let bouncer = PgBouncer::start(&db, transaction_pooling(100));
    let manager =
        AsyncDieselConnectionManager::<AsyncAuditedConnection>::new(bouncer.url(db.name()));
    let pool = deadpool::Pool::builder(manager)
        .max_size(CLIENTS)
        .build()
        .unwrap();
    run_async(REQUESTS, CLIENTS, move || {
        let pool = pool.clone();
        async move { pool.get().await.expect("a pooled connection") }
    })
    .await;
    tokio::task::block_in_place(|| check(&mut reader, REQUESTS));
    drop(bouncer);
}

/// Whether the PgBouncer found is too old for `what` (before 1.21, no
/// `max_prepared_statements`): then says so loudly, and the test runs nothing.
fn not_run(what: &str) -> bool {
    if pgbouncer::tracks_prepared_statements() {
        return false;
    }
    let (major, minor) = pgbouncer::version();
    // Straight to the process's stderr: the test harness captures `eprintln!` of a
    // passing test, and this must be seen in every run's output.
    use std::io::Write;
    let _ = writeln!(
        std::io::stderr(),
        "\n*** NOT RUN: {what} needs PgBouncer >= 1.21 (max_prepared_statements); the one \
         found is {major}.{minor}. Run `scripts/test --provision-only`, which builds \
         PgBouncer 1.24.1 into target/tools, or point AUDITRUM_PGBOUNCER at a \
         PgBouncer >= 1.21. ***\n"
    );
    true
}

/// Session pooling: a server connection per client connection for its whole life, so it
/// works as a direct connection does (the context lives in the transaction); clients take
/// turns on the pool's 2 connections, and PgBouncer hands each server connection on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_requests_behind_session_pooling_carry_their_own_context() {
    let (db, mut reader) = setup();
    let bouncer = PgBouncer::start(
        &db,
        Settings {
            mode: PoolMode::Session,
            ..transaction_pooling(0)
        },
    );
    let manager =
        AsyncDieselConnectionManager::<AsyncAuditedConnection>::new(bouncer.url(db.name()));
    let pool = deadpool::Pool::builder(manager)
        .max_size(SERVER_CONNECTIONS)
        .build()
        .unwrap();
    run_async(REQUESTS, CLIENTS, move || {
        let pool = pool.clone();
        async move { pool.get().await.expect("a pooled connection") }
    })
    .await;
    tokio::task::block_in_place(|| check(&mut reader, REQUESTS));
    drop(bouncer);
}
