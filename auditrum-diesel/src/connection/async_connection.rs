//! `AsyncAuditedConnection`: diesel-async's `AsyncPgConnection` that sends the audit
//! context with every transaction (feature `diesel-async`).

use std::future::Future;

use diesel::connection::{CacheSize, Instrumentation};
use diesel::pg::Pg;
use diesel::query_builder::{AsQuery, QueryFragment, QueryId};
use diesel::result::Error;
use diesel::{ConnectionResult, QueryResult};
use diesel_async::pooled_connection::PoolableConnection;
use diesel_async::{
    AnsiTransactionManager, AsyncConnection, AsyncConnectionCore, AsyncPgConnection,
    SimpleAsyncConnection, TransactionManager,
};
use futures_util::future::BoxFuture;
use futures_util::stream::BoxStream;
use futures_util::{FutureExt, StreamExt, TryStreamExt};

use super::async_pg::AuditedFuture;
use super::async_transaction_manager::AsyncAuditedTransactionManager;
use super::context_source::ContextSource;
use super::state::{Applied, AppliedStack};
use super::statement;
use crate::context::{self, AuditContext, ContextError};
use crate::AuditConfig;

type PgRow = <AsyncPgConnection as AsyncConnectionCore>::Row<'static, 'static>;
type Rows = BoxStream<'static, QueryResult<PgRow>>;

/// diesel-async's [`AsyncPgConnection`] attributing every write to the
/// [audit context](crate::context) in force: the async counterpart of
/// [`AuditedConnection`](super::AuditedConnection).
///
/// - A transaction begins with `BEGIN; SET LOCAL auditrum.context = E'{…}'`, one batch.
///   Without a context it is a plain `BEGIN`.
/// - A write issued outside a transaction is wrapped in one when a context is in force
///   (`BEGIN; SET LOCAL …`, the write, `COMMIT`). Reads are sent as they are.
/// - Inside a transaction, when the context changes (a nested scope, a nested
///   `transaction()`), the next savepoint or statement sets it again; the outer context is
///   set back before the outer level writes again.
///
/// The context is read when the statement's future first runs, from the tokio task-local
/// scopes ([`with_context_async`](crate::context::with_context_async), the web layer's
/// [`ContextHandle`](crate::context::ContextHandle)) or a thread scope, so
/// `with_context_async(ctx, query.execute(&mut conn))` carries `ctx`.
///
/// ```no_run
/// use auditrum_diesel::connection::AsyncAuditedConnection;
/// use auditrum_diesel::context::{with_context_async, AuditContext};
/// use diesel_async::pooled_connection::deadpool::Pool;
/// use diesel_async::pooled_connection::AsyncDieselConnectionManager;
/// use diesel_async::{AsyncConnection, RunQueryDsl};
///
/// # async fn run() -> Result<(), Box<dyn std::error::Error>> {
/// let manager = AsyncDieselConnectionManager::<AsyncAuditedConnection>::new("postgres://localhost/app");
/// let pool = Pool::builder(manager).max_size(8).build()?;
///
/// let mut conn = pool.get().await?;
/// with_context_async(AuditContext::new().user_id("alice@example.com"), async {
///     // Outside a transaction: wrapped in one carrying the context.
///     diesel::sql_query("DELETE FROM sessions WHERE expired").execute(&mut conn).await?;
///     conn.transaction(async |conn| {
///         diesel::sql_query("UPDATE users SET email = 'a@example.com' WHERE id = 1")
///             .execute(conn)
///             .await
///     })
///     .await
/// })
/// .await?;
/// # Ok(())
/// # }
/// ```
///
/// Pools: `diesel_async::pooled_connection` with deadpool or bb8 (enable that feature of
/// `diesel-async`). The context lives in the transaction, never in the connection, so
/// nothing of one checkout's context reaches the next; a connection whose wrapped
/// statement was cancelled mid-way reports itself broken, and the pool drops it.
pub struct AsyncAuditedConnection {
    pub(super) inner: AsyncPgConnection,
    config: AuditConfig,
    pub(super) context: ContextSource,
    pub(super) applied: AppliedStack,
    /// A write wrapped in a transaction of its own is under way, or its future was dropped
    /// before the transaction ended: the server may hold that transaction open.
    pub(super) wrap_open: bool,
}

impl std::fmt::Debug for AsyncAuditedConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AsyncAuditedConnection")
            .field("config", &self.config)
            .field("base", &self.context.base())
            .field("applied", &self.applied)
            .field("wrap_open", &self.wrap_open)
            .finish_non_exhaustive()
    }
}

/// Where a statement goes, as far as is known before its future runs.
#[derive(Debug, Clone, Copy)]
enum Place {
    /// Inside a transaction: after a `SET LOCAL` if the context changed.
    InTransaction,
    /// Outside one: a write is wrapped in a transaction of its own when a context is in
    /// force.
    Outside { write: bool },
}

impl AsyncAuditedConnection {
    /// Wraps a connection; the context goes to the setting of the default
    /// [`AuditConfig`].
    pub fn new(inner: AsyncPgConnection) -> Self {
        Self::with_config(inner, AuditConfig::default())
    }

    /// Wraps a connection; the context goes to `config.context_setting()`.
    pub fn with_config(inner: AsyncPgConnection, config: AuditConfig) -> Self {
        AsyncAuditedConnection {
            inner,
            config,
            context: ContextSource::default(),
            applied: AppliedStack::default(),
            wrap_open: false,
        }
    }

    /// Connects to `database_url` with `config` (for a pool:
    /// `ManagerConfig::custom_setup`).
    pub async fn establish_with_config(
        database_url: &str,
        config: AuditConfig,
    ) -> ConnectionResult<Self> {
        Ok(Self::with_config(
            AsyncPgConnection::establish(database_url).await?,
            config,
        ))
    }

    /// The configuration.
    pub fn config(&self) -> &AuditConfig {
        &self.config
    }

    /// Sends the context to `config.context_setting()` from now on.
    pub fn set_config(&mut self, config: AuditConfig) {
        self.config = config;
    }

    /// A context of this connection, beneath every scope (scopes' keys win), e.g. the
    /// service name. It stays with the connection when a pool hands it to the next user,
    /// so per-request context belongs in a scope, never here.
    pub fn set_connection_context(&mut self, context: Option<AuditContext>) {
        self.context.set_base(context);
    }

    /// The context of this connection (see
    /// [`set_connection_context`](Self::set_connection_context)).
    pub fn connection_context(&self) -> Option<&AuditContext> {
        self.context.base()
    }

    /// The wrapped connection.
    pub fn inner(&self) -> &AsyncPgConnection {
        &self.inner
    }

    /// The wrapped connection, for what only an `AsyncPgConnection` offers. Statements sent
    /// through it inside a transaction of this connection see the context set for that
    /// transaction; outside one they carry none.
    pub fn inner_mut(&mut self) -> &mut AsyncPgConnection {
        &mut self.inner
    }

    /// Unwraps the connection.
    pub fn into_inner(self) -> AsyncPgConnection {
        self.inner
    }

    /// Runs `f` in a transaction with `context` merged over the context in force: the
    /// same as [`with_context_async`](crate::context::with_context_async) around
    /// [`transaction`](AsyncConnection::transaction). Write the callback as
    /// `|conn| Box::pin(async move { … })`.
    pub async fn audited_transaction<R, E, F>(
        &mut self,
        context: AuditContext,
        f: F,
    ) -> Result<R, E>
    where
        F: for<'r> FnOnce(&'r mut Self) -> AuditedFuture<'r, Result<R, E>> + Send,
        E: From<Error> + Send,
        R: Send,
    {
        type Tm = AsyncAuditedTransactionManager;
        context::with_context_async(context, async move {
            Tm::begin_transaction(self).await?;
            match f(self).await {
                Ok(value) => {
                    Tm::commit_transaction(self).await?;
                    Ok(value)
                }
                Err(user_error) => match Tm::rollback_transaction(self).await {
                    Ok(()) | Err(Error::BrokenTransactionManager) => Err(user_error),
                    Err(rollback_error) => Err(rollback_error.into()),
                },
            }
        })
        .await
    }

    /// The transaction level now, and whether a statement there is a write (asked only
    /// outside transactions).
    fn place(&mut self, is_write: impl FnOnce() -> bool) -> QueryResult<Place> {
        let depth = AsyncAuditedTransactionManager::transaction_manager_status_mut(self)
            .transaction_depth()?;
        self.applied.sync(depth);
        Ok(match depth {
            Some(_) => Place::InTransaction,
            None => Place::Outside { write: is_write() },
        })
    }

    /// The wrapped connection, shared, for the statement's own future, and the rest for
    /// the future that puts the context around it.
    fn split(&mut self) -> (Session<'_>, &AsyncPgConnection) {
        let AsyncAuditedConnection {
            inner,
            config,
            context,
            applied,
            wrap_open,
        } = self;
        let inner = &*inner;
        let session = Session {
            inner,
            setting: config.context_setting(),
            context,
            applied,
            wrap_open,
        };
        (session, inner)
    }

    /// Ends a wrapped write's transaction that a dropped future left open.
    pub(super) async fn recover(&mut self) -> QueryResult<()> {
        self.split().0.recover().await
    }
}

/// What a statement's future needs of the connection beside the statement itself, which
/// borrows the wrapped connection (shared: diesel-async pipelines through `&AsyncPgConnection`).
struct Session<'c> {
    inner: &'c AsyncPgConnection,
    setting: &'c str,
    context: &'c mut ContextSource,
    applied: &'c mut AppliedStack,
    wrap_open: &'c mut bool,
}

impl Session<'_> {
    async fn batch(&self, sql: &str) -> QueryResult<()> {
        let mut inner = self.inner;
        SimpleAsyncConnection::batch_execute(&mut inner, sql).await
    }

    /// A `ROLLBACK` first when a wrapped write's future was dropped before its transaction
    /// ended: what follows must not run in that transaction, with that context.
    async fn recover(&mut self) -> QueryResult<()> {
        if *self.wrap_open {
            self.batch("ROLLBACK").await?;
            *self.wrap_open = false;
        }
        Ok(())
    }

    /// Inside a transaction: the `SET LOCAL` to send first, when the context changed.
    fn pending_set(&mut self) -> QueryResult<Option<(String, Option<String>)>> {
        let json = self.context.json()?;
        if *self.applied.top() == Applied::Known(json.clone()) {
            return Ok(None);
        }
        Ok(Some((
            statement::set_local(self.setting, json.as_deref())?,
            json,
        )))
    }

    /// Outside a transaction: the context of a write, if one is in force. A bad context
    /// fails only writes, which would carry it.
    fn wrap_context(&mut self, write: bool) -> Result<Option<String>, ContextError> {
        if !write {
            return Ok(None);
        }
        self.context.json()
    }

    /// Sends `statement` with the context around it.
    async fn run<R>(
        mut self,
        place: Place,
        statement: impl Future<Output = QueryResult<R>>,
    ) -> QueryResult<R> {
        self.recover().await?;
        match place {
            Place::InTransaction => {
                if let Some((set, json)) = self.pending_set()? {
                    self.applied.set_top(Applied::Unknown);
                    self.batch(&set).await?;
                    self.applied.set_top(Applied::Known(json));
                }
                statement.await
            }
            Place::Outside { write } => match self.wrap_context(write)? {
                Some(json) => self.wrapped(&json, statement).await,
                None => statement.await,
            },
        }
    }

    /// `BEGIN; SET LOCAL …`, the statement, then `COMMIT` (or `ROLLBACK` when it failed).
    async fn wrapped<R>(
        &mut self,
        json: &str,
        statement: impl Future<Output = QueryResult<R>>,
    ) -> QueryResult<R> {
        let begin = format!(
            "BEGIN;\n{}",
            statement::set_local(self.setting, Some(json))?
        );
        *self.wrap_open = true;
        let result = match self.batch(&begin).await {
            Ok(()) => statement.await,
            Err(error) => Err(error),
        };
        let end = if result.is_ok() { "COMMIT" } else { "ROLLBACK" };
        let ended = self.batch(end).await;
        if ended.is_ok() {
            *self.wrap_open = false;
        }
        // The statement's own error first; a failed COMMIT means nothing was written.
        let value = result?;
        ended?;
        Ok(value)
    }
}

impl SimpleAsyncConnection for AsyncAuditedConnection {
    async fn batch_execute(&mut self, query: &str) -> QueryResult<()> {
        let place = self.place(|| statement::batch_writes(query))?;
        let (mut session, _) = self.split();
        session.recover().await?;
        match place {
            Place::InTransaction => match session.pending_set()? {
                Some((set, json)) => {
                    session.applied.set_top(Applied::Unknown);
                    session.batch(&format!("{set};\n{query}")).await?;
                    session.applied.set_top(Applied::Known(json));
                    Ok(())
                }
                None => session.batch(query).await,
            },
            Place::Outside { write } => match session.wrap_context(write)? {
                // A multi-statement batch runs as one implicit transaction, so a leading
                // SET LOCAL covers the whole batch, in the same round trip.
                Some(json) => {
                    let set = statement::set_local(session.setting, Some(&json))?;
                    session.batch(&format!("{set};\n{query}")).await
                }
                None => session.batch(query).await,
            },
        }
    }
}

impl AsyncConnectionCore for AsyncAuditedConnection {
    type ExecuteFuture<'conn, 'query> = BoxFuture<'conn, QueryResult<usize>>;
    type LoadFuture<'conn, 'query> = BoxFuture<'conn, QueryResult<Rows>>;
    type Stream<'conn, 'query> = Rows;
    type Row<'conn, 'query> = PgRow;
    type Backend = Pg;

    fn load<'conn, 'query, T>(&'conn mut self, source: T) -> Self::LoadFuture<'conn, 'query>
    where
        T: AsQuery + 'query,
        T::Query: QueryFragment<Pg> + QueryId + 'query,
    {
        let query = source.as_query();
        let place = match self.place(|| statement::query_is_write(&query)) {
            Ok(place) => place,
            Err(error) => return async move { Err(error) }.boxed(),
        };
        let (session, mut inner) = self.split();
        let load = AsyncConnectionCore::load(&mut inner, query);
        let statement = async move {
            let rows = load.await?;
            match place {
                // Rows of a write (`RETURNING`) are read before the COMMIT, so that an
                // error among them rolls the write back and reaches the caller.
                Place::Outside { write: true } => {
                    let rows: Vec<PgRow> = rows.try_collect().await?;
                    Ok(futures_util::stream::iter(rows.into_iter().map(Ok)).boxed())
                }
                _ => Ok(rows),
            }
        };
        session.run(place, statement).boxed()
    }

    fn execute_returning_count<'conn, 'query, T>(
        &'conn mut self,
        source: T,
    ) -> Self::ExecuteFuture<'conn, 'query>
    where
        T: QueryFragment<Pg> + QueryId + 'query,
    {
        let place = match self.place(|| statement::query_is_write(&source)) {
            Ok(place) => place,
            Err(error) => return async move { Err(error) }.boxed(),
        };
        let (session, mut inner) = self.split();
        let execute = AsyncConnectionCore::execute_returning_count(&mut inner, source);
        session.run(place, execute).boxed()
    }
}

impl AsyncConnection for AsyncAuditedConnection {
    type TransactionManager = AsyncAuditedTransactionManager;

    async fn establish(database_url: &str) -> ConnectionResult<Self> {
        Ok(Self::new(AsyncPgConnection::establish(database_url).await?))
    }

    fn transaction_state(&mut self) -> &mut AnsiTransactionManager {
        self.inner.transaction_state()
    }

    fn instrumentation(&mut self) -> &mut dyn Instrumentation {
        self.inner.instrumentation()
    }

    fn set_instrumentation(&mut self, instrumentation: impl Instrumentation) {
        self.inner.set_instrumentation(instrumentation)
    }

    fn set_prepared_statement_cache_size(&mut self, size: CacheSize) {
        self.inner.set_prepared_statement_cache_size(size)
    }
}

/// For deadpool and bb8 through `diesel_async::pooled_connection`: broken (so dropped by
/// the pool) with a transaction left open, or a wrapped write cut off mid-way.
impl PoolableConnection for AsyncAuditedConnection {}
