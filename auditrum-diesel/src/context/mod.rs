//! Who, why and from where: the context stored with every transaction.
//!
//! An [`AuditContext`] is a JSON object (`user_id`, `request_id`, `source`,
//! `change_reason`, … and keys of your own; see [`keys`]). Scopes make one active:
//!
//! - [`with_context`], [`with_change_reason()`], [`audit_tracked`] and [`enter`] for
//!   synchronous code: a thread-local stack;
//! - `with_context_async`, `with_change_reason_async`, `audit_tracked_async` for
//!   async code (feature `tokio`): a tokio task-local;
//! - the attribute `#[with_change_reason("…")]` for a whole function.
//!
//! Scopes nest: the inner context is merged over the outer one (inner keys win, change
//! reasons add up; see [`AuditContext::merge`]), and the outer context comes back when the
//! scope ends, also on panic.
//!
//! The context reaches the database through an
//! [`AuditedConnection`](crate::connection::AuditedConnection), which sends it with
//! `SET LOCAL` in the same batch as `BEGIN`, or through
//! [`audited_transaction`](crate::connection::AuditedTransactionExt::audited_transaction)
//! on a plain `PgConnection`.
//!
//! ```
//! use auditrum_diesel::context::{with_change_reason, with_context, AuditContext};
//! use serde_json::json;
//!
//! with_context(AuditContext::new().user_id(42).source("web"), || {
//!     with_change_reason("password reset", || {
//!         assert_eq!(
//!             AuditContext::current().unwrap().to_json(),
//!             json!({"user_id": "42", "source": "web", "change_reason": "password reset"})
//!         );
//!     })
//! });
//! assert_eq!(AuditContext::current(), None);
//! ```
//!
//! A new thread or task starts with no context: carry it across with [`carry`] (threads,
//! `spawn_blocking`, deadpool-diesel's `interact`) or `carry_future` (`tokio::spawn`, feature
//! `tokio`).

mod audit_context;
mod error;
mod frame;
mod handle;
mod scope;
#[cfg(feature = "tokio")]
mod task;
mod trace;

pub use audit_context::{keys, AuditContext, REASON_SEPARATOR};
/// Attribute form of [`with_change_reason()`]: the whole function runs with the reason.
///
/// ```
/// use auditrum_diesel::context::{with_change_reason, AuditContext};
///
/// #[with_change_reason("user requested password reset")]
/// fn reset_password(user: i32) -> Option<AuditContext> {
///     let _ = user;
///     AuditContext::current()
/// }
///
/// let ctx = reset_password(7).unwrap();
/// assert_eq!(ctx.change_reasons(), ["user requested password reset"]);
/// assert_eq!(AuditContext::current(), None);
/// ```
///
/// On an `async fn` it needs the `tokio` feature (it uses `with_change_reason_async`).
pub use auditrum_diesel_derive::with_change_reason;
pub use error::ContextError;
pub(crate) use frame::current_frame;
pub use handle::ContextHandle;
pub use scope::{
    audit_tracked, carry, enter, enter_change_reason, enter_handle, with_change_reason,
    with_context, ContextGuard,
};
#[cfg(feature = "tokio")]
pub use task::{
    audit_tracked_async, carry_future, with_change_reason_async, with_context_async,
    with_handle_async,
};
