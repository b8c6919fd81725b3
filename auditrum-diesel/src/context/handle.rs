//! A context that can still change after its scope started.

use std::sync::{Arc, Mutex, PoisonError};

use super::frame::{current_frame, next_id};
use super::AuditContext;

/// A shared, changeable context: the base of a scope that code further in can still amend.
///
/// The web layer makes one per request (request id, method, path, …) and puts it in the
/// request's extensions, so that an authentication step that runs later, even inside the
/// handler, can add the user for every write that follows:
///
/// ```
/// use auditrum_diesel::context::{self, AuditContext, ContextHandle};
///
/// let request = ContextHandle::new(AuditContext::new().request_id("r-1"));
/// let _scope = context::enter_handle(request.clone());
/// // ... authentication runs ...
/// ContextHandle::current().unwrap().update(|ctx| ctx.set("user_id", "42"));
/// let ctx = AuditContext::current().unwrap();
/// assert_eq!(ctx.get("user_id").unwrap(), "42");
/// assert_eq!(ctx.get("request_id").unwrap(), "r-1");
/// ```
///
/// Scopes entered inside it are merged over it, so their keys win over the handle's.
#[derive(Debug, Clone)]
pub struct ContextHandle {
    inner: Arc<Mutex<Versioned>>,
}

#[derive(Debug)]
struct Versioned {
    version: u64,
    context: AuditContext,
}

impl ContextHandle {
    /// A handle holding `context`.
    pub fn new(context: AuditContext) -> Self {
        ContextHandle {
            inner: Arc::new(Mutex::new(Versioned {
                version: next_id(),
                context,
            })),
        }
    }

    /// The handle of the innermost scope that has one, if any.
    pub fn current() -> Option<ContextHandle> {
        current_frame().and_then(|frame| frame.handle().cloned())
    }

    /// Changes the context; writes after this carry the change.
    pub fn update(&self, change: impl FnOnce(&mut AuditContext)) {
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        change(&mut inner.context);
        inner.version = next_id();
    }

    /// Sets `user_id` (as text): the usual thing to add once the user is authenticated.
    pub fn set_user_id(&self, user_id: impl ToString) {
        self.update(|ctx| ctx.set(super::keys::USER_ID, user_id.to_string()));
    }

    /// A copy of the context as it is now.
    pub fn snapshot(&self) -> AuditContext {
        self.inner
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .context
            .clone()
    }

    /// Changes with every [`update`](Self::update).
    pub(crate) fn version(&self) -> u64 {
        self.inner
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .version
    }
}
