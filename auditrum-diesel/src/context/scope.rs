//! Context scopes for synchronous code: a thread-local stack of merged contexts.

use std::cell::RefCell;
use std::marker::PhantomData;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use super::{AuditContext, ContextHandle};

/// One active scope: the merged context of it and every scope around it.
#[derive(Debug)]
pub(crate) struct Frame {
    /// Unique, and increasing: a newer frame is an inner one (see [`current_frame`]).
    pub(crate) id: u64,
    /// The merged contexts of the scopes, outermost first.
    context: AuditContext,
    /// A context that may still change (the web layer's per-request context), beneath
    /// `context`.
    handle: Option<ContextHandle>,
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// A process-wide increasing id for frames and handle versions.
pub(crate) fn next_id() -> u64 {
    NEXT_ID.fetch_add(1, Ordering::Relaxed)
}

impl Frame {
    /// A frame for `context` inside `parent`.
    pub(crate) fn inside(parent: Option<&Frame>, context: &AuditContext) -> Frame {
        // The current OpenTelemetry span, beneath the scope's own keys.
        let context = match super::trace::current_span() {
            Some(span) => span.merge(context),
            None => context.clone(),
        };
        Frame {
            id: next_id(),
            context: match parent {
                Some(parent) => parent.context.merge(&context),
                None => context,
            },
            handle: parent.and_then(|parent| parent.handle.clone()),
        }
    }

    /// A frame whose changeable base is `handle`, inside `parent`.
    pub(crate) fn with_handle(parent: Option<&Frame>, handle: ContextHandle) -> Frame {
        let context = parent.map(|p| p.context.clone()).unwrap_or_default();
        Frame {
            id: next_id(),
            context: match super::trace::current_span() {
                Some(span) => context.merge(&span),
                None => context,
            },
            handle: Some(handle),
        }
    }

    /// The same context under a new id (to re-enter it on another thread or task).
    pub(crate) fn renewed(&self) -> Frame {
        Frame {
            id: next_id(),
            context: self.context.clone(),
            handle: self.handle.clone(),
        }
    }

    /// The context now in force.
    pub(crate) fn effective(&self) -> AuditContext {
        match &self.handle {
            Some(handle) => handle.snapshot().merge(&self.context),
            None => self.context.clone(),
        }
    }

    /// Changes whenever [`effective`](Self::effective) may have changed.
    pub(crate) fn version(&self) -> (u64, u64) {
        (
            self.id,
            self.handle.as_ref().map_or(0, ContextHandle::version),
        )
    }

    pub(crate) fn handle(&self) -> Option<&ContextHandle> {
        self.handle.as_ref()
    }
}

thread_local! {
    static STACK: RefCell<Vec<Arc<Frame>>> = const { RefCell::new(Vec::new()) };
}

/// The innermost active frame: the thread's or the tokio task's, whichever is newer.
///
/// Only one task runs on a thread at a time, and a thread frame lives only while
/// synchronous code runs (its guard is `!Send`), so the newer of the two is the inner one.
pub(crate) fn current_frame() -> Option<Arc<Frame>> {
    let thread = STACK
        .try_with(|stack| stack.borrow().last().cloned())
        .ok()
        .flatten();
    #[cfg(feature = "tokio")]
    {
        let task = super::task::task_frame();
        match (thread, task) {
            (Some(t), Some(k)) => Some(if t.id > k.id { t } else { k }),
            (t, k) => t.or(k),
        }
    }
    #[cfg(not(feature = "tokio"))]
    thread
}

impl AuditContext {
    /// The context in force here, merged from every enclosing scope (thread-local, or tokio
    /// task-local with the `tokio` feature); `None` outside any scope.
    ///
    /// ```
    /// use auditrum_diesel::context::{with_change_reason, AuditContext};
    ///
    /// assert_eq!(AuditContext::current(), None);
    /// with_change_reason("why", || {
    ///     assert_eq!(AuditContext::current().unwrap().change_reasons(), ["why"]);
    /// });
    /// ```
    pub fn current() -> Option<AuditContext> {
        current_frame().map(|frame| frame.effective())
    }

    /// Makes this context active (merged over the current one) until the guard is dropped.
    /// Same as [`enter`].
    pub fn enter(self) -> ContextGuard {
        enter(self)
    }
}

/// Makes `context` active, merged over the current context, until the guard is dropped;
/// then the outer context is back (also when unwinding from a panic).
///
/// The guard is `!Send`: it cannot be held across an `.await` of a task that may move
/// between threads. In async code use
/// `with_context_async` (feature `tokio`).
///
/// ```
/// use auditrum_diesel::context::{self, AuditContext};
///
/// let guard = context::enter(AuditContext::new().source("cron:nightly"));
/// assert_eq!(AuditContext::current().unwrap().get("source").unwrap(), "cron:nightly");
/// drop(guard);
/// assert_eq!(AuditContext::current(), None);
/// ```
pub fn enter(context: AuditContext) -> ContextGuard {
    let parent = current_frame();
    push(Frame::inside(parent.as_deref(), &context))
}

/// Makes `handle`'s context the changeable base of the current scope until the guard is
/// dropped. The web layer does this per request.
pub fn enter_handle(handle: ContextHandle) -> ContextGuard {
    let parent = current_frame();
    push(Frame::with_handle(parent.as_deref(), handle))
}

/// [`enter`] with a context holding only a change reason.
pub fn enter_change_reason(reason: impl Into<String>) -> ContextGuard {
    enter(AuditContext::new().change_reason(reason))
}

pub(crate) fn push(frame: Frame) -> ContextGuard {
    let id = frame.id;
    STACK.with(|stack| stack.borrow_mut().push(Arc::new(frame)));
    ContextGuard {
        id,
        _not_send: PhantomData,
    }
}

/// Runs `f` with `context` merged over the current context; the outer context comes back
/// when `f` returns or panics.
///
/// ```
/// use auditrum_diesel::context::{with_context, AuditContext};
///
/// let user = AuditContext::new().user_id("alice@example.com").source("web");
/// let reasons = with_context(user, || {
///     // Every write of an `AuditedConnection` here carries user_id and source.
///     AuditContext::current().unwrap().get("user_id").cloned()
/// });
/// assert_eq!(reasons.unwrap(), "alice@example.com");
/// ```
pub fn with_context<R>(context: AuditContext, f: impl FnOnce() -> R) -> R {
    enter(context).run(f)
}

/// Runs `f` with `reason` added to the change reasons in force.
///
/// The attribute form `#[with_change_reason("…")]` does the same for a whole function.
///
/// ```
/// use auditrum_diesel::context::{with_change_reason, AuditContext};
///
/// with_change_reason("bulk update for compliance", || {
///     with_change_reason("fix emails", || {
///         let ctx = AuditContext::current().unwrap();
///         assert_eq!(ctx.change_reasons(), ["bulk update for compliance", "fix emails"]);
///     })
/// });
/// ```
pub fn with_change_reason<R>(reason: impl Into<String>, f: impl FnOnce() -> R) -> R {
    enter_change_reason(reason).run(f)
}

/// Marks the work of a process with `source`: a CLI task, a cron job, a shell session.
///
/// Guard form: the source holds until the guard is dropped, e.g. for all of `main`.
/// Closure form: [`ContextGuard::run`].
///
/// ```
/// use auditrum_diesel::context::{audit_tracked, AuditContext};
///
/// // The whole command:
/// let _audit = audit_tracked("cli:import");
/// // ... or one part of it:
/// audit_tracked("cli:import:users").run(|| {
///     assert_eq!(AuditContext::current().unwrap().get("source").unwrap(), "cli:import:users");
/// });
/// ```
pub fn audit_tracked(source: impl Into<String>) -> ContextGuard {
    enter(AuditContext::new().source(source))
}

/// Wraps `f` so that it runs with the context in force now, wherever it runs: the way to
/// carry the context into [`std::thread::spawn`], `tokio::task::spawn_blocking` or
/// deadpool-diesel's `interact`, which start with no context.
///
/// ```
/// use auditrum_diesel::context::{carry, with_change_reason, AuditContext};
///
/// with_change_reason("import", || {
///     let job = carry(|| AuditContext::current());
///     let seen = std::thread::spawn(job).join().unwrap();
///     assert_eq!(seen.unwrap().change_reasons(), ["import"]);
/// });
/// ```
pub fn carry<R>(f: impl FnOnce() -> R + Send) -> impl FnOnce() -> R + Send {
    let frame = current_frame();
    move || match frame {
        Some(frame) => push(frame.renewed()).run(f),
        None => f(),
    }
}

/// An active context scope; dropping it brings the outer context back.
///
/// Returned by [`enter`], [`audit_tracked`] and [`enter_change_reason`]. Guards are meant
/// to be dropped in reverse order of creation; dropping an outer guard first also ends
/// the scopes opened inside it, so no context outlives its guard.
#[derive(Debug)]
#[must_use = "the scope ends when the guard is dropped"]
pub struct ContextGuard {
    id: u64,
    /// The stack is thread-local: a guard must stay on its thread.
    _not_send: PhantomData<*const ()>,
}

impl ContextGuard {
    /// Runs `f` inside this scope, then ends it (also when `f` panics).
    pub fn run<R>(self, f: impl FnOnce() -> R) -> R {
        let result = f();
        drop(self);
        result
    }
}

impl Drop for ContextGuard {
    fn drop(&mut self) {
        // `try_with`: a guard in a thread-local destructor may outlive the stack.
        let _ = STACK.try_with(|stack| {
            let mut stack = stack.borrow_mut();
            if let Some(position) = stack.iter().position(|frame| frame.id == self.id) {
                stack.truncate(position);
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reasons() -> Vec<String> {
        AuditContext::current()
            .map(|c| c.change_reasons().to_vec())
            .unwrap_or_default()
    }

    #[test]
    fn scopes_nest_and_restore_also_after_a_panic() {
        with_change_reason("a", || {
            let caught = std::panic::catch_unwind(|| {
                with_change_reason("b", || {
                    assert_eq!(reasons(), ["a", "b"]);
                    panic!("boom");
                })
            });
            assert!(caught.is_err());
            assert_eq!(reasons(), ["a"]);
        });
        assert_eq!(AuditContext::current(), None);
    }

    #[test]
    fn dropping_an_outer_guard_first_ends_the_inner_scope_too() {
        let outer = enter_change_reason("a");
        let inner = enter_change_reason("b");
        drop(outer);
        assert_eq!(AuditContext::current(), None);
        drop(inner);
        assert_eq!(AuditContext::current(), None);
        let _next = enter_change_reason("c");
        assert_eq!(reasons(), ["c"]);
    }

    #[test]
    fn a_handle_changes_the_base_beneath_the_scopes() {
        let handle = ContextHandle::new(AuditContext::new().request_id("r1"));
        let _base = enter_handle(handle.clone());
        let _inner = enter(AuditContext::new().source("web"));
        handle.update(|ctx| ctx.set("user_id", "u7"));
        let ctx = AuditContext::current().unwrap();
        assert_eq!(
            ctx.to_json(),
            serde_json::json!({"request_id": "r1", "source": "web", "user_id": "u7"})
        );
    }
}
