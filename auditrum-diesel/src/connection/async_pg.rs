//! `audited_transaction` for diesel-async's `AsyncPgConnection` (feature `diesel-async`).

use std::future::Future;
use std::pin::Pin;

use diesel::pg::Pg;
use diesel::result::Error;
use diesel_async::{AnsiTransactionManager, AsyncConnection, TransactionManager};

use super::statement;
use crate::context::{self, AuditContext};
use crate::AuditConfig;

/// The future an [`AuditedAsyncTransactionExt::audited_transaction`] callback returns:
/// write the callback as `|conn| Box::pin(async move { … })`.
pub type AuditedFuture<'r, T> = Pin<Box<dyn Future<Output = T> + Send + 'r>>;

/// `audited_transaction(ctx, f)` on diesel-async's `AsyncPgConnection` (or any async Pg
/// connection with diesel-async's `AnsiTransactionManager`, pooled ones included).
///
/// Like the sync [`AuditedTransactionExt`](super::AuditedTransactionExt): the transaction
/// begins with `BEGIN; SET LOCAL auditrum.context = E'…'` as one batch; `context` is merged
/// over the context in force (task-local scopes) and is in force inside `f`; nested in
/// another transaction it uses a savepoint and puts the outer context back afterwards.
///
/// ```no_run
/// use auditrum_diesel::connection::AuditedAsyncTransactionExt;
/// use auditrum_diesel::context::AuditContext;
/// use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
///
/// # async fn run() -> diesel::QueryResult<()> {
/// let mut conn = AsyncPgConnection::establish("postgres://localhost/app").await.unwrap();
/// let ctx = AuditContext::new().user_id(42).change_reason("support ticket 7");
/// conn.audited_transaction(ctx, |conn| {
///     Box::pin(async move {
///         diesel::sql_query("UPDATE users SET email = 'new@example.com' WHERE id = 1")
///             .execute(conn)
///             .await
///     })
/// })
/// .await?;
/// # Ok(())
/// # }
/// ```
pub trait AuditedAsyncTransactionExt:
    AsyncConnection<Backend = Pg, TransactionManager = AnsiTransactionManager> + Send
{
    /// Runs `f` in a transaction carrying `context` (merged over the context in force).
    fn audited_transaction<'c, R, E, F>(
        &'c mut self,
        context: AuditContext,
        f: F,
    ) -> impl Future<Output = Result<R, E>> + Send + 'c
    where
        F: for<'r> FnOnce(&'r mut Self) -> AuditedFuture<'r, Result<R, E>> + Send + 'c,
        E: From<Error> + Send + 'c,
        R: Send + 'c,
    {
        self.audited_transaction_with_config(AuditConfig::default(), context, f)
    }

    /// [`audited_transaction`](Self::audited_transaction) for a log whose context setting
    /// is `config.context_setting()`.
    fn audited_transaction_with_config<'c, R, E, F>(
        &'c mut self,
        config: AuditConfig,
        context: AuditContext,
        f: F,
    ) -> impl Future<Output = Result<R, E>> + Send + 'c
    where
        F: for<'r> FnOnce(&'r mut Self) -> AuditedFuture<'r, Result<R, E>> + Send + 'c,
        E: From<Error> + Send + 'c,
        R: Send + 'c,
    {
        context::with_context_async(context, async move {
            let json = match AuditContext::current().filter(|c| !c.is_empty()) {
                Some(context) => Some(context.to_json_string().map_err(Error::from)?),
                None => None,
            };
            let setting = config.context_setting();
            let set = statement::set_local(setting, json.as_deref()).map_err(Error::from)?;
            let depth =
                <AnsiTransactionManager as TransactionManager<Self>>::transaction_manager_status_mut(
                    self,
                )
                .transaction_depth()?;
            let Some(depth) = depth else {
                match json {
                    Some(_) => {
                        AnsiTransactionManager::begin_transaction_sql(
                            self,
                            &format!("BEGIN;\n{set}"),
                        )
                        .await?
                    }
                    None => {
                        <AnsiTransactionManager as TransactionManager<Self>>::begin_transaction(
                            self,
                        )
                        .await?
                    }
                }
                return finish(self, f, None).await;
            };
            // Nested: a savepoint, the outer value kept in a transaction-local setting of
            // this level, and put back after RELEASE (ROLLBACK TO restores it by itself).
            <AnsiTransactionManager as TransactionManager<Self>>::begin_transaction(self).await?;
            let keep = statement::keep_outer(setting, depth, &set);
            if let Err(error) = self.batch_execute(&keep).await {
                let _ = <AnsiTransactionManager as TransactionManager<Self>>::rollback_transaction(
                    self,
                )
                .await;
                return Err(error.into());
            }
            let restore = statement::restore_outer(setting, depth);
            finish(self, f, Some(restore)).await
        })
    }
}

impl<C> AuditedAsyncTransactionExt for C where
    C: AsyncConnection<Backend = Pg, TransactionManager = AnsiTransactionManager> + Send
{
}

/// Runs `f` in the transaction just begun, then commits (and sends `after_commit`) or rolls
/// back, as diesel-async's `TransactionManager::transaction` does.
async fn finish<C, R, E, F>(conn: &mut C, f: F, after_commit: Option<String>) -> Result<R, E>
where
    C: AsyncConnection<Backend = Pg, TransactionManager = AnsiTransactionManager> + Send,
    F: for<'r> FnOnce(&'r mut C) -> AuditedFuture<'r, Result<R, E>>,
    E: From<Error>,
{
    match f(conn).await {
        Ok(value) => {
            <AnsiTransactionManager as TransactionManager<C>>::commit_transaction(conn).await?;
            if let Some(sql) = after_commit {
                conn.batch_execute(&sql).await?;
            }
            Ok(value)
        }
        Err(user_error) => {
            match <AnsiTransactionManager as TransactionManager<C>>::rollback_transaction(conn)
                .await
            {
                Ok(()) | Err(Error::BrokenTransactionManager) => Err(user_error),
                Err(rollback_error) => Err(rollback_error.into()),
            }
        }
    }
}
