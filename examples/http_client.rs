//! The examples' HTTP client: one request over a plain TCP stream, printed with its answer.
//! Shared by `axum_app` and `axum_sync` (`#[path]` module), so neither needs an HTTP client
//! dependency.

use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The parts of a response the example prints.
pub struct Reply {
    /// The response body.
    pub body: String,
}

/// One HTTP/1.1 request over a new connection, printed with its answer. A plain TCP
/// stream keeps the example free of an HTTP client dependency.
pub async fn send(
    address: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    sent: &str,
) -> Result<Reply, Box<dyn std::error::Error>> {
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\n",
        sent.len()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(sent);

    let mut stream = tokio::net::TcpStream::connect(address).await?;
    stream.write_all(request.as_bytes()).await?;
    let mut raw = String::new();
    stream.read_to_string(&mut raw).await?;
    let (head, body) = raw.split_once("\r\n\r\n").ok_or("no HTTP response")?;
    let mut lines = head.lines();
    let status = lines.next().unwrap_or_default();
    let request_id = lines
        .filter_map(|line| line.split_once(':'))
        .find(|(name, _)| name.eq_ignore_ascii_case("x-request-id"))
        .map(|(_, value)| value.trim().to_owned())
        .unwrap_or_default();

    println!("{method} {path}");
    for (name, value) in headers {
        println!("  {name}: {value}");
    }
    println!("  {sent}");
    println!("→ {status}  X-Request-Id: {request_id}\n  {body}\n");
    Ok(Reply {
        body: body.to_owned(),
    })
}
