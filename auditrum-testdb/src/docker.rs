//! The `testcontainers` feature: a PostgreSQL container (`postgres:15`, or
//! `$AUDITRUM_TESTDB_IMAGE`), used only when a Docker engine really answers.
//!
//! Docker pulls the image only when it is missing: without Docker Hub, build it
//! with `auditrum-testdb/docker/build-postgres-image` (Debian's PostgreSQL 15).

use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::os::unix::net::UnixStream;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use testcontainers_modules::postgres::Postgres;
use testcontainers_modules::testcontainers::runners::SyncRunner;
use testcontainers_modules::testcontainers::{Container, ImageExt};

/// How long the engine gets to answer `GET /_ping`.
const PING_TIMEOUT: Duration = Duration::from_secs(2);

/// The container, kept for the whole process and removed at exit.
static CONTAINER: Mutex<Option<Container<Postgres>>> = Mutex::new(None);

/// Where the engine is expected, from `DOCKER_HOST` or the default socket.
enum Endpoint {
    Unix(String),
    Tcp(String),
}

impl std::fmt::Display for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Endpoint::Unix(path) => write!(f, "unix://{path}"),
            Endpoint::Tcp(address) => write!(f, "tcp://{address}"),
        }
    }
}

fn endpoint() -> Endpoint {
    match std::env::var("DOCKER_HOST") {
        Ok(host) if host.starts_with("unix://") => {
            Endpoint::Unix(host["unix://".len()..].to_owned())
        }
        Ok(host) if host.starts_with("tcp://") => {
            Endpoint::Tcp(host["tcp://".len()..].trim_end_matches('/').to_owned())
        }
        _ => Endpoint::Unix("/var/run/docker.sock".to_owned()),
    }
}

/// Sends `GET /_ping` and expects `OK` in the body within [`PING_TIMEOUT`].
/// On failure, returns where the engine was looked for and why it failed.
pub(crate) fn ping() -> Result<(), String> {
    let endpoint = endpoint();
    let answer = match &endpoint {
        Endpoint::Unix(path) => UnixStream::connect(path).and_then(|stream| {
            stream.set_read_timeout(Some(PING_TIMEOUT))?;
            stream.set_write_timeout(Some(PING_TIMEOUT))?;
            exchange(stream)
        }),
        Endpoint::Tcp(address) => address
            .to_socket_addrs()
            .and_then(|mut addresses| {
                addresses
                    .next()
                    .ok_or_else(|| io::Error::other("address resolves to nothing"))
            })
            .and_then(|address| TcpStream::connect_timeout(&address, PING_TIMEOUT))
            .and_then(|stream| {
                stream.set_read_timeout(Some(PING_TIMEOUT))?;
                stream.set_write_timeout(Some(PING_TIMEOUT))?;
                exchange(stream)
            }),
    };
    match answer {
        Ok(response) => {
            let body = response.split("\r\n\r\n").nth(1).unwrap_or_default();
            if body.trim() == "OK" {
                Ok(())
            } else {
                Err(format!("{endpoint} (unexpected answer {response:?})"))
            }
        }
        Err(error) => Err(format!("{endpoint} ({error})")),
    }
}

fn exchange(mut stream: impl Read + Write) -> io::Result<String> {
    let deadline = Instant::now() + PING_TIMEOUT;
    stream.write_all(b"GET /_ping HTTP/1.0\r\n\r\n")?;
    let mut response = Vec::new();
    let mut buffer = [0; 1024];
    loop {
        let read = stream.read(&mut buffer)?;
        if read == 0 || response.len() > 64 * 1024 {
            break;
        }
        response.extend_from_slice(&buffer[..read]);
        if Instant::now() >= deadline {
            return Err(io::Error::new(io::ErrorKind::TimedOut, "answer too slow"));
        }
    }
    Ok(String::from_utf8_lossy(&response).into_owned())
}

/// The image used when `$AUDITRUM_TESTDB_IMAGE` is not set.
const DEFAULT_IMAGE: &str = "postgres:15";

/// The image's name and tag: `$AUDITRUM_TESTDB_IMAGE` (`name[:tag]`, any image
/// that takes the official image's `POSTGRES_*` variables and server arguments)
/// or [`DEFAULT_IMAGE`].
fn image() -> (String, String) {
    let image = std::env::var("AUDITRUM_TESTDB_IMAGE")
        .ok()
        .filter(|image| !image.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_IMAGE.to_owned());
    // A `:` after the last `/` starts the tag (a registry may have a `:port`).
    let name_end = image.rfind('/').map_or(0, |slash| slash + 1);
    match image[name_end..].rfind(':') {
        Some(colon) => (
            image[..name_end + colon].to_owned(),
            image[name_end + colon + 1..].to_owned(),
        ),
        None => (image, "latest".to_owned()),
    }
}

/// Starts the container and returns the admin URL of its server.
pub(crate) fn start() -> Result<String, String> {
    let (name, tag) = image();
    let container = Postgres::default()
        .with_name(name.as_str())
        .with_tag(tag.as_str())
        .with_cmd([
            "-c",
            "fsync=off",
            "-c",
            "synchronous_commit=off",
            "-c",
            "full_page_writes=off",
            "-c",
            "max_connections=300",
            // Like the local clusters: a test may publish a database to a second server.
            "-c",
            "wal_level=logical",
        ])
        .with_shm_size(256 * 1024 * 1024)
        .with_label("auditrum-testdb", "1")
        .start()
        .map_err(|error| format!("cannot start {name}:{tag}: {error}"))?;
    let host = container
        .get_host()
        .map_err(|error| format!("cannot get the container's host: {error}"))?;
    let port = container
        .get_host_port_ipv4(5432)
        .map_err(|error| format!("cannot get the container's port: {error}"))?;
    *CONTAINER.lock().unwrap_or_else(|e| e.into_inner()) = Some(container);
    // SAFETY: `remove_container_at_exit` is an `extern "C" fn()` that catches
    // any panic instead of unwinding.
    if unsafe { libc::atexit(remove_container_at_exit) } != 0 {
        let _ = writeln!(
            io::stderr(),
            "auditrum-testdb: atexit registration failed; remove the container with \
             `docker rm -f $(docker ps -q --filter label=auditrum-testdb)`"
        );
    }
    Ok(format!(
        "postgres://postgres:postgres@{host}:{port}/postgres"
    ))
}

/// Stops and removes the container (its `Drop` does) when the process exits.
extern "C" fn remove_container_at_exit() {
    let _ = std::panic::catch_unwind(|| {
        let container = CONTAINER.lock().ok().and_then(|mut slot| slot.take());
        drop(container);
    });
}
