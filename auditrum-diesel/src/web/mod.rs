//! Web middleware (feature `axum`): the audit context of each HTTP request.
//!
//! [`AuditLayer`] is a tower layer, so it fits axum (and any tower-based server). It does
//! what the Python original's `RequestIDMiddleware` and `AuditrumMiddleware` did together:
//! a request id (from `X-Request-Id`, or a new one, echoed in the response), the method,
//! path, client IP and user agent, in force for the whole request, plus a
//! [`ContextHandle`](crate::context::ContextHandle) for adding the user once known.

mod client_ip;
mod extract;
mod layer;
mod request_id;

/// Deprecated paths: the viewer is its own module, [`crate::viewer`], since it depends on
/// the read side and this module only on the context. These re-exports go in the next
/// release.
#[cfg(feature = "viewer")]
pub use crate::viewer::{self, router, Viewer};
pub use client_ip::ClientIp;
pub use layer::{AuditLayer, AuditService, REQUEST_ID_HEADER};
pub use request_id::MAX_REQUEST_ID_LEN;
