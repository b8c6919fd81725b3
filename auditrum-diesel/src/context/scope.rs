//! Context scopes for synchronous code: a thread-local stack of merged contexts.

use std::marker::PhantomData;

use super::frame::{self, current_frame, Frame};
use super::{AuditContext, ContextHandle};

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
    let id = frame::push_thread(frame);
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
        frame::pop_thread(self.id);
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
