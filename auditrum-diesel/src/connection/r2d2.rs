//! `diesel::r2d2` pools of [`AuditedConnection`]s.
//!
//! ```no_run
//! use auditrum_diesel::connection::AuditedConnection;
//! use auditrum_diesel::context::{with_context, AuditContext};
//! use diesel::prelude::*;
//! use diesel::r2d2::{ConnectionManager, Pool};
//!
//! let pool = Pool::builder()
//!     .build(ConnectionManager::<AuditedConnection>::new("postgres://localhost/app"))
//!     .unwrap();
//! with_context(AuditContext::new().request_id("r-1"), || {
//!     let mut conn = pool.get().unwrap();
//!     diesel::sql_query("DELETE FROM sessions WHERE expired").execute(&mut conn)
//! })
//! .unwrap();
//! ```
//!
//! The context is read from the scope at each transaction, not stored in the connection,
//! so nothing of one checkout's context reaches the next. (r2d2's
//! `CustomizeConnection::on_acquire` runs once per physical connection, not per checkout:
//! use [`AuditedCustomizer`] only for what is true for the connection's whole life.)

use diesel::r2d2::{CustomizeConnection, R2D2Connection};
use diesel::QueryResult;

use super::{AuditedConnection, AuditedTransactionManager};
use crate::context::AuditContext;
use crate::AuditConfig;

impl R2D2Connection for AuditedConnection {
    fn ping(&mut self) -> QueryResult<()> {
        self.inner.ping()
    }

    /// Broken when a transaction is left open (or the transaction manager is in error):
    /// the pool then drops the connection, and its context with it.
    fn is_broken(&mut self) -> bool {
        use diesel::connection::TransactionManager;
        AuditedTransactionManager::is_broken_transaction_manager(self)
    }
}

/// Sets the configuration and a connection-level context on each new pooled connection:
/// `Pool::builder().connection_customizer(Box::new(AuditedCustomizer::new(config)))`.
#[derive(Debug, Clone)]
pub struct AuditedCustomizer {
    config: AuditConfig,
    context: Option<AuditContext>,
}

impl AuditedCustomizer {
    /// Applies `config` (the context setting) to every new connection.
    pub fn new(config: AuditConfig) -> Self {
        AuditedCustomizer {
            config,
            context: None,
        }
    }

    /// Also sets `context` as every new connection's
    /// [connection context](AuditedConnection::set_connection_context), e.g. the service
    /// name. Never per-request data: a connection serves many requests.
    pub fn connection_context(mut self, context: AuditContext) -> Self {
        self.context = Some(context);
        self
    }
}

impl CustomizeConnection<AuditedConnection, diesel::r2d2::Error> for AuditedCustomizer {
    fn on_acquire(&self, conn: &mut AuditedConnection) -> Result<(), diesel::r2d2::Error> {
        conn.set_config(self.config.clone());
        conn.set_connection_context(self.context.clone());
        Ok(())
    }
}
