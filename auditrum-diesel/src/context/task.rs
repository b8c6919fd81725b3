//! Context scopes for async code: a tokio task-local (feature `tokio`).
//!
//! A task-local is not inherited by `tokio::spawn` or `tokio::task::spawn_blocking`: the
//! new task or thread starts with no context. Carry it across with [`carry_future`] and
//! [`carry`](super::carry).

use std::future::Future;

use super::frame::{current_frame, scoped, Frame};
use super::{AuditContext, ContextHandle};

/// Runs `future` with `context` merged over the context in force where this is called.
///
/// The context holds across `.await` points, in the current task only.
///
/// ```
/// use auditrum_diesel::context::{with_context_async, AuditContext};
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let ctx = AuditContext::new().user_id("42");
/// let user = with_context_async(ctx, async {
///     tokio::task::yield_now().await;
///     AuditContext::current().unwrap().get("user_id").cloned()
/// })
/// .await;
/// assert_eq!(user.unwrap(), "42");
/// # });
/// ```
pub fn with_context_async<F: Future>(
    context: AuditContext,
    future: F,
) -> impl Future<Output = F::Output> {
    let parent = current_frame();
    scoped(Frame::inside(parent.as_deref(), &context), future)
}

/// Runs `future` with `reason` added to the change reasons in force.
pub fn with_change_reason_async<F: Future>(
    reason: impl Into<String>,
    future: F,
) -> impl Future<Output = F::Output> {
    with_context_async(AuditContext::new().change_reason(reason), future)
}

/// Runs `future` with `source` set: the async form of [`audit_tracked`](super::audit_tracked).
pub fn audit_tracked_async<F: Future>(
    source: impl Into<String>,
    future: F,
) -> impl Future<Output = F::Output> {
    with_context_async(AuditContext::new().source(source), future)
}

/// Runs `future` with `handle` as the changeable base of its context (what the web layer
/// does per request).
pub fn with_handle_async<F: Future>(
    handle: ContextHandle,
    future: F,
) -> impl Future<Output = F::Output> {
    let parent = current_frame();
    scoped(Frame::with_handle(parent.as_deref(), handle), future)
}

/// Wraps `future` so that it runs with the context in force now: the way to carry the
/// context into `tokio::spawn`, which starts the new task with none.
///
/// ```
/// use auditrum_diesel::context::{carry_future, with_change_reason_async, AuditContext};
///
/// # tokio::runtime::Builder::new_multi_thread().worker_threads(1).build().unwrap().block_on(async {
/// with_change_reason_async("nightly import", async {
///     let lost = tokio::spawn(async { AuditContext::current() }).await.unwrap();
///     assert_eq!(lost, None);
///     let kept = tokio::spawn(carry_future(async { AuditContext::current() })).await.unwrap();
///     assert_eq!(kept.unwrap().change_reasons(), ["nightly import"]);
/// })
/// .await;
/// # });
/// ```
pub fn carry_future<F: Future>(future: F) -> impl Future<Output = F::Output> {
    let frame = current_frame().map(|frame| frame.renewed());
    async move {
        match frame {
            Some(frame) => scoped(frame, future).await,
            None => future.await,
        }
    }
}
