//! `ContextHandle` as an axum extractor.

use axum::extract::FromRequestParts;
use http::request::Parts;
use http::StatusCode;

use crate::context::ContextHandle;

/// The request's audit context, put there by [`AuditLayer`](super::AuditLayer); a handler
/// or middleware adds the user with [`set_user_id`](ContextHandle::set_user_id).
///
/// Without the layer, the request is refused with 500 and a message saying so.
impl<S: Send + Sync> FromRequestParts<S> for ContextHandle {
    type Rejection = (StatusCode, &'static str);

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<ContextHandle>().cloned().ok_or((
            StatusCode::INTERNAL_SERVER_ERROR,
            "auditrum: no audit context on this request; add `.layer(AuditLayer::new())` to the router",
        ))
    }
}
