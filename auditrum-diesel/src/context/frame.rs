//! The frame of an active scope, and where frames live: a thread-local stack for
//! synchronous code and a tokio task-local for async code (feature `tokio`). The scope
//! functions (`scope.rs`, `task.rs`) and the handle build on this module only.

use std::cell::RefCell;
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
        let task = task_frame();
        match (thread, task) {
            (Some(t), Some(k)) => Some(if t.id > k.id { t } else { k }),
            (t, k) => t.or(k),
        }
    }
    #[cfg(not(feature = "tokio"))]
    thread
}

/// Pushes `frame` on this thread's stack; returns its id, for [`pop_thread`].
pub(super) fn push_thread(frame: Frame) -> u64 {
    let id = frame.id;
    STACK.with(|stack| stack.borrow_mut().push(Arc::new(frame)));
    id
}

/// Ends the frame `id` on this thread, and every frame opened inside it.
pub(super) fn pop_thread(id: u64) {
    // `try_with`: a guard in a thread-local destructor may outlive the stack.
    let _ = STACK.try_with(|stack| {
        let mut stack = stack.borrow_mut();
        if let Some(position) = stack.iter().position(|frame| frame.id == id) {
            stack.truncate(position);
        }
    });
}

#[cfg(feature = "tokio")]
tokio::task_local! {
    static TASK_FRAME: Arc<Frame>;
}

#[cfg(feature = "tokio")]
fn task_frame() -> Option<Arc<Frame>> {
    TASK_FRAME.try_with(Arc::clone).ok()
}

/// Runs `future` with `frame` as its task's frame.
#[cfg(feature = "tokio")]
pub(super) fn scoped<F: std::future::Future>(
    frame: Frame,
    future: F,
) -> impl std::future::Future<Output = F::Output> {
    TASK_FRAME.scope(Arc::new(frame), future)
}
