//! The transaction manager of [`AuditedConnection`]: Diesel's `AnsiTransactionManager` on
//! the wrapped connection, with the context sent in the same batch as `BEGIN` or
//! `SAVEPOINT`.

use std::num::NonZeroU32;

use diesel::connection::{
    AnsiTransactionManager, InstrumentationEvent, SimpleConnection, TransactionDepthChange,
    TransactionManager, TransactionManagerStatus,
};
use diesel::{PgConnection, QueryResult};

use super::state::Applied;
use super::AuditedConnection;

/// Begins, commits and rolls back the transactions of an [`AuditedConnection`].
///
/// Delegates to Diesel's [`AnsiTransactionManager`] (savepoints named
/// `diesel_savepoint_N`, the same error handling), adding the context:
/// `BEGIN; SET LOCAL …` at the top level, `SAVEPOINT …; SET LOCAL …` inside when the
/// context in force differs from the one set.
#[derive(Debug, Default)]
pub struct AuditedTransactionManager;

type Ansi = AnsiTransactionManager;

fn ansi_status(inner: &mut PgConnection) -> &mut TransactionManagerStatus {
    <Ansi as TransactionManager<PgConnection>>::transaction_manager_status_mut(inner)
}

impl TransactionManager<AuditedConnection> for AuditedTransactionManager {
    type TransactionStateData = AnsiTransactionManager;

    fn begin_transaction(conn: &mut AuditedConnection) -> QueryResult<()> {
        let depth = ansi_status(&mut conn.inner).transaction_depth()?;
        conn.applied.sync(depth);
        // Refuse a bad context before anything is sent.
        let json = conn.context_json()?;
        match depth {
            None => {
                match &json {
                    Some(json) => {
                        let sql = format!("BEGIN;\n{}", conn.set_local_sql(Some(json))?);
                        Ansi::begin_transaction_sql(&mut conn.inner, &sql)?;
                    }
                    None => <Ansi as TransactionManager<PgConnection>>::begin_transaction(
                        &mut conn.inner,
                    )?,
                }
                conn.applied.push(Applied::Known(json));
            }
            Some(depth) => {
                if *conn.applied.top() == Applied::Known(json.clone()) {
                    <Ansi as TransactionManager<PgConnection>>::begin_transaction(&mut conn.inner)?;
                } else {
                    let sql = format!(
                        "SAVEPOINT diesel_savepoint_{depth};\n{}",
                        conn.set_local_sql(json.as_deref())?
                    );
                    begin_savepoint(&mut conn.inner, depth, &sql)?;
                }
                conn.applied.push(Applied::Known(json));
            }
        }
        Ok(())
    }

    fn rollback_transaction(conn: &mut AuditedConnection) -> QueryResult<()> {
        let result =
            <Ansi as TransactionManager<PgConnection>>::rollback_transaction(&mut conn.inner);
        if result.is_ok() {
            conn.applied.roll_back();
        }
        after(conn, result.is_ok());
        result
    }

    fn commit_transaction(conn: &mut AuditedConnection) -> QueryResult<()> {
        let result =
            <Ansi as TransactionManager<PgConnection>>::commit_transaction(&mut conn.inner);
        if result.is_ok() {
            conn.applied.release();
        }
        after(conn, result.is_ok());
        result
    }

    fn transaction_manager_status_mut(
        conn: &mut AuditedConnection,
    ) -> &mut TransactionManagerStatus {
        ansi_status(&mut conn.inner)
    }
}

/// Follows the depth the transaction manager reports; after a failure the server's value is
/// unknown, so it is set again before the next statement.
fn after(conn: &mut AuditedConnection, succeeded: bool) {
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
/// instrumentation event and depth bookkeeping.
fn begin_savepoint(inner: &mut PgConnection, depth: NonZeroU32, sql: &str) -> QueryResult<()> {
    use diesel::Connection;
    let next = depth
        .checked_add(1)
        .expect("transaction depth overflows u32");
    inner
        .instrumentation()
        .on_connection_event(InstrumentationEvent::begin_transaction(next));
    inner.batch_execute(sql)?;
    ansi_status(inner)
        .transaction_state()?
        .change_transaction_depth(TransactionDepthChange::IncreaseDepth)
}
