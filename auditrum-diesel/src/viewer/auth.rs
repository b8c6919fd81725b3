//! A shared-secret gate for the stand-alone viewer (`auditrum-diesel serve --token`).

use std::sync::Arc;

use axum::extract::Request;
use axum::http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::Router;
use base64::Engine;

/// Requires a token on every request: `Authorization: Bearer <token>` (for Prometheus and
/// scripts), or HTTP Basic authentication with any user name and the token as password
/// (browsers ask for it). Anything else gets `401` with `WWW-Authenticate: Basic`.
///
/// Apps that mount the viewer put their own authentication in front of it instead.
#[derive(Clone)]
pub struct RequireToken {
    token: Arc<str>,
}

impl std::fmt::Debug for RequireToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RequireToken(…)")
    }
}

impl RequireToken {
    /// A gate for `token`.
    pub fn new(token: impl Into<String>) -> Self {
        RequireToken {
            token: Arc::from(token.into()),
        }
    }

    /// `router` behind this gate.
    pub fn protect(self, router: Router) -> Router {
        router.layer(middleware::from_fn(move |request: Request, next: Next| {
            let gate = self.clone();
            async move {
                match gate.allows(&request) {
                    true => next.run(request).await,
                    false => unauthorized(),
                }
            }
        }))
    }

    /// Whether the request carries the token.
    fn allows(&self, request: &Request) -> bool {
        let Some(header) = request
            .headers()
            .get(AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
        else {
            return false;
        };
        if let Some(bearer) = header.strip_prefix("Bearer ") {
            return same(bearer.trim().as_bytes(), self.token.as_bytes());
        }
        if let Some(basic) = header.strip_prefix("Basic ") {
            let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(basic.trim()) else {
                return false;
            };
            let password = match decoded.iter().position(|b| *b == b':') {
                Some(colon) => &decoded[colon + 1..],
                None => return false,
            };
            return same(password, self.token.as_bytes());
        }
        false
    }
}

/// Compares in time independent of where the inputs differ.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn unauthorized() -> Response {
    (
        StatusCode::UNAUTHORIZED,
        [(WWW_AUTHENTICATE, "Basic realm=\"auditrum\", charset=\"UTF-8\"")],
        "a token is required: Authorization: Bearer <token>, or any user name with the token as password\n",
    )
        .into_response()
}
