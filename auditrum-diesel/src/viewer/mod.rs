//! The audit viewer (feature `viewer`): server-rendered pages over the log, and `/metrics`.
//!
//! [`router`] returns an axum [`Router`] that an application mounts under a path of its
//! own, behind its own authentication; `auditrum-diesel serve` serves it stand-alone. It is
//! read-only: it changes no event. Pages:
//!
//! | path | page |
//! |---|---|
//! | `/` | the events, newest first, filtered by table, record key, user, request id, operation and time range, in keyset pages |
//! | `/record?table=…&key=…[&at=…]` | one record: its history as a timeline of diffs, who last set each field (blame), the row as of an instant |
//! | `/transaction?txid=…` | every event one transaction wrote, with its context |
//! | `/request?id=…` | every event one request wrote, transaction by transaction |
//! | `/status` | partitions, rows in DEFAULT, trigger drift, the hash chain |
//! | `/metrics` | Prometheus text format (see [`metrics`](self#metrics)) |
//!
//! Every value from the database is HTML-escaped by the template engine (maud), and every
//! filter reaches PostgreSQL as a bound parameter through the [read API](crate::read).
//!
//! ```no_run
//! use auditrum_diesel::connection::AuditedConnection;
//! use axum::Router;
//! use diesel::r2d2::{ConnectionManager, Pool};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let pool = Pool::builder().build(ConnectionManager::<AuditedConnection>::new(
//!     "postgres://localhost/app",
//! ))?;
//! let app: Router = Router::new()
//!     // … your routes …
//!     .nest("/admin/audit", auditrum_diesel::viewer::router(pool));
//! // Put your own authentication in front of `/admin/audit`.
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
//! axum::serve(listener, app).await?;
//! # Ok(())
//! # }
//! ```
//!
//! # Metrics
//!
//! `/metrics` reads PostgreSQL's catalog and statistics, never the whole log, so a scrape
//! costs the same for a log of a thousand or a billion events:
//!
//! - `auditrum_events_total{table,operation}`: a counter, exact: the events committed since
//!   this process's first scrape, each scrape reading only the new ones through the index on
//!   `txid` ([`new_events_query`]);
//! - `auditrum_table_events_estimate{table}` and `auditrum_operation_events_estimate{operation}`:
//!   events per audited table and per operation, estimated per partition from the planner's
//!   statistics (row count × the value's frequency in `pg_stats`), summed;
//! - `auditrum_events_estimate`: all events (the partitions' `reltuples`);
//! - `auditrum_partition_runway_months`, `auditrum_partitions`, `auditrum_default_partition_rows`;
//! - `auditrum_hash_chain_enabled`, `auditrum_hash_chain_links`, and from the viewer's own
//!   verification ([`Viewer::verify_chain_every`]) `auditrum_hash_chain_verified_timestamp_seconds`,
//!   `auditrum_hash_chain_intact`, `auditrum_hash_chain_breaks`.

mod auth;
mod base;
mod chain_monitor;
mod error;
mod layout;
mod list;
mod metrics;
mod record;
mod render;
mod status;
mod transaction;

use std::sync::Arc;
use std::time::Duration;

use axum::routing::get;
use axum::Router;
use diesel::r2d2::{ConnectionManager, Pool, R2D2Connection};
use diesel::PgConnection;

use crate::connection::AuditedConnection;
use crate::AuditConfig;

pub use auth::RequireToken;
use chain_monitor::ChainMonitor;
pub use chain_monitor::ChainVerification;
use error::ViewError;
pub use metrics::counters::new_events_query;

/// A connection the viewer can read through: a `PgConnection`, or an [`AuditedConnection`]
/// (so an app can hand the viewer the pool it already has).
pub trait ViewerConnection: R2D2Connection + Send + 'static {
    /// The PostgreSQL connection underneath.
    fn pg(&mut self) -> &mut PgConnection;
}

impl ViewerConnection for PgConnection {
    fn pg(&mut self) -> &mut PgConnection {
        self
    }
}

impl ViewerConnection for AuditedConnection {
    fn pg(&mut self) -> &mut PgConnection {
        self.inner_mut()
    }
}

/// The viewer's routes for the default audit log (`public.auditlog`), read through `pool`.
/// Same as `Viewer::new(pool).router()`; for a log under another name,
/// `Viewer::new(pool).config(config).router()`.
pub fn router<C: ViewerConnection>(pool: Pool<ConnectionManager<C>>) -> Router {
    Viewer::new(pool).router()
}

/// The viewer, configured; [`router`](Viewer::router) makes its routes.
pub struct Viewer {
    source: Arc<dyn ConnectionSource>,
    config: AuditConfig,
    page_size: i64,
    verify_every: Option<Duration>,
}

impl std::fmt::Debug for Viewer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Viewer")
            .field("config", &self.config)
            .field("page_size", &self.page_size)
            .field("verify_every", &self.verify_every)
            .finish_non_exhaustive()
    }
}

impl Viewer {
    /// A viewer of the default audit log reading through `pool`: 50 events a page, no
    /// chain verification of its own.
    pub fn new<C: ViewerConnection>(pool: Pool<ConnectionManager<C>>) -> Self {
        Viewer {
            source: Arc::new(pool),
            config: AuditConfig::default(),
            page_size: 50,
            verify_every: None,
        }
    }

    /// Reads the audit log `config` names (any schema, any table name) instead of the
    /// default `public.auditlog`.
    pub fn config(mut self, config: AuditConfig) -> Self {
        self.config = config;
        self
    }

    /// Events per page of the list (1 to 1000).
    pub fn page_size(mut self, events: i64) -> Self {
        self.page_size = events.clamp(1, 1000);
        self
    }

    /// Verifies the hash chain (server- and client-side, as `verify-chain` does) now and
    /// then every `interval`, on a thread of its own, while the router lives; the status
    /// page and `/metrics` report the last result. Verification seals the chain first, so
    /// the pool's role needs the right to run the seal function.
    pub fn verify_chain_every(mut self, interval: Duration) -> Self {
        self.verify_every = Some(interval);
        self
    }

    /// The routes: `/`, `/record`, `/transaction`, `/request`, `/status`, `/metrics`.
    pub fn router(self) -> Router {
        let monitor = Arc::new(ChainMonitor::default());
        let shared = Arc::new(Shared {
            source: self.source,
            config: self.config,
            page_size: self.page_size,
            monitor,
            counters: metrics::counters::EventCounters::default(),
        });
        if let Some(interval) = self.verify_every {
            chain_monitor::spawn(Arc::downgrade(&shared), interval);
        }
        Router::new()
            .route("/", get(list::page))
            .route("/record", get(record::page))
            .route("/transaction", get(transaction::transaction_page))
            .route("/request", get(transaction::request_page))
            .route("/status", get(status::page))
            .route("/metrics", get(metrics::endpoint))
            .with_state(shared)
    }
}

/// What every handler shares.
pub(crate) struct Shared {
    source: Arc<dyn ConnectionSource>,
    config: AuditConfig,
    page_size: i64,
    monitor: Arc<ChainMonitor>,
    /// The exact event counters of `/metrics`, kept from scrape to scrape.
    counters: metrics::counters::EventCounters,
}

type State = axum::extract::State<Arc<Shared>>;

/// A pool, with its connection type erased.
trait ConnectionSource: Send + Sync {
    fn with_pg(
        &self,
        f: &mut dyn FnMut(&mut PgConnection) -> Result<(), ViewError>,
    ) -> Result<(), ViewError>;
}

impl<C: ViewerConnection> ConnectionSource for Pool<ConnectionManager<C>> {
    fn with_pg(
        &self,
        f: &mut dyn FnMut(&mut PgConnection) -> Result<(), ViewError>,
    ) -> Result<(), ViewError> {
        let mut conn = self.get().map_err(|e| ViewError::Pool(e.to_string()))?;
        f(conn.pg())
    }
}

impl Shared {
    /// Runs `f` on a pooled connection, on a blocking thread.
    async fn db<T, F>(self: &Arc<Self>, f: F) -> Result<T, ViewError>
    where
        T: Send + 'static,
        F: FnOnce(&mut PgConnection, &Shared) -> Result<T, ViewError> + Send + 'static,
    {
        let shared = Arc::clone(self);
        tokio::task::spawn_blocking(move || shared.db_blocking(f))
            .await
            .map_err(|e| ViewError::Internal(e.to_string()))?
    }

    fn db_blocking<T, F>(&self, f: F) -> Result<T, ViewError>
    where
        F: FnOnce(&mut PgConnection, &Shared) -> Result<T, ViewError>,
    {
        let mut f = Some(f);
        let mut out = None;
        self.source.with_pg(&mut |conn| {
            let f = f.take().expect("called once");
            out = Some(f(conn, self)?);
            Ok(())
        })?;
        Ok(out.expect("set on success"))
    }
}
