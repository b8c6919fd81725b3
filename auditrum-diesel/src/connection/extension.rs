//! `audited_transaction` for any Pg connection, without the wrapper.

use diesel::connection::{AnsiTransactionManager, Connection, TransactionManager};
use diesel::pg::Pg;
use diesel::result::Error;
use diesel::QueryResult;

use super::statement;
use crate::context::{self, AuditContext, ContextError};
use crate::AuditConfig;

/// `audited_transaction(ctx, f)` on any Diesel Pg connection that uses Diesel's own
/// transaction manager: a `PgConnection`, or a pooled one (`PooledConnection` derefs to
/// it).
///
/// The transaction begins with `BEGIN; SET LOCAL auditrum.context = E'…'` as one batch.
/// `context` is merged over the context in force (scopes), and is itself in force inside
/// `f`, so scopes and nested calls merge with it.
///
/// ```no_run
/// use auditrum_diesel::connection::AuditedTransactionExt;
/// use auditrum_diesel::context::AuditContext;
/// use diesel::prelude::*;
///
/// # fn main() -> QueryResult<()> {
/// let mut conn = PgConnection::establish("postgres://localhost/app").unwrap();
/// let ctx = AuditContext::new().user_id(42).change_reason("support ticket 7");
/// conn.audited_transaction(ctx, |conn| {
///     diesel::sql_query("UPDATE users SET email = 'new@example.com' WHERE id = 1").execute(conn)
/// })?;
/// # Ok(())
/// # }
/// ```
///
/// Nested inside another transaction it uses a savepoint; the context in force before it
/// comes back when it ends (two extra round trips, for the nested case only). Writes made
/// on the connection outside `audited_transaction` carry no context: for that, use an
/// [`AuditedConnection`](super::AuditedConnection).
pub trait AuditedTransactionExt:
    Connection<Backend = Pg, TransactionManager = AnsiTransactionManager>
{
    /// Runs `f` in a transaction carrying `context` (merged over the context in force).
    fn audited_transaction<T, E, F>(&mut self, context: AuditContext, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut Self) -> Result<T, E>,
        E: From<Error>,
    {
        self.audited_transaction_with_config(&AuditConfig::default(), context, f)
    }

    /// [`audited_transaction`](Self::audited_transaction) for a log whose context setting
    /// is `config.context_setting()`.
    fn audited_transaction_with_config<T, E, F>(
        &mut self,
        config: &AuditConfig,
        context: AuditContext,
        f: F,
    ) -> Result<T, E>
    where
        F: FnOnce(&mut Self) -> Result<T, E>,
        E: From<Error>,
    {
        context::with_context(context, || {
            let json = current_json().map_err(Error::from)?;
            let setting = config.context_setting();
            let depth =
                AnsiTransactionManager::transaction_manager_status_mut(self).transaction_depth()?;
            let Some(depth) = depth else {
                match &json {
                    Some(json) => {
                        let sql = format!(
                            "BEGIN;\n{}",
                            statement::set_local(setting, Some(json)).map_err(Error::from)?
                        );
                        AnsiTransactionManager::begin_transaction_sql(self, &sql)?;
                    }
                    None => AnsiTransactionManager::begin_transaction(self)?,
                }
                return finish(self, f, |_| Ok(()));
            };
            // Nested: a savepoint, the outer value kept in a transaction-local setting of
            // this level, and put back after RELEASE (ROLLBACK TO restores it by itself).
            AnsiTransactionManager::begin_transaction(self)?;
            let set = statement::keep_outer(
                setting,
                depth,
                &statement::set_local(setting, json.as_deref()).map_err(Error::from)?,
            );
            if let Err(error) = self.batch_execute(&set) {
                let _ = AnsiTransactionManager::rollback_transaction(self);
                return Err(error.into());
            }
            let restore = statement::restore_outer(setting, depth);
            finish(self, f, |conn| conn.batch_execute(&restore))
        })
    }
}

impl<C> AuditedTransactionExt for C where
    C: Connection<Backend = Pg, TransactionManager = AnsiTransactionManager>
{
}

fn current_json() -> Result<Option<String>, ContextError> {
    match AuditContext::current().filter(|c| !c.is_empty()) {
        Some(context) => context.to_json_string().map(Some),
        None => Ok(None),
    }
}

/// Runs `f` in the transaction just begun, then commits (and runs `after_commit`) or
/// rolls back, as Diesel's `TransactionManager::transaction` does.
fn finish<C, T, E, F>(
    conn: &mut C,
    f: F,
    after_commit: impl FnOnce(&mut C) -> QueryResult<()>,
) -> Result<T, E>
where
    C: Connection<Backend = Pg, TransactionManager = AnsiTransactionManager>,
    F: FnOnce(&mut C) -> Result<T, E>,
    E: From<Error>,
{
    match f(conn) {
        Ok(value) => {
            AnsiTransactionManager::commit_transaction(conn)?;
            after_commit(conn)?;
            Ok(value)
        }
        Err(user_error) => match AnsiTransactionManager::rollback_transaction(conn) {
            Ok(()) | Err(Error::BrokenTransactionManager) => Err(user_error),
            Err(rollback_error) => Err(rollback_error.into()),
        },
    }
}
