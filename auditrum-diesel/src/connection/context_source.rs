//! What a connection sends as the context: its own context beneath the scopes', rendered
//! to JSON once per change of scope.

use crate::context::{self, AuditContext, ContextError};

/// The connection-level context and the last rendering of the context in force.
#[derive(Debug, Default)]
pub(crate) struct ContextSource {
    base: Option<AuditContext>,
    cache: Option<CachedContext>,
}

/// The last context rendered, keyed by the scope it came from.
#[derive(Debug)]
struct CachedContext {
    key: Option<(u64, u64)>,
    json: Result<Option<String>, ContextError>,
}

impl ContextSource {
    /// The connection's own context, beneath every scope.
    pub(crate) fn base(&self) -> Option<&AuditContext> {
        self.base.as_ref()
    }

    /// Sets the connection's own context (an empty one is none).
    pub(crate) fn set_base(&mut self, context: Option<AuditContext>) {
        self.base = context.filter(|c| !c.is_empty());
        self.cache = None;
    }

    /// The context JSON in force now (the connection's merged with the scopes': the
    /// thread's, or the tokio task's), or `None` when there is none.
    pub(crate) fn json(&mut self) -> Result<Option<String>, ContextError> {
        let frame = context::current_frame();
        let key = frame.as_ref().map(|frame| frame.version());
        if let Some(cache) = &self.cache {
            if cache.key == key {
                return cache.json.clone();
            }
        }
        let context = match (&self.base, frame) {
            (None, None) => None,
            (Some(base), None) => Some(base.clone()),
            (None, Some(frame)) => Some(frame.effective()),
            (Some(base), Some(frame)) => Some(base.merge(&frame.effective())),
        };
        let json = match context.filter(|c| !c.is_empty()) {
            Some(context) => context.to_json_string().map(Some),
            None => Ok(None),
        };
        self.cache = Some(CachedContext {
            key,
            json: json.clone(),
        });
        json
    }
}
