//! `AuditedConnection`: a `PgConnection` that sends the audit context with every
//! transaction.

use diesel::connection::{
    AnsiTransactionManager, CacheSize, Connection, ConnectionSealed, DefaultLoadingMode,
    Instrumentation, LoadConnection, SimpleConnection, TransactionManager,
};
use diesel::expression::QueryMetadata;
use diesel::pg::{Pg, PgRowByRowLoadingMode};
use diesel::query_builder::{Query, QueryFragment, QueryId};
use diesel::{ConnectionResult, PgConnection, QueryResult};

use super::context_source::ContextSource;
use super::state::{Applied, AppliedStack};
use super::statement;
use super::transaction_manager::AuditedTransactionManager;
use crate::context::{self, AuditContext, ContextError};
use crate::AuditConfig;

/// A [`PgConnection`] that attributes every write to the [audit context](crate::context)
/// in force.
///
/// - A transaction begins with `BEGIN; SET LOCAL auditrum.context = E'{…}'`, one batch,
///   so the context costs no extra round trip. Without a context it is a plain `BEGIN`.
/// - A write issued outside a transaction (`insert_into(…).execute(conn)`) is wrapped in
///   one when a context is in force, so it is attributed too (this costs the `BEGIN …`
///   and `COMMIT` round trips; inside `transaction()` there are none). Reads are sent as
///   they are. A batch (`batch_execute`) that writes gets the `SET LOCAL` in front, in the
///   same batch.
/// - When the context changes inside a transaction (a nested scope, a nested
///   `transaction()`), the next savepoint or statement sets it again, and it is set back
///   when the nested scope's writes are done.
///
/// ```no_run
/// use auditrum_diesel::connection::AuditedConnection;
/// use auditrum_diesel::context::{with_change_reason, with_context, AuditContext};
/// use diesel::prelude::*;
///
/// # fn main() -> QueryResult<()> {
/// let mut conn = AuditedConnection::establish("postgres://localhost/app").unwrap();
/// with_context(AuditContext::new().user_id("alice@example.com"), || {
///     with_change_reason("support ticket 7", || {
///         conn.transaction(|conn| {
///             diesel::sql_query("UPDATE users SET email = 'new@example.com' WHERE id = 1")
///                 .execute(conn)
///         })
///     })
/// })?;
/// # Ok(())
/// # }
/// ```
///
/// It works with `diesel::r2d2` pools (`ConnectionManager<AuditedConnection>`), and runs
/// migrations through [`MigrationHarness`](diesel_migrations::MigrationHarness) with
/// `source = "migration"`. For what only a `PgConnection` offers (`COPY`,
/// `build_transaction`, notifications) use [`inner_mut`](Self::inner_mut): statements sent
/// that way carry no context of their own.
pub struct AuditedConnection {
    pub(super) inner: PgConnection,
    config: AuditConfig,
    context: ContextSource,
    pub(super) applied: AppliedStack,
}

impl std::fmt::Debug for AuditedConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditedConnection")
            .field("config", &self.config)
            .field("base", &self.context.base())
            .field("applied", &self.applied)
            .finish_non_exhaustive()
    }
}

/// How a statement is sent.
enum Route {
    /// As it is.
    Direct,
    /// Inside a transaction whose context changed: after this `SET LOCAL`.
    AfterSet(String, Option<String>),
    /// Outside a transaction, with a context: in a transaction of its own.
    Wrapped,
}

impl AuditedConnection {
    /// Wraps a connection; the context goes to the setting of the default
    /// [`AuditConfig`].
    pub fn new(inner: PgConnection) -> Self {
        Self::with_config(inner, AuditConfig::default())
    }

    /// Wraps a connection; the context goes to `config.context_setting()`.
    pub fn with_config(inner: PgConnection, config: AuditConfig) -> Self {
        AuditedConnection {
            inner,
            config,
            context: ContextSource::default(),
            applied: AppliedStack::default(),
        }
    }

    /// Connects to `database_url` with `config`.
    pub fn establish_with_config(
        database_url: &str,
        config: AuditConfig,
    ) -> ConnectionResult<Self> {
        Ok(Self::with_config(
            PgConnection::establish(database_url)?,
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

    /// A context of this connection, beneath every scope (scopes' keys win): e.g. the
    /// name of the service, for every write through this connection.
    ///
    /// Use it only for what is true of the connection for its whole life. It stays with
    /// the connection when a pool hands it to the next user, so per-request context
    /// belongs in a scope, never here.
    pub fn set_connection_context(&mut self, context: Option<AuditContext>) {
        self.context.set_base(context);
    }

    /// The context of this connection (see
    /// [`set_connection_context`](Self::set_connection_context)).
    pub fn connection_context(&self) -> Option<&AuditContext> {
        self.context.base()
    }

    /// The wrapped connection.
    pub fn inner(&self) -> &PgConnection {
        &self.inner
    }

    /// The wrapped connection, for what only a `PgConnection` offers. Statements sent
    /// through it inside a transaction of this connection see the context set for that
    /// transaction; outside one they carry none.
    pub fn inner_mut(&mut self) -> &mut PgConnection {
        &mut self.inner
    }

    /// Unwraps the connection.
    pub fn into_inner(self) -> PgConnection {
        self.inner
    }

    /// Runs `f` in a transaction with `context` merged over the context in force: the
    /// same as [`with_context`](crate::context::with_context) around
    /// [`transaction`](Connection::transaction).
    pub fn audited_transaction<T, E, F>(&mut self, context: AuditContext, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut Self) -> Result<T, E>,
        E: From<diesel::result::Error>,
    {
        context::with_context(context, || self.transaction(f))
    }

    /// The context JSON in force now (the connection's merged with the scopes'), or
    /// `None` when there is none.
    pub(super) fn context_json(&mut self) -> Result<Option<String>, ContextError> {
        self.context.json()
    }

    /// `SET LOCAL` for `json` on this connection's setting.
    pub(super) fn set_local_sql(&self, json: Option<&str>) -> Result<String, ContextError> {
        statement::set_local(self.config.context_setting(), json)
    }

    fn depth(&mut self) -> QueryResult<Option<std::num::NonZeroU32>> {
        let depth =
            AuditedTransactionManager::transaction_manager_status_mut(self).transaction_depth()?;
        self.applied.sync(depth);
        Ok(depth)
    }

    /// Inside a transaction: the `SET LOCAL` to send first when the context changed.
    fn pending_set(&mut self) -> QueryResult<Option<(String, Option<String>)>> {
        let json = self.context_json()?;
        if *self.applied.top() == Applied::Known(json.clone()) {
            return Ok(None);
        }
        Ok(Some((self.set_local_sql(json.as_deref())?, json)))
    }

    fn route(&mut self, is_write: impl FnOnce() -> bool) -> QueryResult<Route> {
        if self.depth()?.is_some() {
            return Ok(match self.pending_set()? {
                Some((sql, json)) => Route::AfterSet(sql, json),
                None => Route::Direct,
            });
        }
        // Outside a transaction a bad context fails only writes, which would carry it.
        let json = self.context_json();
        if matches!(json, Ok(None)) || !is_write() {
            return Ok(Route::Direct);
        }
        json?;
        Ok(Route::Wrapped)
    }

    fn set_first(&mut self, sql: &str, json: Option<String>) -> QueryResult<()> {
        self.applied.set_top(Applied::Unknown);
        self.inner.batch_execute(sql)?;
        self.applied.set_top(Applied::Known(json));
        Ok(())
    }
}

impl SimpleConnection for AuditedConnection {
    fn batch_execute(&mut self, query: &str) -> QueryResult<()> {
        match self.route(|| statement::batch_writes(query))? {
            Route::Direct => self.inner.batch_execute(query),
            Route::AfterSet(set, json) => {
                self.applied.set_top(Applied::Unknown);
                self.inner.batch_execute(&format!("{set};\n{query}"))?;
                self.applied.set_top(Applied::Known(json));
                Ok(())
            }
            Route::Wrapped => {
                // A multi-statement batch runs as one implicit transaction, so a leading
                // SET LOCAL covers the whole batch, in the same round trip.
                let json = self.context_json()?;
                let set = self.set_local_sql(json.as_deref())?;
                self.inner.batch_execute(&format!("{set};\n{query}"))
            }
        }
    }
}

impl ConnectionSealed for AuditedConnection {}

impl Connection for AuditedConnection {
    type Backend = Pg;
    type TransactionManager = AuditedTransactionManager;

    fn establish(database_url: &str) -> ConnectionResult<Self> {
        Ok(Self::new(PgConnection::establish(database_url)?))
    }

    fn execute_returning_count<T>(&mut self, source: &T) -> QueryResult<usize>
    where
        T: QueryFragment<Pg> + QueryId,
    {
        match self.route(|| statement::query_is_write(source))? {
            Route::Direct => self.inner.execute_returning_count(source),
            Route::AfterSet(set, json) => {
                self.set_first(&set, json)?;
                self.inner.execute_returning_count(source)
            }
            Route::Wrapped => AuditedTransactionManager::transaction(self, |conn| {
                conn.inner.execute_returning_count(source)
            }),
        }
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

impl LoadConnection<DefaultLoadingMode> for AuditedConnection {
    type Cursor<'conn, 'query> =
        <PgConnection as LoadConnection<DefaultLoadingMode>>::Cursor<'conn, 'query>;
    type Row<'conn, 'query> =
        <PgConnection as LoadConnection<DefaultLoadingMode>>::Row<'conn, 'query>;

    fn load<'conn, 'query, T>(
        &'conn mut self,
        source: T,
    ) -> QueryResult<Self::Cursor<'conn, 'query>>
    where
        T: Query + QueryFragment<Pg> + QueryId + 'query,
        Pg: QueryMetadata<T::SqlType>,
    {
        match self.route(|| statement::query_is_write(&source))? {
            Route::Direct => LoadConnection::<DefaultLoadingMode>::load(&mut self.inner, source),
            Route::AfterSet(set, json) => {
                self.set_first(&set, json)?;
                LoadConnection::<DefaultLoadingMode>::load(&mut self.inner, source)
            }
            // The default mode fetches the whole result before returning, so the
            // transaction can commit before the rows are read.
            Route::Wrapped => AuditedTransactionManager::transaction(self, |conn| {
                LoadConnection::<DefaultLoadingMode>::load(&mut conn.inner, source)
            }),
        }
    }
}

impl LoadConnection<PgRowByRowLoadingMode> for AuditedConnection {
    type Cursor<'conn, 'query> =
        <PgConnection as LoadConnection<PgRowByRowLoadingMode>>::Cursor<'conn, 'query>;
    type Row<'conn, 'query> =
        <PgConnection as LoadConnection<PgRowByRowLoadingMode>>::Row<'conn, 'query>;

    fn load<'conn, 'query, T>(
        &'conn mut self,
        source: T,
    ) -> QueryResult<Self::Cursor<'conn, 'query>>
    where
        T: Query + QueryFragment<Pg> + QueryId + 'query,
        Pg: QueryMetadata<T::SqlType>,
    {
        match self.route(|| statement::query_is_write(&source))? {
            Route::Direct => LoadConnection::<PgRowByRowLoadingMode>::load(&mut self.inner, source),
            Route::AfterSet(set, json) => {
                self.set_first(&set, json)?;
                LoadConnection::<PgRowByRowLoadingMode>::load(&mut self.inner, source)
            }
            // Rows stream after this returns: the transaction could not end here.
            Route::Wrapped => Err(ContextError::RowByRowOutsideTransaction.into()),
        }
    }
}
