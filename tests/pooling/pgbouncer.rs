//! A real PgBouncer in front of the test database, started for one test and killed when
//! dropped, like the throwaway PostgreSQL of `auditrum-testdb`.
//!
//! It reaches the server the way the test database's URL says (the cluster's Unix socket,
//! or a host and port), lets clients in without a password on a free port of 127.0.0.1,
//! and runs as the `postgres` system user when we are root (PgBouncer refuses root).

use std::fmt;
use std::fs;
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use auditrum_testdb::TestDatabase;

/// PgBouncer's `pool_mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PoolMode {
    Session,
    Transaction,
    Statement,
}

impl fmt::Display for PoolMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PoolMode::Session => "session",
            PoolMode::Transaction => "transaction",
            PoolMode::Statement => "statement",
        })
    }
}

/// How PgBouncer is set up.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// `pool_mode`.
    pub mode: PoolMode,
    /// `default_pool_size`: server connections per database and user.
    pub server_connections: usize,
    /// `max_prepared_statements` (PgBouncer 1.21 and later; 0 passes named prepared
    /// statements through unchanged, as older versions do).
    pub prepared_statements: usize,
}

/// A running PgBouncer; killed on drop.
#[derive(Debug)]
pub struct PgBouncer {
    child: Child,
    port: u16,
    user: String,
    dir: tempfile::TempDir,
}

/// Where PgBouncer is: `$AUDITRUM_PGBOUNCER`, else the one `scripts/test` builds into
/// `target/tools/pgbouncer-<version>` when the system's is older than 1.21, else
/// `pgbouncer` on PATH or Debian's `/usr/sbin/pgbouncer`. Panics with how to provision it
/// otherwise: these tests are not skipped.
fn find_pgbouncer() -> PathBuf {
    if let Some(path) = std::env::var_os("AUDITRUM_PGBOUNCER").map(PathBuf::from) {
        assert!(
            path.is_file(),
            "AUDITRUM_PGBOUNCER={} is not a file. {INSTALL}",
            path.display()
        );
        return path;
    }
    if let Some(path) = provisioned() {
        return path;
    }
    let on_path = std::env::var_os("PATH")
        .map(|paths| std::env::split_paths(&paths).collect::<Vec<_>>())
        .unwrap_or_default();
    on_path
        .into_iter()
        .chain([PathBuf::from("/usr/sbin"), PathBuf::from("/usr/local/sbin")])
        .map(|dir| dir.join("pgbouncer"))
        .find(|path| path.is_file())
        .unwrap_or_else(|| {
            panic!(
                "the PgBouncer tests need the `pgbouncer` binary, which is not on PATH nor \
                 in /usr/sbin. {INSTALL}"
            )
        })
}

/// The PgBouncer `scripts/test` built into `target/tools/pgbouncer-<version>/bin`, the
/// highest version if there are several: so that a plain `cargo test` after
/// `scripts/test --provision-only` uses it as `scripts/test` does.
fn provisioned() -> Option<PathBuf> {
    let tools = Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/tools");
    let mut builds: Vec<PathBuf> = fs::read_dir(tools)
        .ok()?
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|dir| {
            dir.file_name()
                .and_then(|name| name.to_str())
                .is_some_and(|name| name.starts_with("pgbouncer-"))
        })
        .map(|dir| dir.join("bin/pgbouncer"))
        .filter(|binary| binary.is_file())
        .collect();
    builds.sort();
    builds.pop()
}

/// How to provision PgBouncer, for the failure messages.
const INSTALL: &str = "Run `scripts/test --provision-only` (installs Debian's `pgbouncer`, \
                       and builds 1.24.1 into target/tools when that is older than 1.21), \
                       install it yourself (`apt-get install pgbouncer`, `brew install \
                       pgbouncer`), or point AUDITRUM_PGBOUNCER at the binary.";

/// The server the test database lives on, read from its URL
/// (`postgres://user[:password]@host[:port]/db[?host=/socket/dir&port=…]`).
#[derive(Debug)]
struct Upstream {
    host: String,
    port: String,
    user: String,
    password: Option<String>,
}

fn upstream(url: &str) -> Upstream {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let (main, query) = rest.split_once('?').unwrap_or((rest, ""));
    let authority = main.split('/').next().unwrap_or("");
    let (credentials, address) = authority.rsplit_once('@').unwrap_or(("", authority));
    let (user, password) = match credentials.split_once(':') {
        Some((user, password)) => (user, Some(decode(password))),
        None => (credentials, None),
    };
    let (mut host, mut port) = match address.rsplit_once(':') {
        Some((host, port)) => (decode(host), port.to_owned()),
        None => (decode(address), "5432".to_owned()),
    };
    let mut user = decode(user);
    for pair in query.split('&') {
        match pair.split_once('=') {
            Some(("host", value)) => host = decode(value),
            Some(("port", value)) => port = decode(value),
            Some(("user", value)) => user = decode(value),
            _ => {}
        }
    }
    Upstream {
        host,
        port,
        user: if user.is_empty() {
            "postgres".into()
        } else {
            user
        },
        password,
    }
}

/// Percent-decoding of a URL part.
fn decode(part: &str) -> String {
    let bytes = part.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = (bytes[i] == b'%')
            .then(|| part.get(i + 1..i + 3))
            .flatten()
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match hex {
            Some(byte) => {
                out.push(byte);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8(out).expect("a UTF-8 URL")
}

/// A port nobody listens on now.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port on 127.0.0.1")
        .port()
}

/// The version of the PgBouncer found, e.g. `(1, 18)`.
pub fn version() -> (u32, u32) {
    let binary = find_pgbouncer();
    let output = Command::new(&binary)
        .arg("--version")
        .output()
        .unwrap_or_else(|e| panic!("cannot run {} --version: {e}", binary.display()));
    let text = String::from_utf8_lossy(&output.stdout);
    let number = text
        .split_whitespace()
        .nth(1)
        .unwrap_or_else(|| panic!("unexpected `pgbouncer --version`: {text}"));
    let mut parts = number.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    (parts.next().unwrap_or(0), parts.next().unwrap_or(0))
}

/// PgBouncer 1.21 tracks named prepared statements across server connections.
pub fn tracks_prepared_statements() -> bool {
    version() >= (1, 21)
}

fn running_as_root() -> bool {
    fs::metadata("/proc/self").is_ok_and(|meta| meta.uid() == 0)
}

impl PgBouncer {
    /// Starts PgBouncer with `settings` in front of `db`'s server.
    pub fn start(db: &TestDatabase, settings: Settings) -> PgBouncer {
        let binary = find_pgbouncer();
        let upstream = upstream(db.url());
        let dir = tempfile::Builder::new()
            .prefix("auditrum-pgbouncer-")
            .tempdir()
            .expect("a temporary directory");
        let root = running_as_root();
        if root {
            // PgBouncer runs as `postgres`, and writes its log and pid file here.
            fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o777))
                .expect("chmod the PgBouncer directory");
        }
        let port = free_port();
        let user = upstream.user.clone();
        write_config(dir.path(), &upstream, settings, port);
        let mut command = Command::new(&binary);
        if root {
            command.args(["-u", "postgres"]);
        }
        let child = command
            .arg(dir.path().join("pgbouncer.ini"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
        let mut bouncer = PgBouncer {
            child,
            port,
            user,
            dir,
        };
        bouncer.wait_until_listening();
        bouncer
    }

    /// The URL of `database` through PgBouncer.
    pub fn url(&self, database: &str) -> String {
        format!(
            "postgres://{}@127.0.0.1:{}/{database}",
            self.user, self.port
        )
    }

    /// PgBouncer's log so far.
    pub fn log(&self) -> String {
        fs::read_to_string(self.dir.path().join("pgbouncer.log")).unwrap_or_default()
    }

    fn wait_until_listening(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("pgbouncer exited ({status}) at start:\n{}", self.log());
            }
            if Instant::now() > deadline {
                panic!("pgbouncer does not listen after 10 s:\n{}", self.log());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for PgBouncer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn write_config(dir: &Path, upstream: &Upstream, settings: Settings, port: u16) {
    let password = upstream
        .password
        .as_ref()
        .map(|p| format!(" password={p}"))
        .unwrap_or_default();
    let config = format!(
        "[databases]\n\
         * = host={host} port={upstream_port} user={user}{password}\n\
         \n\
         [pgbouncer]\n\
         listen_addr = 127.0.0.1\n\
         listen_port = {port}\n\
         unix_socket_dir =\n\
         auth_type = trust\n\
         auth_file = {dir}/users.txt\n\
         pool_mode = {mode}\n\
         default_pool_size = {server_connections}\n\
         max_client_conn = 200\n\
         logfile = {dir}/pgbouncer.log\n\
         pidfile = {dir}/pgbouncer.pid\n\
         ignore_startup_parameters = extra_float_digits\n\
         {prepared}",
        host = upstream.host,
        upstream_port = upstream.port,
        user = upstream.user,
        dir = dir.display(),
        mode = settings.mode,
        server_connections = settings.server_connections,
        prepared = if tracks_prepared_statements() {
            format!(
                "max_prepared_statements = {}\n",
                settings.prepared_statements
            )
        } else {
            String::new()
        },
    );
    fs::write(dir.join("pgbouncer.ini"), config).expect("write pgbouncer.ini");
    fs::write(
        dir.join("users.txt"),
        format!("\"{}\" \"\"\n", upstream.user),
    )
    .expect("write the PgBouncer auth file");
}
