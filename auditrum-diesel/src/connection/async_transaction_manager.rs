//! The transaction manager of [`AsyncAuditedConnection`]: diesel-async's
//! `AnsiTransactionManager` on the wrapped connection, with the context sent in the same
//! batch as `BEGIN` or `SAVEPOINT`.

use std::num::NonZeroU32;

use diesel::connection::{InstrumentationEvent, TransactionDepthChange, TransactionManagerStatus};
use diesel::QueryResult;
use diesel_async::{
    AnsiTransactionManager, AsyncConnection, AsyncPgConnection, SimpleAsyncConnection,
    TransactionManager,
};

use super::state::Applied;
use super::statement;
use super::AsyncAuditedConnection;

/// Begins, commits and rolls back the transactions of an [`AsyncAuditedConnection`].
///
/// Delegates to diesel-async's [`AnsiTransactionManager`] (savepoints named
/// `diesel_savepoint_N`, the same error handling and cancellation tracking), adding the
/// context: `BEGIN; SET LOCAL …` at the top level, `SAVEPOINT …; SET LOCAL …` inside when
/// the context in force differs from the one set.
#[derive(Debug, Default)]
pub struct AsyncAuditedTransactionManager;

type Ansi = AnsiTransactionManager;

fn ansi_status(inner: &mut AsyncPgConnection) -> &mut TransactionManagerStatus {
    <Ansi as TransactionManager<AsyncPgConnection>>::transaction_manager_status_mut(inner)
}

impl TransactionManager<AsyncAuditedConnection> for AsyncAuditedTransactionManager {
    type TransactionStateData = AnsiTransactionManager;

    async fn begin_transaction(conn: &mut AsyncAuditedConnection) -> QueryResult<()> {
        conn.recover().await?;
        let depth = ansi_status(&mut conn.inner).transaction_depth()?;
        conn.applied.sync(depth);
        // Refuse a bad context before anything is sent.
        let json = conn.context.json()?;
        let setting = conn.config().context_setting().to_owned();
        match depth {
            None => match &json {
                Some(json) => {
                    let sql = format!("BEGIN;\n{}", statement::set_local(&setting, Some(json))?);
                    Ansi::begin_transaction_sql(&mut conn.inner, &sql).await?;
                }
                None => {
                    <Ansi as TransactionManager<AsyncPgConnection>>::begin_transaction(
                        &mut conn.inner,
                    )
                    .await?
                }
            },
            Some(_) if *conn.applied.top() == Applied::Known(json.clone()) => {
                <Ansi as TransactionManager<AsyncPgConnection>>::begin_transaction(&mut conn.inner)
                    .await?
            }
            Some(depth) => {
                let sql = format!(
                    "SAVEPOINT diesel_savepoint_{depth};\n{}",
                    statement::set_local(&setting, json.as_deref())?
                );
                begin_savepoint(&mut conn.inner, depth, &sql).await?;
            }
        }
        conn.applied.push(Applied::Known(json));
        Ok(())
    }

    async fn rollback_transaction(conn: &mut AsyncAuditedConnection) -> QueryResult<()> {
        let result =
            <Ansi as TransactionManager<AsyncPgConnection>>::rollback_transaction(&mut conn.inner)
                .await;
        if result.is_ok() {
            conn.applied.roll_back();
        }
        after(conn, result.is_ok());
        result
    }

    async fn commit_transaction(conn: &mut AsyncAuditedConnection) -> QueryResult<()> {
        let result =
            <Ansi as TransactionManager<AsyncPgConnection>>::commit_transaction(&mut conn.inner)
                .await;
        if result.is_ok() {
            conn.applied.release();
        }
        after(conn, result.is_ok());
        result
    }

    fn transaction_manager_status_mut(
        conn: &mut AsyncAuditedConnection,
    ) -> &mut TransactionManagerStatus {
        ansi_status(&mut conn.inner)
    }

    /// Also broken while a wrapped write's transaction may be open on the server.
    fn is_broken_transaction_manager(conn: &mut AsyncAuditedConnection) -> bool {
        conn.wrap_open
            || <Ansi as TransactionManager<AsyncPgConnection>>::is_broken_transaction_manager(
                &mut conn.inner,
            )
    }
}

/// Follows the depth the transaction manager reports; after a failure the server's value is
/// unknown, so it is set again before the next statement.
fn after(conn: &mut AsyncAuditedConnection, succeeded: bool) {
    let depth = ansi_status(&mut conn.inner)
        .transaction_depth()
        .ok()
        .flatten();
    conn.applied.sync(depth);
    if !succeeded {
        conn.applied.set_top(Applied::Unknown);
    }
}

/// `AnsiTransactionManager::begin_transaction` for a savepoint, with our own SQL: the same
/// instrumentation event and depth bookkeeping. Cancelled mid-way, the connection is still
/// inside its outer transaction, which pools treat as broken.
async fn begin_savepoint(
    inner: &mut AsyncPgConnection,
    depth: NonZeroU32,
    sql: &str,
) -> QueryResult<()> {
    let next = depth
        .checked_add(1)
        .expect("transaction depth overflows u32");
    inner
        .instrumentation()
        .on_connection_event(InstrumentationEvent::begin_transaction(next));
    inner.batch_execute(sql).await?;
    ansi_status(inner)
        .transaction_state()?
        .change_transaction_depth(TransactionDepthChange::IncreaseDepth)
}
