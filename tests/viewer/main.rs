//! The audit viewer (`auditrum_diesel::viewer::router`): its pages over real HTTP, `/metrics`
//! parsed as Prometheus text, and end to end in headless Chromium (`browser`).

mod browser;
mod e2e;
mod metrics;
mod otel;
mod pages;
mod spans;

use std::net::SocketAddr;

use auditrum_diesel::connection::AuditedConnection;
use auditrum_diesel::context::{with_context, AuditContext};
use auditrum_diesel::read::EventSearch;
use auditrum_diesel::viewer::Viewer;
use auditrum_diesel::{AuditConfig, Operation, TrackSpec};
use auditrum_integration_tests::*;
use auditrum_testdb::TestDatabase;
use axum::Router;
use diesel::prelude::*;
use diesel::r2d2::{ConnectionManager, Pool};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Where the tests mount the viewer, as an app would.
pub const MOUNT: &str = "/admin/audit";

/// A value that would run if the viewer did not escape it.
pub const SCRIPT_NAME: &str = "<script>document.title='pwned'</script><b>bold</b>";

/// A database with `users`, `orders` and `items` audited into the log of `config`, and a
/// scripted history.
struct Fixture {
    pub db: TestDatabase,
    pub reader: PgConnection,
    pub config: AuditConfig,
}

/// Runs `statements` in one transaction on `conn` with `ctx` in force.
pub fn write(conn: &mut AuditedConnection, ctx: AuditContext, statements: &[&str]) {
    with_context(ctx, || {
        conn.transaction(|conn| {
            for sql in statements {
                diesel::sql_query(*sql).execute(conn)?;
            }
            Ok::<_, diesel::result::Error>(())
        })
    })
    .unwrap_or_else(|e| panic!("{statements:?}: {e}"));
}

impl Fixture {
    /// The history every test starts from:
    /// - user 1 signs up (request `req-signup`, alice), support changes her email
    ///   (`req-support-1`, support-7, "ticket #42"), she renames herself to a `<script>`;
    /// - a checkout (`req-checkout`) writes an order and updates user 2 in one transaction.
    pub fn new(config: &AuditConfig) -> Fixture {
        let (db, mut reader) = audited_database_with(config);
        exec(
            &mut reader,
            "CREATE TABLE users (id int PRIMARY KEY, email text NOT NULL, name text);
             CREATE TABLE orders (id int PRIMARY KEY, user_id int, total numeric(10, 2));
             CREATE TABLE items (id int PRIMARY KEY, label text);",
        );
        track_with(
            &mut reader,
            &TrackSpec::builder("users")
                .columns(["id", "email", "name"])
                .build()
                .unwrap(),
            config,
        );
        track_with(
            &mut reader,
            &TrackSpec::builder("orders")
                .columns(["id", "user_id", "total"])
                .build()
                .unwrap(),
            config,
        );
        track_with(
            &mut reader,
            &TrackSpec::builder("items")
                .columns(["id", "label"])
                .build()
                .unwrap(),
            config,
        );
        let mut conn = AuditedConnection::establish(db.url()).unwrap();
        let web = |request: &str, user: &str| {
            AuditContext::new()
                .request_id(request)
                .user_id(user)
                .source("web")
        };
        write(
            &mut conn,
            web("req-signup", "alice"),
            &["INSERT INTO users VALUES (1, 'alice@example.com', 'Alice'), (2, 'bob@example.com', 'Bob')"],
        );
        write(
            &mut conn,
            web("req-support-1", "support-7").change_reason("ticket #42: typo in email"),
            &["UPDATE users SET email = 'alice@example.org' WHERE id = 1"],
        );
        let rename = format!(
            "UPDATE users SET name = {} WHERE id = 1",
            auditrum_diesel::quote::literal(SCRIPT_NAME)
        );
        write(&mut conn, web("req-rename", "alice"), &[&rename]);
        write(
            &mut conn,
            web("req-checkout", "bob"),
            &[
                "INSERT INTO orders VALUES (10, 2, 99.50)",
                "UPDATE users SET name = 'Robert' WHERE id = 2",
            ],
        );
        Fixture {
            db,
            reader,
            config: config.clone(),
        }
    }

    /// The log's table, quoted, for SQL the tests write by hand.
    pub fn log(&self) -> String {
        self.config.qualified_table()
    }

    /// The event `id`.
    pub fn event(&mut self, id: i64) -> Event {
        events_in(&mut self.reader, &self.config)
            .into_iter()
            .find(|e| e.id == id)
            .unwrap_or_else(|| panic!("no event {id}"))
    }

    /// The id of the newest event of `table` `key` with `operation`.
    pub fn event_id(&mut self, table: &str, key: &str, operation: Operation) -> i64 {
        EventSearch::new()
            .record("public", table, key)
            .operation(operation)
            .load(&mut self.reader, &self.config, None)
            .unwrap()
            .last()
            .unwrap_or_else(|| panic!("no {operation} event of {table} {key}"))
            .id
    }

    /// 500 more events: items 1..=500, one INSERT each, in 5 transactions.
    pub fn with_items(self) -> Fixture {
        let mut conn = AuditedConnection::establish(self.db.url()).unwrap();
        for batch in 0..5 {
            let from = batch * 100 + 1;
            write(
                &mut conn,
                AuditContext::new().source("cli:import").user_id("importer"),
                &[&format!(
                    "INSERT INTO items SELECT g, 'item ' || g FROM generate_series({from}, {}) g",
                    from + 99
                )],
            );
        }
        self
    }

    pub fn pool(&self) -> Pool<ConnectionManager<AuditedConnection>> {
        Pool::builder()
            .max_size(3)
            .build(ConnectionManager::new(self.db.url()))
            .unwrap()
    }

    /// The viewer nested under [`MOUNT`] in an app, served on a loopback port.
    pub async fn serve(&self, viewer: impl FnOnce(Viewer) -> Viewer) -> Server {
        let viewer = viewer(Viewer::new(self.pool()).config(self.config.clone()));
        let app = Router::new().nest(MOUNT, viewer.router());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Server { address }
    }
}

/// A served viewer.
#[derive(Debug)]
struct Server {
    pub address: SocketAddr,
}

/// A response as the tests read it.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

impl Server {
    /// `http://127.0.0.1:port/admin/audit` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{MOUNT}{path}", self.address)
    }

    /// `GET MOUNT + path` over a fresh HTTP/1.1 connection.
    pub async fn get(&self, path: &str) -> Reply {
        get(self.address, &format!("{MOUNT}{path}"), &[]).await
    }
}

/// One HTTP/1.1 GET over a fresh TCP connection.
pub async fn get(address: SocketAddr, path: &str, headers: &[(&str, &str)]) -> Reply {
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let mut request = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.unwrap();
    let raw = String::from_utf8(raw).expect("UTF-8 response");
    let (head, body) = raw.split_once("\r\n\r\n").expect("a head and a body");
    let mut lines = head.lines();
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let chunked = headers
        .iter()
        .any(|(n, v)| n == "transfer-encoding" && v.contains("chunked"));
    let body = match chunked {
        true => dechunk(body),
        false => body.to_owned(),
    };
    Reply {
        status,
        headers,
        body,
    }
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    loop {
        let (size, rest) = body.split_once("\r\n").expect("a chunk size");
        let size = usize::from_str_radix(size.trim(), 16).expect("hex chunk size");
        if size == 0 {
            return out;
        }
        out.push_str(&rest[..size]);
        body = &rest[size + 2..];
    }
}
