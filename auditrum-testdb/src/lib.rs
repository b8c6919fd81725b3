//! A throwaway PostgreSQL for auditrum-diesel's tests, examples and benchmarks.
//!
//! [`TestDatabase::new`] gives a fresh, empty database, dropped again when the
//! value is dropped. All of them live on one server per process, [`server()`],
//! started on first use. That server comes from the first of these that applies:
//!
//! 1. **`DATABASE_URL`**, when set and not empty: the server it points at. The
//!    URL itself is the admin connection (its user needs `CREATEDB`); each test
//!    database gets the same URL with the database name replaced. Both URI
//!    (`postgres://user@host:port/db?params`, including `?host=/socket/dir`)
//!    and keyword/value (`host=… dbname=…`) forms work.
//! 2. **Docker**, with the cargo feature `testcontainers` and only when a
//!    Docker engine answers `GET /_ping` on `DOCKER_HOST` (`unix://` or
//!    `tcp://`) or `/var/run/docker.sock` within 2 s: a `postgres:15` container
//!    (or the image in `AUDITRUM_TESTDB_IMAGE`), kept for the whole process and
//!    removed at exit. Docker pulls the image only when it is missing; without
//!    Docker Hub, `auditrum-testdb/docker/build-postgres-image` builds it from
//!    Debian's packages. When the feature is on but no engine answers, a line
//!    on stderr says so and the next option is used.
//! 3. **A local cluster**: `initdb` into a fresh directory
//!    `auditrum-pg-<pid>-<random>` under the temporary directory, and a
//!    `postgres` child process listening only on a Unix socket in that
//!    directory, with durability turned off for speed. Server binaries are
//!    looked for in `$AUDITRUM_PG_BINDIR`, on `PATH`, in `pg_config --bindir`,
//!    then in the newest `/usr/lib/postgresql/*/bin`. As root, the server runs
//!    as the `postgres` system user. The server is stopped and the directory
//!    removed when the process exits; if the process is killed, the kernel
//!    stops the server (Linux parent-death signal) and the next run removes
//!    the directory.
//!
//! ```no_run
//! use diesel::connection::SimpleConnection;
//!
//! let db = auditrum_testdb::TestDatabase::new();
//! let mut conn = db.connect();
//! conn.batch_execute("CREATE TABLE t (id int)").unwrap();
//! // `db` is dropped here, and its database with it.
//! ```
//!
//! A benchmark calls [`durable_server()`] instead: a local cluster like the
//! third option, but with PostgreSQL's default durability settings. A test of
//! logical replication takes a subscriber database on [`second_server()`] with
//! [`TestDatabase::on`]; the local clusters run with `wal_level = logical`.
//!
//! Everything panics with an explanation when it fails: this crate is for
//! tests, where a panic is the clearest report. Unix only.
#![warn(missing_docs)]
// The local cluster needs a few libc calls that have no safe std equivalent:
// getpwnam/geteuid (run the server as `postgres` when we are root), prctl
// (parent-death signal), atexit (stop the server at exit), kill and waitpid
// (stop it, and tell live runs from dead ones).
#![allow(unsafe_code)]

use std::fmt;
use std::hash::{BuildHasher, Hasher};
use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::{Duration, SystemTime};

use diesel::connection::SimpleConnection;
use diesel::{Connection, ConnectionError, PgConnection};

#[cfg(feature = "testcontainers")]
mod docker;
mod local;
mod url;

/// How many times a `CREATE DATABASE` / `DROP DATABASE` is tried.
const ATTEMPTS: u32 = 5;

/// The server shared by every test of this process, started on first use.
///
/// See the [crate documentation](crate) for where it comes from.
///
/// # Panics
///
/// When no server can be had: `DATABASE_URL` is set but does not connect,
/// or there is no `DATABASE_URL` and the local cluster cannot be started
/// (no PostgreSQL server binaries installed, for example). A failure is
/// remembered: later calls panic with the same message instead of trying
/// again, so one broken setup does not start a server per test.
pub fn server() -> &'static Server {
    match shared(start_server) {
        Ok(server) => server,
        Err(message) => panic!("{message}"),
    }
}

/// The directory of the PostgreSQL server binaries (`initdb`, `postgres`, `pgbench`) that a
/// local cluster would use: `$AUDITRUM_PG_BINDIR`, `PATH`, `pg_config --bindir` or
/// `/usr/lib/postgresql/*/bin`, in that order. `None` when no server is installed.
pub fn pg_bindir() -> Option<std::path::PathBuf> {
    local::find_bindir()
}

/// A second server in this process, for tests of logical replication between two clusters
/// (a publisher on [`server()`], a subscriber here): always a local cluster with the test
/// settings (`wal_level = logical` included), whatever [`server()`] is. Started on first use,
/// stopped and removed at exit. Make databases on it with [`TestDatabase::on`].
///
/// # Panics
///
/// When the cluster cannot be started (the message says why).
pub fn second_server() -> &'static Server {
    static SECOND: OnceLock<Server> = OnceLock::new();
    SECOND.get_or_init(|| local_server(local::Durability::Off))
}

/// A local `initdb` cluster with PostgreSQL's default settings (durability on:
/// `fsync`, `synchronous_commit`, `full_page_writes`), for a benchmark that must
/// not measure a server tuned for tests. `DATABASE_URL` and Docker are not
/// looked at.
///
/// It is this process's [`server()`]: started on first use, stopped and removed
/// at exit like the test cluster, and [`TestDatabase::new`] makes databases on it.
///
/// # Errors
///
/// When the cluster cannot be started (the message says why), or when this
/// process already started its server with [`server()`].
pub fn durable_server() -> Result<&'static Server, String> {
    let server = shared(|| local_server(local::Durability::ServerDefault))
        .as_ref()
        .map_err(Clone::clone)?;
    if server.durable {
        Ok(server)
    } else {
        Err(format!(
            "auditrum-testdb: this process already uses {} (started by server()), not a \
             durable server",
            server.description
        ))
    }
}

/// The one server of this process: the first caller's `start` makes it. A
/// panic in `start` is kept as the error message, for every later caller.
fn shared(start: fn() -> Server) -> &'static Result<Server, String> {
    static SERVER: OnceLock<Result<Server, String>> = OnceLock::new();
    SERVER.get_or_init(|| {
        std::panic::catch_unwind(start).map_err(|payload| {
            payload
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_else(|| "auditrum-testdb: the server failed to start".to_owned())
        })
    })
}

/// Starts a local cluster (see `local`) and announces it.
fn local_server(durability: local::Durability) -> Server {
    let cluster = local::start(durability);
    let kind = match durability {
        local::Durability::Off => "local initdb cluster",
        local::Durability::ServerDefault => "durable local initdb cluster (server defaults)",
    };
    let description = format!("{kind} at {}", cluster.dir.display());
    let mut server = Server::new(
        cluster.url_for("postgres"),
        Source::Local(cluster),
        description,
    );
    server.durable = durability == local::Durability::ServerDefault;
    announce(&server);
    server
}

fn start_server() -> Server {
    if let Some(url) = std::env::var("DATABASE_URL")
        .ok()
        .filter(|url| !url.trim().is_empty())
    {
        let server = Server::new(
            url.clone(),
            Source::Url {
                url: url.clone(),
                throwaway: false,
            },
            "DATABASE_URL".to_owned(),
        );
        if let Err(error) = connect(&url) {
            panic!(
                "auditrum-testdb: DATABASE_URL is set to {}, but connecting to it failed: {error}",
                url::redact(&url)
            );
        }
        announce(&server);
        return server;
    }

    #[cfg(feature = "testcontainers")]
    match docker::ping() {
        Ok(()) => match docker::start() {
            Ok(url) => {
                let server = Server::new(
                    url.clone(),
                    Source::Url {
                        url,
                        throwaway: true,
                    },
                    "testcontainers".to_owned(),
                );
                match wait_for(&server.admin_url, Duration::from_secs(60)) {
                    Ok(()) => {
                        announce(&server);
                        return server;
                    }
                    Err(error) => {
                        let _ = writeln!(
                            std::io::stderr(),
                            "auditrum-testdb: the testcontainers server does not accept \
                             connections ({error}); falling back to a local initdb cluster"
                        );
                    }
                }
            }
            Err(error) => {
                let _ = writeln!(
                    std::io::stderr(),
                    "auditrum-testdb: a Docker engine answers, but {error}; falling back to a \
                     local initdb cluster"
                );
            }
        },
        Err(endpoint) => {
            let _ = writeln!(
                std::io::stderr(),
                "auditrum-testdb: testcontainers feature on, but no Docker engine answers at \
                 {endpoint}; falling back to a local initdb cluster"
            );
        }
    }

    local_server(local::Durability::Off)
}

fn announce(server: &Server) {
    let _ = writeln!(
        std::io::stderr(),
        "auditrum-testdb: using {}",
        server.description
    );
}

/// Polls until `url` connects or `timeout` passes.
#[cfg(feature = "testcontainers")]
fn wait_for(url: &str, timeout: Duration) -> Result<(), ConnectionError> {
    let deadline = std::time::Instant::now() + timeout;
    loop {
        match connect(url) {
            Ok(_) => return Ok(()),
            Err(error) if std::time::Instant::now() >= deadline => return Err(error),
            Err(_) => std::thread::sleep(Duration::from_millis(100)),
        }
    }
}

/// Opens a connection; one place to change how (all callers go through it).
pub(crate) fn connect(url: &str) -> Result<PgConnection, ConnectionError> {
    PgConnection::establish(url)
}

/// Where the server's URLs come from.
enum Source {
    /// A server known by a URL (`DATABASE_URL`, a container): per-database
    /// URLs replace its database name.
    Url {
        /// The server's admin URL.
        url: String,
        /// Whether the server goes away with this process (a container).
        throwaway: bool,
    },
    /// Our own cluster.
    Local(local::LocalCluster),
}

/// A PostgreSQL server on which [`TestDatabase`]s are made; see [`server()`].
pub struct Server {
    source: Source,
    description: String,
    /// Where `CREATE DATABASE` and `DROP DATABASE` run.
    admin_url: String,
    /// The admin connection, made on first use, and the lock that serializes
    /// database creation and removal in this process.
    admin: Mutex<Option<PgConnection>>,
    /// Started by [`durable_server()`].
    durable: bool,
}

impl fmt::Debug for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Server")
            .field("description", &self.description)
            .field("admin_url", &url::redact(&self.admin_url))
            .finish_non_exhaustive()
    }
}

impl Server {
    fn new(admin_url: String, source: Source, description: String) -> Server {
        Server {
            source,
            description,
            admin_url,
            admin: Mutex::new(None),
            durable: false,
        }
    }

    /// A libpq URL for database `name` on this server.
    ///
    /// The database need not exist; this only builds the URL.
    pub fn url_for(&self, database: &str) -> String {
        match &self.source {
            Source::Url { url, .. } => url::with_database(url, database),
            Source::Local(cluster) => cluster.url_for(database),
        }
    }

    /// Where the server came from, for logs: `"DATABASE_URL"`,
    /// `"testcontainers"`, `"local initdb cluster at <directory>"` or, from
    /// [`durable_server()`], `"durable local initdb cluster (server defaults)
    /// at <directory>"`.
    pub fn description(&self) -> &str {
        &self.description
    }

    /// Whether this server lives only as long as this process (a local
    /// cluster or a container), so that nothing on it survives the process.
    pub fn is_throwaway(&self) -> bool {
        match &self.source {
            Source::Local(_) => true,
            Source::Url { throwaway, .. } => *throwaway,
        }
    }

    /// Runs `sql` on the admin connection, holding the process-wide lock,
    /// reconnecting and retrying up to [`ATTEMPTS`] times on any error.
    fn admin_execute(&self, sql: &[&str]) -> Result<(), String> {
        let mut admin = self.admin.lock().unwrap_or_else(PoisonError::into_inner);
        let mut last_error = String::new();
        for attempt in 1..=ATTEMPTS {
            if attempt > 1 {
                std::thread::sleep(Duration::from_millis(100 * u64::from(attempt)));
            }
            if admin.is_none() {
                match connect(&self.admin_url) {
                    Ok(connection) => *admin = Some(connection),
                    Err(error) => {
                        last_error = format!(
                            "cannot connect to {}: {error}",
                            url::redact(&self.admin_url)
                        );
                        continue;
                    }
                }
            }
            let connection = admin.as_mut().expect("connected just above");
            // The first statement that works wins: later ones are fallbacks.
            let mut errors = Vec::new();
            for statement in sql {
                match connection.batch_execute(statement) {
                    Ok(()) => return Ok(()),
                    Err(error) => errors.push(format!("`{statement}`: {error}")),
                }
            }
            last_error = errors.join("; ");
            // Whatever went wrong, start the next attempt on a fresh connection.
            *admin = None;
        }
        Err(format!("{last_error} (after {ATTEMPTS} attempts)"))
    }
}

/// Process-wide counter in test database names.
static COUNTER: AtomicU64 = AtomicU64::new(0);

/// A fresh, empty database on [`server()`], dropped (`WITH (FORCE)`) when this
/// value is dropped.
///
/// Names are unique per process and per call
/// (`auditrum_test_<pid>_<counter>_<random>`), so tests can run in parallel,
/// in one process or many.
#[derive(Debug)]
pub struct TestDatabase {
    server: &'static Server,
    name: String,
    url: String,
    keep: bool,
}

impl TestDatabase {
    /// Creates the database (from `template0`), starting [`server()`] first
    /// if need be.
    ///
    /// # Panics
    ///
    /// When the server cannot be had (see [`server()`]) or `CREATE DATABASE`
    /// fails five times in a row.
    #[allow(clippy::new_without_default)] // Creating a database is not a default value.
    pub fn new() -> TestDatabase {
        TestDatabase::on(server())
    }

    /// Creates the database on `server` (e.g. [`second_server()`]).
    ///
    /// # Panics
    ///
    /// When `CREATE DATABASE` fails five times in a row.
    pub fn on(server: &'static Server) -> TestDatabase {
        let name = format!(
            "auditrum_test_{}_{}_{:08x}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed),
            random_u64() as u32
        );
        if let Err(error) =
            server.admin_execute(&[&format!("CREATE DATABASE \"{name}\" TEMPLATE template0")])
        {
            panic!(
                "auditrum-testdb: cannot create database {name} on {}: {error}",
                server.description()
            );
        }
        TestDatabase {
            server,
            url: server.url_for(&name),
            name,
            keep: false,
        }
    }

    /// The libpq URL of this database.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The database's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Establishes a new connection to this database.
    ///
    /// # Panics
    ///
    /// When the connection fails.
    pub fn connect(&self) -> PgConnection {
        connect(&self.url).unwrap_or_else(|error| {
            panic!(
                "auditrum-testdb: cannot connect to test database {}: {error}",
                url::redact(&self.url)
            )
        })
    }

    /// Keeps the database after this value is gone (for debugging): prints
    /// its URL on stderr and returns it.
    ///
    /// A local cluster or container still goes away when the process exits;
    /// to keep data for longer, point `DATABASE_URL` at a server of your own.
    pub fn keep(mut self) -> String {
        self.keep = true;
        let server = self.server;
        let lifetime = if server.is_throwaway() {
            format!(
                " (until this process exits: the server is a {})",
                server.description()
            )
        } else {
            String::new()
        };
        let _ = writeln!(
            std::io::stderr(),
            "auditrum-testdb: keeping database {}{lifetime}: {}",
            self.name,
            url::redact(&self.url)
        );
        self.url.clone()
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if self.keep {
            return;
        }
        let name = &self.name;
        let dropped = self.server.admin_execute(&[
            &format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"),
            // Servers before PostgreSQL 13 have no WITH (FORCE).
            &format!(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'; \
                 DROP DATABASE IF EXISTS \"{name}\""
            ),
        ]);
        if let Err(error) = dropped {
            // Never panic in drop: it would abort a test that is already panicking.
            let _ = writeln!(
                std::io::stderr(),
                "auditrum-testdb: cannot drop database {name}: {error}"
            );
        }
    }
}

/// A random number, good enough for unique names (not for cryptography):
/// std's per-process random hasher keys, mixed with the time and a counter.
pub(crate) fn random_u64() -> u64 {
    static CALLS: AtomicU64 = AtomicU64::new(0);
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|elapsed| elapsed.as_nanos())
        .unwrap_or_default();
    hasher.write_u128(nanos);
    hasher.write_u32(std::process::id());
    hasher.write_u64(CALLS.fetch_add(1, Ordering::Relaxed));
    hasher.finish()
}

// The README's example compiles as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
