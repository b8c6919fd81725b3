//! The tower layer that gives every request its audit context.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use http::header::USER_AGENT;
use http::{HeaderName, HeaderValue, Request, Response};
use tower_layer::Layer;
use tower_service::Service;

use super::{request_id, ClientIp};
use crate::context::{self, AuditContext, ContextHandle};

/// The header the request id is read from and echoed in.
pub const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// A tower [`Layer`] that runs each request in its own audit context: `request_id` (from
/// `X-Request-Id`, or a new UUID, echoed in the response), `method`, `path`, `client_ip`,
/// `user_agent` and `source` (`"web"` unless changed).
///
/// The context is a [`ContextHandle`], in force (tokio task-local) for the whole handling
/// of the request and put in the request's extensions. Code further in adds to it, e.g.
/// the user once authentication ran: `ContextHandle::current()` or the `ContextHandle`
/// extractor, then [`set_user_id`](ContextHandle::set_user_id). Every write made after
/// that, on an [`AuditedConnection`](crate::connection::AuditedConnection), carries it.
///
/// ```no_run
/// use std::net::SocketAddr;
///
/// use auditrum_diesel::context::ContextHandle;
/// use auditrum_diesel::web::AuditLayer;
/// use axum::{routing::post, Router};
///
/// async fn rename(audit: ContextHandle) -> &'static str {
///     audit.set_user_id("alice@example.com"); // e.g. from your session
///     // ... writes through an AuditedConnection now carry request id, path and user ...
///     "ok"
/// }
///
/// # async fn run() {
/// let app = Router::new().route("/rename", post(rename)).layer(AuditLayer::new());
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await.unwrap();
/// axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
///     .await
///     .unwrap();
/// # }
/// ```
///
/// Sync Diesel calls belong in `tokio::task::spawn_blocking`, which starts with no
/// context: wrap the closure in [`context::carry`](crate::context::carry).
#[derive(Debug, Clone)]
pub struct AuditLayer {
    client_ip: ClientIp,
    source: Option<String>,
}

impl Default for AuditLayer {
    fn default() -> Self {
        Self::new()
    }
}

impl AuditLayer {
    /// `source = "web"`, the client IP from the connection's peer address.
    pub fn new() -> Self {
        AuditLayer {
            client_ip: ClientIp::Peer,
            source: Some("web".into()),
        }
    }

    /// Where the client IP comes from (see [`ClientIp`] before trusting
    /// `X-Forwarded-For`).
    pub fn client_ip(mut self, client_ip: ClientIp) -> Self {
        self.client_ip = client_ip;
        self
    }

    /// The `source` of the requests' context (`None`: no `source` key).
    pub fn source(mut self, source: Option<&str>) -> Self {
        self.source = source.map(str::to_owned);
        self
    }
}

impl<S> Layer<S> for AuditLayer {
    type Service = AuditService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        AuditService {
            inner,
            layer: self.clone(),
        }
    }
}

/// The service of [`AuditLayer`].
#[derive(Debug, Clone)]
pub struct AuditService<S> {
    inner: S,
    layer: AuditLayer,
}

impl<S> AuditService<S> {
    fn context_of<B>(&self, request: &Request<B>, request_id: &str) -> AuditContext {
        let mut context = AuditContext::new()
            .request_id(request_id)
            .method(request.method().as_str())
            .path(request.uri().path());
        if let Some(source) = &self.layer.source {
            context = context.source(source.as_str());
        }
        if let Some(ip) = self.layer.client_ip.of(request) {
            context = context.client_ip(ip);
        }
        if let Some(agent) = request
            .headers()
            .get(USER_AGENT)
            .and_then(|v| v.to_str().ok())
        {
            context = context.user_agent(agent);
        }
        context
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for AuditService<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    S::Future: Send + 'static,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<ReqBody>) -> Self::Future {
        let request_id = request
            .headers()
            .get(&REQUEST_ID_HEADER)
            .and_then(request_id::accepted)
            .unwrap_or_else(request_id::generate);
        let handle = ContextHandle::new(self.context_of(&request, &request_id));
        request.extensions_mut().insert(handle.clone());
        // Services may work in `call` as well as in the future: both see the context.
        let future = context::enter_handle(handle.clone()).run(|| self.inner.call(request));
        let future = context::with_handle_async(handle, future);
        Box::pin(async move {
            let mut response = future.await?;
            if let Ok(value) = HeaderValue::from_str(&request_id) {
                response
                    .headers_mut()
                    .entry(REQUEST_ID_HEADER)
                    .or_insert(value);
            }
            Ok(response)
        })
    }
}
