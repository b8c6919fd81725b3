//! The sync-Diesel variant of `axum_app`: axum with [`AuditLayer`], an r2d2 pool of
//! [`AuditedConnection`]s used in `spawn_blocking` with the context carried across
//! (`carry`), and a `#[derive(Audited)]` model installed with `sync`. For an app that keeps
//! sync Diesel code under tokio; new apps on diesel-async: see `axum_app`.
//!
//! ```sh
//! cargo run --example axum_sync
//! ```
//!
//! It serves the app on a loopback port, sends it a few real HTTP requests (a sign-up, an
//! edit by a support agent, a refused anonymous edit, an edit by the user), prints the
//! history of the row they changed, each event with its request id and user, and exits.
//! A real app would `axum::serve` until it is stopped, as `serve` below does until told.
//!
//! It works in a fresh database: on a throwaway PostgreSQL it starts itself or, when
//! `DATABASE_URL` is set, on that server (its user needs `CREATEDB`); the database is
//! dropped at the end.

#[path = "http_client.rs"]
mod http_client;

use std::net::SocketAddr;

use auditrum_diesel::connection::{AuditedConnection, AuditedCustomizer};
use auditrum_diesel::context::{carry, keys, AuditContext, ContextHandle};
use auditrum_diesel::read::record_history;
use auditrum_diesel::registry::Registry;
use auditrum_diesel::web::AuditLayer;
use auditrum_diesel::{sync, AuditConfig, Audited};
use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{patch, post};
use axum::{Extension, Router};
use chrono::{DateTime, Utc};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::r2d2::{ConnectionManager, Pool, PoolError};
use diesel::sql_types::Bool;
use http_client::send;
use serde::{Deserialize, Serialize};

diesel::table! {
    users (id) {
        id -> Int8,
        email -> Text,
        name -> Text,
        updated_at -> Timestamptz,
    }
}

/// A user. Every column is audited but `updated_at`, which changes with every write and
/// would only add noise to the log.
#[derive(Debug, Queryable, Selectable, Serialize, Audited)]
#[diesel(table_name = users)]
#[audited(exclude(updated_at))]
struct User {
    id: i64,
    email: String,
    name: String,
    updated_at: DateTime<Utc>,
}

/// The body of `POST /users`.
#[derive(Deserialize, Insertable)]
#[diesel(table_name = users)]
struct NewUser {
    email: String,
    name: String,
}

/// The body of `PATCH /users/{id}`: the fields to change.
#[derive(Deserialize, AsChangeset)]
#[diesel(table_name = users)]
struct UserChanges {
    email: Option<String>,
    name: Option<String>,
}

type DbPool = Pool<ConnectionManager<AuditedConnection>>;

/// The routes. The audit layer is outermost, so everything inside it (authentication,
/// handlers) runs in the request's audit context.
fn app(pool: DbPool) -> Router {
    Router::new()
        .route("/users", post(create_user))
        .route("/users/{id}", patch(update_user))
        .layer(middleware::from_fn(authenticate))
        .layer(AuditLayer::new())
        .with_state(pool)
}

/// The signed-in user, for handlers that need one.
#[derive(Debug, Clone, Copy)]
struct CurrentUser {
    email: &'static str,
    /// Support staff may edit any account; others only their own.
    is_support: bool,
}

/// Stands in for your authentication (session cookie, JWT, …): a bearer token names a user.
fn user_of_token(token: &str) -> Option<CurrentUser> {
    match token {
        "token-alice" => Some(CurrentUser {
            email: "alice@example.com",
            is_support: true,
        }),
        "token-bob" => Some(CurrentUser {
            email: "bob@example.org",
            is_support: false,
        }),
        _ => None,
    }
}

/// Runs inside the audit layer: once the user is known, it is added to the request's audit
/// context (its `ContextHandle`), so every write after this point names them.
async fn authenticate(mut request: Request, next: Next) -> Response {
    let user = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .and_then(user_of_token);
    if let Some(user) = user {
        if let Some(audit) = request.extensions().get::<ContextHandle>() {
            audit.set_user_id(user.email);
        }
        request.extensions_mut().insert(user);
    }
    next.run(request).await
}

/// `POST /users`: sign up. Anyone may; the event carries the request's context (request id,
/// method, path, client IP, user agent, `source = "web"`) and no user.
async fn create_user(
    State(pool): State<DbPool>,
    body: String,
) -> Result<(StatusCode, String), AppError> {
    let new_user: NewUser = serde_json::from_str(&body)?;
    let user = with_connection(&pool, move |conn| {
        diesel::insert_into(users::table)
            .values(&new_user)
            .returning(User::as_returning())
            .get_result(conn)
    })
    .await?;
    Ok((StatusCode::CREATED, serde_json::to_string(&user)?))
}

/// `PATCH /users/{id}`: for signed-in users, on their own account (support staff: any). An
/// `X-Change-Reason` header is stored as the change's reason.
async fn update_user(
    State(pool): State<DbPool>,
    Path(id): Path<i64>,
    user: Option<Extension<CurrentUser>>,
    audit: ContextHandle,
    headers: HeaderMap,
    body: String,
) -> Result<String, AppError> {
    let Some(Extension(user)) = user else {
        return Err(AppError(StatusCode::UNAUTHORIZED, "sign in first".into()));
    };
    if let Some(reason) = headers.get("x-change-reason").and_then(|v| v.to_str().ok()) {
        audit.update(|ctx| ctx.set(keys::CHANGE_REASON, reason));
    }
    let changes: UserChanges = serde_json::from_str(&body)?;
    let user = with_connection(&pool, move |conn| {
        let allowed = users::email
            .eq(user.email)
            .or(user.is_support.into_sql::<Bool>());
        diesel::update(users::table.find(id).filter(allowed))
            .set((&changes, users::updated_at.eq(diesel::dsl::now)))
            .returning(User::as_returning())
            .get_result(conn)
    })
    .await?;
    Ok(serde_json::to_string(&user)?)
}

/// Runs sync Diesel code on a pooled connection, on tokio's blocking threads. A blocking
/// task starts with no audit context: `carry` takes the request's along.
async fn with_connection<T: Send + 'static>(
    pool: &DbPool,
    work: impl FnOnce(&mut AuditedConnection) -> QueryResult<T> + Send + 'static,
) -> Result<T, AppError> {
    let pool = pool.clone();
    tokio::task::spawn_blocking(carry(move || {
        let mut conn = pool.get()?;
        Ok(work(&mut conn)?)
    }))
    .await
    .map_err(|e| AppError(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?
}

/// An error as the client sees it.
#[derive(Debug)]
struct AppError(StatusCode, String);

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        (self.0, self.1).into_response()
    }
}

impl From<diesel::result::Error> for AppError {
    fn from(error: diesel::result::Error) -> Self {
        match error {
            diesel::result::Error::NotFound => {
                AppError(StatusCode::NOT_FOUND, "no such user".into())
            }
            other => AppError(StatusCode::INTERNAL_SERVER_ERROR, other.to_string()),
        }
    }
}

impl From<PoolError> for AppError {
    fn from(error: PoolError) -> Self {
        AppError(StatusCode::SERVICE_UNAVAILABLE, error.to_string())
    }
}

impl From<serde_json::Error> for AppError {
    fn from(error: serde_json::Error) -> Self {
        AppError(StatusCode::BAD_REQUEST, error.to_string())
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let database = auditrum_examples::database();
    let config = AuditConfig::default();

    // Start-up. The app's own table (normally its own Diesel migration), then the audit
    // log and the triggers of every `#[derive(Audited)]` model linked into this binary.
    // `sync` is for apps that keep no migration files; with migrations, generate them with
    // `makemigrations` and run `diesel migration run` instead (see the quickstart).
    let mut conn = PgConnection::establish(database.url())?;
    conn.batch_execute(
        "CREATE TABLE users (
             id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
             email text NOT NULL UNIQUE,
             name text NOT NULL,
             updated_at timestamptz NOT NULL DEFAULT now()
         )",
    )?;
    let report = sync::sync(&mut conn, &Registry::linked(), &config)?;
    println!("sync: {report}\n");

    // A pool of AuditedConnections: each write is attributed to the context in force.
    // The customizer gives every connection a context of its own, beneath the requests'.
    let customizer = AuditedCustomizer::new(config.clone())
        .connection_context(AuditContext::new().insert("service", "axum_app"));
    let pool = Pool::builder()
        .max_size(4)
        .connection_customizer(Box::new(customizer))
        .build(ConnectionManager::<AuditedConnection>::new(database.url()))?;

    // Serve on a loopback port until told to stop. `ConnectInfo` gives the layer the
    // client's address.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        axum::serve(
            listener,
            app(pool).into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async {
            let _ = stopped.await;
        })
        .await
    });
    println!("serving on http://{address}\n");

    // A sign-up, with a request id from the caller (a proxy, another service).
    let created = send(
        address,
        "POST",
        "/users",
        &[
            ("X-Request-Id", "req-signup-1"),
            ("User-Agent", "example-browser/1.0"),
        ],
        r#"{"email": "bob@example.com", "name": "Bob"}"#,
    )
    .await?;
    let id = serde_json::from_str::<serde_json::Value>(&created.body)?["id"]
        .as_i64()
        .ok_or("the sign-up answered no id")?;
    let path = format!("/users/{id}");

    // A support agent fixes the email, saying why.
    send(
        address,
        "PATCH",
        &path,
        &[
            ("X-Request-Id", "req-support-7"),
            ("Authorization", "Bearer token-alice"),
            ("X-Change-Reason", "ticket #42: typo in email"),
        ],
        r#"{"email": "bob@example.org"}"#,
    )
    .await?;

    // Nobody signed in: refused, nothing written.
    send(address, "PATCH", &path, &[], r#"{"name": "Mallory"}"#).await?;

    // The user renames himself; no request id given, so the layer makes one up.
    send(
        address,
        "PATCH",
        &path,
        &[("Authorization", "Bearer token-bob")],
        r#"{"name": "Robert"}"#,
    )
    .await?;

    let _ = stop.send(());
    server.await??;

    // Who changed the row, when, why, in which request.
    println!("history of public.users {id}:\n");
    let history = record_history(&mut conn, &config, "public", "users", &id.to_string())?;
    for event in &history {
        print!("{event}");
        if let Some(context) = &event.context {
            println!("    context: {}", context.to_json());
        }
    }

    // What the history shows is checked, so CI notices if it ever stops being true.
    let who: Vec<_> = history
        .iter()
        .map(|e| e.context.as_ref().and_then(|c| c.user_id.as_deref()))
        .collect();
    assert_eq!(
        who,
        [None, Some("alice@example.com"), Some("bob@example.org")]
    );
    assert_eq!(
        history[1].context.as_ref().unwrap().request_id.as_deref(),
        Some("req-support-7")
    );
    Ok(())
}
