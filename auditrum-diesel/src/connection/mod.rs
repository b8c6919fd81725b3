//! Getting the context into the database: the [`AuditedConnection`] wrapper (and
//! `AsyncAuditedConnection` for diesel-async, feature `diesel-async`), and
//! [`audited_transaction`](AuditedTransactionExt::audited_transaction) for a plain
//! `PgConnection`.
//!
//! Both send the [context](crate::context) with `SET LOCAL <setting> = E'<json>'` in the
//! same batch as `BEGIN`, so it costs no extra round trip, and it ends with the
//! transaction, so it cannot leak into the next one or to the next user of a pooled
//! connection. `SET LOCAL` rather than `SELECT set_config(…)`: a `SELECT` would take the
//! transaction's snapshot, and a `SET TRANSACTION ISOLATION LEVEL` after it would fail.

#[cfg(feature = "diesel-async")]
mod async_connection;
#[cfg(feature = "diesel-async")]
mod async_pg;
#[cfg(feature = "diesel-async")]
mod async_transaction_manager;
mod audited_connection;
mod context_source;
mod extension;
mod migrations;
mod r2d2;
mod state;
mod statement;
mod transaction_manager;

#[cfg(feature = "diesel-async")]
pub use async_connection::AsyncAuditedConnection;
#[cfg(feature = "diesel-async")]
pub use async_pg::{AuditedAsyncTransactionExt, AuditedFuture};
#[cfg(feature = "diesel-async")]
pub use async_transaction_manager::AsyncAuditedTransactionManager;
pub use audited_connection::AuditedConnection;
pub use extension::AuditedTransactionExt;
pub use r2d2::AuditedCustomizer;
pub use transaction_manager::AuditedTransactionManager;
