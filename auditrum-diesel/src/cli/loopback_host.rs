//! DNS rebinding guard of `serve` without a token. A viewer listening on loopback is still
//! reachable from a web page the operator opens: the page's host name is re-pointed at
//! 127.0.0.1 and the browser sends the viewer that page's `Host`. Without a token, only
//! requests naming a loopback host (`localhost`, `127.x.y.z`, `[::1]`) are answered.

use axum::extract::Request;
use axum::http::header::HOST;
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::IntoResponse;
use axum::Router;

/// `router`, answering `403` to a request whose `Host` is not a loopback name.
pub(crate) fn loopback_only(router: Router) -> Router {
    router.layer(middleware::from_fn(
        |request: Request, next: Next| async move {
            let host = request
                .headers()
                .get(HOST)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            match is_loopback_host(host) {
                true => next.run(request).await,
                false => (
                    StatusCode::FORBIDDEN,
                    "this viewer answers only to localhost without a token (--token)\n",
                )
                    .into_response(),
            }
        },
    ))
}

/// Whether a `Host` header (with or without port) names the local machine.
fn is_loopback_host(host: &str) -> bool {
    let name = match host.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or(""),
        None => host.rsplit_once(':').map_or(host, |(name, _)| name),
    };
    let name = name.to_ascii_lowercase();
    name == "localhost"
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_loopback_names_pass() {
        for ok in [
            "localhost",
            "LOCALHOST:8080",
            "127.0.0.1:1",
            "127.1.2.3",
            "[::1]:80",
        ] {
            assert!(super::is_loopback_host(ok), "{ok}");
        }
        for bad in [
            "",
            "evil.example",
            "evil.example:80",
            "localhost.evil.example",
            "10.0.0.1",
            "[::2]",
        ] {
            assert!(!super::is_loopback_host(bad), "{bad}");
        }
    }
}
