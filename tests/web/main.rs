//! The axum layer, tested with real HTTP requests against a served app: each request's
//! events carry its request id, method, path, client IP, user agent and user. And the
//! tokio task-local scopes it is built on (`tasks`).

mod async_pg;
mod tasks;

use std::net::SocketAddr;

use auditrum_diesel::connection::AuditedConnection;
use auditrum_diesel::context::{self, ContextHandle};
use auditrum_diesel::web::AuditLayer;
use auditrum_diesel::TrackSpec;
use auditrum_integration_tests::*;
use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::post;
use axum::Router;
use diesel::prelude::*;
use diesel::r2d2::{ConnectionManager, Pool};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

diesel::table! {
    notes (id) {
        id -> Int4,
        body -> Nullable<Text>,
    }
}

type DbPool = Pool<ConnectionManager<AuditedConnection>>;

/// An authentication step inside the audit layer: adds the user once it is known.
async fn authenticate(request: Request, next: Next) -> Response {
    let user = request
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_owned);
    if let Some(user) = user {
        ContextHandle::current()
            .expect("the audit layer is outside")
            .set_user_id(user);
    }
    next.run(request).await
}

fn write_note(pool: &DbPool, id: i32) -> QueryResult<usize> {
    let mut conn = pool.get().expect("a pooled connection");
    diesel::insert_into(notes::table)
        .values(notes::id.eq(id))
        .execute(&mut conn)
}

/// Sync Diesel in `spawn_blocking`, with the context carried across.
async fn create(
    State(pool): State<DbPool>,
    Path(id): Path<i32>,
    audit: ContextHandle,
) -> Result<&'static str, (StatusCode, String)> {
    audit.update(|ctx| ctx.set("tenant", "acme"));
    tokio::task::spawn_blocking(context::carry(move || write_note(&pool, id)))
        .await
        .unwrap()
        .map_err(|e| (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    Ok("created")
}

/// The same without `carry`: `spawn_blocking` starts with no context.
async fn create_uncarried(
    State(pool): State<DbPool>,
    Path(id): Path<i32>,
) -> Result<&'static str, (StatusCode, String)> {
    tokio::task::spawn_blocking(move || write_note(&pool, id))
        .await
        .unwrap()
        .map_err(|e| (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    Ok("created")
}

/// Serves the app on a loopback port; the server task ends with the test's runtime.
async fn serve(pool: DbPool) -> SocketAddr {
    let app = Router::new()
        .route("/notes/{id}", post(create))
        .route("/uncarried/{id}", post(create_uncarried))
        .layer(middleware::from_fn(authenticate))
        .layer(AuditLayer::new())
        .with_state(pool);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap()
    });
    address
}

/// A response as the tests read it: status and headers (lower-case names).
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// One HTTP/1.1 request over a fresh TCP connection.
async fn post_to(address: SocketAddr, path: &str, headers: &[(&str, &str)]) -> Reply {
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let mut request = format!(
        "POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\nConnection: close\r\n"
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut raw = String::new();
    stream.read_to_string(&mut raw).await.unwrap();
    let head = raw.split("\r\n\r\n").next().unwrap();
    let mut lines = head.lines();
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    Reply { status, headers }
}

fn setup() -> (auditrum_testdb::TestDatabase, diesel::PgConnection, DbPool) {
    let (db, mut reader) = audited_database();
    exec(
        &mut reader,
        "CREATE TABLE notes (id int PRIMARY KEY, body text)",
    );
    track(
        &mut reader,
        &TrackSpec::builder("notes")
            .columns(["id", "body"])
            .build()
            .unwrap(),
    );
    let pool = Pool::builder()
        .max_size(2)
        .build(ConnectionManager::new(db.url()))
        .unwrap();
    (db, reader, pool)
}

/// The stored context of the event of note `id`.
fn context_of_note(reader: &mut diesel::PgConnection, id: i32) -> Option<Value> {
    let events = events_of(reader, "notes");
    let event = events
        .iter()
        .find(|e| e.record_id.as_deref() == Some(&id.to_string()))
        .unwrap_or_else(|| panic!("no event for note {id}"));
    context_of(reader, event)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_request_event_carries_its_own_request_context() {
    let (_db, mut reader, pool) = setup();
    let address = serve(pool).await;

    let reply = post_to(
        address,
        "/notes/1",
        &[
            ("X-Request-Id", "req-abc-1"),
            ("Authorization", "Bearer alice@example.com"),
            ("User-Agent", "audit-test/1.0"),
        ],
    )
    .await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("x-request-id"), Some("req-abc-1"), "echoed");

    // No request id and no user: one is made up, echoed, and stored.
    let anonymous = post_to(address, "/notes/2", &[]).await;
    assert_eq!(anonymous.status, 200);
    let generated = anonymous.header("x-request-id").unwrap().to_owned();
    assert_eq!(generated.len(), 36, "a UUID: {generated}");

    // Many at once, on two pooled connections: no request sees another's context.
    let replies = futures_join(address, 3..53).await;
    assert!(replies.iter().all(|r| r.status == 200));

    // Without `carry`, spawn_blocking loses the context.
    post_to(address, "/uncarried/60", &[("X-Request-Id", "lost")]).await;

    let reader = &mut reader;
    tokio::task::block_in_place(|| {
        assert_eq!(
            context_of_note(reader, 1),
            Some(json!({
                "request_id": "req-abc-1",
                "method": "POST",
                "path": "/notes/1",
                "client_ip": "127.0.0.1",
                "user_agent": "audit-test/1.0",
                "source": "web",
                "user_id": "alice@example.com",
                "tenant": "acme",
            }))
        );
        assert_eq!(
            context_of_note(reader, 2),
            Some(json!({
                "request_id": generated,
                "method": "POST",
                "path": "/notes/2",
                "client_ip": "127.0.0.1",
                "source": "web",
                "tenant": "acme",
            }))
        );
        for id in 3..53 {
            let ctx = context_of_note(reader, id).unwrap();
            assert_eq!(ctx["request_id"], json!(format!("req-{id}")), "note {id}");
            assert_eq!(ctx["user_id"], json!(format!("user-{id}")), "note {id}");
            assert_eq!(ctx["path"], json!(format!("/notes/{id}")), "note {id}");
        }
        assert_eq!(context_of_note(reader, 60), None);
    });
}

/// Sends `POST /notes/{id}` for every id at once, each with its own request id and user.
async fn futures_join(address: SocketAddr, ids: std::ops::Range<i32>) -> Vec<Reply> {
    let tasks: Vec<_> = ids
        .map(|id| {
            tokio::spawn(async move {
                let request_id = format!("req-{id}");
                let user = format!("Bearer user-{id}");
                post_to(
                    address,
                    &format!("/notes/{id}"),
                    &[("X-Request-Id", &request_id), ("Authorization", &user)],
                )
                .await
            })
        })
        .collect();
    let mut replies = Vec::new();
    for task in tasks {
        replies.push(task.await.unwrap());
    }
    replies
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_layer_the_handle_extractor_says_what_is_missing() {
    let app = Router::new().route("/x", post(|_: ContextHandle| async { "unreachable" }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    stream
        .write_all(b"POST /x HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut raw = String::new();
    stream.read_to_string(&mut raw).await.unwrap();
    assert!(raw.starts_with("HTTP/1.1 500"), "{raw}");
    assert!(raw.contains("AuditLayer"), "{raw}");
}
