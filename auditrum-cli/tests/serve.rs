//! `serve` as a process: the viewer over real HTTP, its token, and its refusal to listen
//! beyond loopback without one.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};

use auditrum_testdb::TestDatabase;
use common::{cli, stderr};

/// `serve ARGS` on a fresh port; returns the process and the address it printed.
fn serve(db: &TestDatabase, args: &[&str]) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_auditrum-diesel"))
        .arg("serve")
        .args(args)
        .env("DATABASE_URL", db.url())
        .env_remove("AUDITRUM_VIEWER_TOKEN")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let address = line
        .trim()
        .strip_prefix("auditrum-diesel: serving the audit viewer at http://")
        .and_then(|rest| rest.strip_suffix('/'))
        .unwrap_or_else(|| panic!("unexpected first line: {line:?}"))
        .to_owned();
    (child, address)
}

/// Status line and body of `GET path`.
fn get(address: &str, path: &str, authorization: Option<&str>) -> (String, String) {
    let mut stream = TcpStream::connect(address).unwrap();
    let mut request = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n");
    if let Some(value) = authorization {
        request.push_str(&format!("Authorization: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).unwrap();
    let mut raw = String::new();
    stream.read_to_string(&mut raw).unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap();
    (head.lines().next().unwrap().to_owned(), body.to_owned())
}

fn database() -> TestDatabase {
    let db = TestDatabase::new();
    let init = cli(&["init-schema"], Some(db.url()));
    assert!(init.status.success(), "{}", stderr(&init));
    db
}

#[test]
fn serve_answers_only_with_the_token() {
    let db = database();
    let (mut child, address) = serve(&db, &["--bind", "127.0.0.1:0", "--token", "secret"]);

    let (status, body) = get(&address, "/", None);
    assert!(status.contains("401"), "{status}");
    assert!(body.contains("a token is required"));
    assert!(get(&address, "/", Some("Bearer wrong")).0.contains("401"));
    assert!(
        get(&address, "/", Some("Basic eDp3cm9uZw=="))
            .0
            .contains("401"),
        "x:wrong"
    );

    let (status, body) = get(&address, "/", Some("Bearer secret"));
    assert!(status.contains("200"), "{status}: {body}");
    assert!(body.contains("<h1>Events</h1>"));
    let (status, body) = get(&address, "/status", Some("Basic eDpzZWNyZXQ="));
    assert!(status.contains("200"), "x:secret: {status}");
    assert!(body.contains("auditlog_default"));
    let (status, body) = get(&address, "/metrics", Some("Bearer secret"));
    assert!(status.contains("200"));
    assert!(body.contains("auditrum_default_partition_rows 0"));
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn serve_on_loopback_needs_no_token() {
    let db = database();
    let (mut child, address) = serve(&db, &["--bind", "127.0.0.1:0"]);
    assert!(address.starts_with("127.0.0.1:"));
    let (status, _) = get(&address, "/", None);
    assert!(status.contains("200"), "{status}");
    child.kill().unwrap();
    child.wait().unwrap();
}

#[test]
fn serve_refuses_a_non_loopback_address_without_a_token() {
    let db = database();
    for bind in ["0.0.0.0:0", "[::]:0"] {
        let output = cli(&["serve", "--bind", bind], Some(db.url()));
        assert_eq!(output.status.code(), Some(2), "{bind}");
        assert!(
            stderr(&output).contains("without --token"),
            "{bind}: {}",
            stderr(&output)
        );
    }
    let output = cli(
        &[
            "serve",
            "--bind",
            "127.0.0.1:0",
            "--verify-chain-every",
            // Not a duration (`1y` is one to humantime, so serve would start and never return).
            "1x",
        ],
        Some(db.url()),
    );
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
}

/// Status line of `GET /` sent with `Host: host`.
fn get_with_host(address: &str, host: &str) -> String {
    let mut stream = TcpStream::connect(address).unwrap();
    write!(
        stream,
        "GET / HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = String::new();
    stream.read_to_string(&mut raw).unwrap();
    raw.lines().next().unwrap_or_default().to_owned()
}

#[test]
fn without_a_token_only_loopback_host_names_are_answered() {
    // DNS rebinding: a web page whose name now points at 127.0.0.1 sends its own Host.
    let db = database();
    let (mut child, address) = serve(&db, &["--bind", "127.0.0.1:0"]);
    assert!(get_with_host(&address, "evil.example").contains("403"));
    assert!(get_with_host(&address, "evil.example:80").contains("403"));
    assert!(get_with_host(&address, &address).contains("200"));
    assert!(get_with_host(&address, "localhost").contains("200"));
    child.kill().unwrap();
    child.wait().unwrap();
}
