//! A private PostgreSQL cluster made with `initdb` in a temporary directory,
//! run as a child of this process and removed when the process exits.
//!
//! Cleanup happens in two ways:
//! - an `atexit` handler stops the postmaster (SIGINT, fast shutdown), waits
//!   for it, and removes the directory: this covers a normal exit, including
//!   the `process::exit` of a test harness whose tests failed;
//! - on Linux, the postmaster gets `PR_SET_PDEATHSIG = SIGINT`, so the kernel
//!   stops it when this process dies without running `atexit` (a `kill -9`,
//!   an abort). The directory of such a run is swept by the next run.

use std::ffi::{CString, OsStr};
use std::fs::{self, File};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::{mpsc, Mutex, Once};
use std::time::{Duration, Instant};

use crate::url::encode;

/// Prefix of the temporary directories made by this module.
const DIR_PREFIX: &str = "auditrum-pg-";
/// The port in the socket file name (`.s.PGSQL.5432`); nothing listens on TCP.
const PORT: u16 = 5432;
/// How long the server gets to accept connections after it is started.
const START_TIMEOUT: Duration = Duration::from_secs(60);
/// How long the `atexit` handler waits after a fast shutdown request.
const STOP_TIMEOUT: Duration = Duration::from_secs(10);

/// Every cluster this process started (the test server, and a second one for replication
/// tests), stopped and removed by the `atexit` handler.
static CLUSTERS: Mutex<Vec<&'static Postmaster>> = Mutex::new(Vec::new());
/// Registers the `atexit` handler once, whatever the number of clusters.
static AT_EXIT: Once = Once::new();

/// One cluster's server process and directory. Leaked: it lives until the process exits.
struct Postmaster {
    /// The cluster's directory, removed at exit.
    dir: PathBuf,
    /// The postmaster's pid, 0 until it is spawned.
    pid: AtomicI32,
    /// Set by the spawning thread once the postmaster has exited and was reaped.
    exited: AtomicBool,
    /// How the postmaster exited, for error messages.
    status: Mutex<Option<String>>,
}

/// A running local cluster.
#[derive(Debug)]
pub(crate) struct LocalCluster {
    /// The temporary directory: data directory, socket and log live in it.
    pub(crate) dir: PathBuf,
}

impl LocalCluster {
    /// A libpq URL for `database` on this cluster.
    pub(crate) fn url_for(&self, database: &str) -> String {
        format!(
            "postgres://postgres@localhost:{PORT}/{}?host={}",
            encode(database, false),
            encode(&self.dir.to_string_lossy(), true),
        )
    }
}

/// The system user that runs the server when this process runs as root.
#[derive(Debug, Clone)]
struct RunAs {
    uid: libc::uid_t,
    gid: libc::gid_t,
}

/// Whether the cluster trades durability for speed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Durability {
    /// `fsync`, `synchronous_commit` and `full_page_writes` off: for tests, whose data
    /// dies with the process anyway.
    Off,
    /// PostgreSQL's defaults: for a benchmark, which must measure a real server.
    ServerDefault,
}

/// The test settings: durability off, and `wal_level = logical` so that a test can publish
/// a database to a second cluster (logical replication).
const FOR_TESTS: &[&str] = &[
    "fsync=off",
    "synchronous_commit=off",
    "full_page_writes=off",
    "max_connections=300",
    "shared_buffers=128MB",
    "wal_level=logical",
];

/// Makes and starts a fresh cluster, panicking with an explanation on failure.
pub(crate) fn start(durability: Durability) -> LocalCluster {
    let bindir = find_bindir().unwrap_or_else(|| {
        panic!(
            "auditrum-testdb: no PostgreSQL server binaries found (looked for `initdb` and \
             `postgres` in $AUDITRUM_PG_BINDIR, on PATH, in `pg_config --bindir` and in \
             /usr/lib/postgresql/*/bin). Install them (e.g. `apt-get install postgresql`) \
             or set DATABASE_URL to a server where this user may CREATE DATABASE."
        )
    });
    let run_as = run_as();
    let base = base_dir(run_as.as_ref());
    sweep_stale_dirs(&base);
    let dir = make_cluster_dir(&base, run_as.as_ref());

    // From here on the directory is ours to remove, whatever happens next.
    let postmaster: &'static Postmaster = Box::leak(Box::new(Postmaster {
        dir: dir.clone(),
        pid: AtomicI32::new(0),
        exited: AtomicBool::new(false),
        status: Mutex::new(None),
    }));
    CLUSTERS
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .push(postmaster);
    AT_EXIT.call_once(|| {
        // SAFETY: `cleanup_at_exit` is an `extern "C" fn()` that never unwinds.
        let registered = unsafe { libc::atexit(cleanup_at_exit) };
        if registered != 0 {
            let _ = writeln!(
                io::stderr(),
                "auditrum-testdb: atexit registration failed; {} will not be removed at exit",
                dir.display()
            );
        }
    });

    init_cluster(&bindir, &dir, run_as.as_ref());
    spawn_postmaster(&bindir, postmaster, run_as.as_ref(), durability);
    let cluster = LocalCluster { dir };
    wait_until_ready(&cluster, postmaster);
    cluster
}

/// Looks for a directory holding both `initdb` and `postgres`: in
/// `$AUDITRUM_PG_BINDIR`, on `PATH`, in `pg_config --bindir`, then in the
/// highest version of Debian's `/usr/lib/postgresql/*/bin`.
pub(crate) fn find_bindir() -> Option<PathBuf> {
    let has_server =
        |dir: &Path| is_executable(&dir.join("initdb")) && is_executable(&dir.join("postgres"));

    if let Some(dir) = std::env::var_os("AUDITRUM_PG_BINDIR").filter(|dir| !dir.is_empty()) {
        let dir = PathBuf::from(dir);
        if has_server(&dir) {
            return Some(dir);
        }
        let _ = writeln!(
            io::stderr(),
            "auditrum-testdb: AUDITRUM_PG_BINDIR={} has no initdb and postgres; looking elsewhere",
            dir.display()
        );
    }
    if let Some(path) = std::env::var_os("PATH") {
        if let Some(dir) = std::env::split_paths(&path).find(|dir| has_server(dir)) {
            return Some(dir);
        }
    }
    if let Ok(output) = Command::new("pg_config")
        .arg("--bindir")
        .stderr(Stdio::null())
        .output()
    {
        if output.status.success() {
            let dir = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
            if has_server(&dir) {
                return Some(dir);
            }
        }
    }
    let mut versions: Vec<(Vec<u32>, PathBuf)> = fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let name = entry.file_name();
            let version = name
                .to_str()?
                .split('.')
                .map(|part| part.parse().ok())
                .collect::<Option<Vec<u32>>>()?;
            let dir = entry.path().join("bin");
            has_server(&dir).then_some((version, dir))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, dir)| dir)
}

fn is_executable(path: &Path) -> bool {
    fs::metadata(path).is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
}

/// PostgreSQL refuses to run as root: as root, the server runs as the
/// `postgres` system user.
fn run_as() -> Option<RunAs> {
    // SAFETY: geteuid cannot fail and touches no memory of ours.
    let euid = unsafe { libc::geteuid() };
    if euid != 0 {
        return None;
    }
    let name = CString::new("postgres").expect("no NUL in a literal");
    // SAFETY: `name` is a valid C string; the returned record is read at once,
    // before any other getpw* call could overwrite it (server start is serialized
    // by the `OnceLock` in `server()`).
    let user = unsafe {
        let entry = libc::getpwnam(name.as_ptr());
        (!entry.is_null()).then(|| RunAs {
            uid: (*entry).pw_uid,
            gid: (*entry).pw_gid,
        })
    };
    Some(user.unwrap_or_else(|| {
        panic!(
            "auditrum-testdb: running as root, and PostgreSQL refuses to run as root, but there \
             is no `postgres` system user to run it as. Create one (installing the `postgresql` \
             package does), run as an ordinary user, or set DATABASE_URL."
        )
    }))
}

/// Where the cluster directory goes: `std::env::temp_dir()`, unless its path
/// is too long for a Unix socket (107 bytes) or, as root, the `postgres` user
/// could not reach it; then `/tmp`.
fn base_dir(run_as: Option<&RunAs>) -> PathBuf {
    let temp = std::env::temp_dir();
    // "/auditrum-pg-<pid>-<16 hex>/.s.PGSQL.5432.lock" is at most ~55 bytes.
    let short_enough = temp.as_os_str().len() + 60 < 107;
    let reachable = run_as.is_none_or(|user| reachable_by(&temp, user));
    if short_enough && reachable {
        temp
    } else {
        PathBuf::from("/tmp")
    }
}

/// Whether `user` may traverse every directory from `/` down to `dir`.
fn reachable_by(dir: &Path, user: &RunAs) -> bool {
    dir.ancestors().all(|ancestor| {
        fs::metadata(ancestor).is_ok_and(|meta| {
            let mode = meta.mode();
            mode & 0o001 != 0
                || (meta.uid() == user.uid && mode & 0o100 != 0)
                || (meta.gid() == user.gid && mode & 0o010 != 0)
        })
    })
}

/// Removes `auditrum-pg-<pid>-*` directories left by runs that died (their pid
/// is gone) without their `atexit` handler, e.g. after a `kill -9`.
fn sweep_stale_dirs(base: &Path) {
    let Ok(entries) = fs::read_dir(base) else {
        return;
    };
    let own_pid = std::process::id();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|name| name.strip_prefix(DIR_PREFIX))
            .and_then(|rest| rest.split('-').next())
            .and_then(|pid| pid.parse::<libc::pid_t>().ok())
        else {
            continue;
        };
        if pid <= 0 || pid as u32 == own_pid || !entry.file_type().is_ok_and(|t| t.is_dir()) {
            continue;
        }
        if process_alive(pid) {
            continue;
        }
        let dir = entry.path();
        // A postmaster may still be shutting down (PDEATHSIG fired a moment
        // ago), or may have been left running; leave its files alone until it
        // is gone, and ask it to stop if it is really that cluster's.
        if let Some(postmaster) = postmaster_pid_of(&dir) {
            if process_alive(postmaster) {
                if cmdline_mentions(postmaster, &dir) {
                    // SAFETY: plain syscall on a pid we just checked.
                    unsafe {
                        libc::kill(postmaster, libc::SIGINT);
                    }
                }
                continue;
            }
        }
        let _ = fs::remove_dir_all(&dir);
    }
}

/// `kill(pid, 0)`: alive unless it fails with ESRCH.
fn process_alive(pid: libc::pid_t) -> bool {
    // SAFETY: signal 0 only checks whether `pid` exists.
    let result = unsafe { libc::kill(pid, 0) };
    result == 0 || io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
}

fn postmaster_pid_of(dir: &Path) -> Option<libc::pid_t> {
    let text = fs::read_to_string(dir.join("data").join("postmaster.pid")).ok()?;
    text.lines()
        .next()?
        .trim()
        .parse()
        .ok()
        .filter(|pid| *pid > 0)
}

fn cmdline_mentions(pid: libc::pid_t, dir: &Path) -> bool {
    let Ok(cmdline) = fs::read(format!("/proc/{pid}/cmdline")) else {
        return false;
    };
    let needle = dir.as_os_str().as_encoded_bytes();
    cmdline.windows(needle.len()).any(|window| window == needle)
}

/// Creates `<base>/auditrum-pg-<pid>-<random>`, mode 0700, owned by the
/// user that will run the server.
fn make_cluster_dir(base: &Path, run_as: Option<&RunAs>) -> PathBuf {
    let pid = std::process::id();
    let mut last_error = None;
    for _ in 0..10 {
        let dir = base.join(format!("{DIR_PREFIX}{pid}-{:016x}", crate::random_u64()));
        match fs::create_dir(&dir) {
            Ok(()) => {
                let prepared = fs::set_permissions(&dir, fs::Permissions::from_mode(0o700))
                    .and_then(|()| match run_as {
                        Some(user) => {
                            std::os::unix::fs::chown(&dir, Some(user.uid), Some(user.gid))
                        }
                        None => Ok(()),
                    });
                if let Err(error) = prepared {
                    let _ = fs::remove_dir_all(&dir);
                    panic!("auditrum-testdb: cannot prepare {}: {error}", dir.display());
                }
                return dir;
            }
            Err(error) if error.kind() == io::ErrorKind::AlreadyExists => last_error = Some(error),
            Err(error) => panic!(
                "auditrum-testdb: cannot create a cluster directory in {}: {error}",
                base.display()
            ),
        }
    }
    panic!(
        "auditrum-testdb: cannot create a cluster directory in {}: {last_error:?}",
        base.display()
    )
}

/// Applies the user switch (as root) and a clean, reachable working directory.
fn prepare(command: &mut Command, dir: &Path, run_as: Option<&RunAs>) {
    command.current_dir(dir).stdin(Stdio::null());
    for var in [
        "PGDATA",
        "PGHOST",
        "PGPORT",
        "PGUSER",
        "PGDATABASE",
        "PGOPTIONS",
    ] {
        command.env_remove(var);
    }
    if let Some(user) = run_as {
        command
            .uid(user.uid)
            .gid(user.gid)
            .env("HOME", dir)
            .env("USER", "postgres");
    }
}

/// `initdb` quietly; its output is shown only if it fails.
fn init_cluster(bindir: &Path, dir: &Path, run_as: Option<&RunAs>) {
    let data = dir.join("data");
    let mut command = Command::new(bindir.join("initdb"));
    command.arg("-D").arg(&data).args([
        "-U",
        "postgres",
        "-A",
        "trust",
        "-N",
        "-E",
        "UTF8",
        "--locale=C",
    ]);
    prepare(&mut command, dir, run_as);
    let output = command.output().unwrap_or_else(|error| {
        panic!(
            "auditrum-testdb: cannot run {}: {error}",
            bindir.join("initdb").display()
        )
    });
    if !output.status.success() {
        panic!(
            "auditrum-testdb: `initdb -D {}` failed ({}):\n{}{}",
            data.display(),
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr),
        );
    }
}

/// Starts the postmaster from a thread that never exits, so that the
/// parent-death signal (which Linux ties to the forking *thread*) fires only
/// when the whole process dies.
fn spawn_postmaster(
    bindir: &Path,
    postmaster: &'static Postmaster,
    run_as: Option<&RunAs>,
    durability: Durability,
) {
    let dir = postmaster.dir.as_path();
    let log_path = dir.join("postgres.log");
    let log = File::create(&log_path).unwrap_or_else(|error| {
        panic!(
            "auditrum-testdb: cannot create {}: {error}",
            log_path.display()
        )
    });
    let log_err = log
        .try_clone()
        .unwrap_or_else(|error| panic!("auditrum-testdb: cannot duplicate a file handle: {error}"));

    let mut command = Command::new(bindir.join("postgres"));
    command
        .arg("-D")
        .arg(dir.join("data"))
        .arg("-k")
        .arg(dir)
        .arg("-p")
        .arg(PORT.to_string());
    let for_tests: &[&str] = match durability {
        Durability::Off => FOR_TESTS,
        Durability::ServerDefault => &[],
    };
    for setting in ["listen_addresses="].iter().chain(for_tests) {
        command.arg("-c").arg(setting);
    }
    prepare(&mut command, dir, run_as);
    command.stdout(log).stderr(log_err);
    set_parent_death_signal(&mut command);

    let (sender, receiver) = mpsc::channel();
    let spawned = std::thread::Builder::new()
        .name("auditrum-testdb-postmaster".into())
        .spawn(move || {
            let mut child = match command.spawn() {
                Ok(child) => child,
                Err(error) => {
                    let _ = sender.send(Err(error));
                    return;
                }
            };
            let _ = sender.send(Ok(child.id()));
            let status = match child.wait() {
                Ok(status) => status.to_string(),
                Err(error) => format!("unknown ({error})"),
            };
            *postmaster.status.lock().unwrap_or_else(|e| e.into_inner()) = Some(status);
            postmaster.exited.store(true, Ordering::SeqCst);
            // Never exit: see the function's documentation.
            loop {
                std::thread::park();
            }
        });
    if let Err(error) = spawned {
        panic!("auditrum-testdb: cannot start a thread for the postmaster: {error}");
    }
    match receiver.recv() {
        Ok(Ok(pid)) => postmaster.pid.store(pid as i32, Ordering::SeqCst),
        Ok(Err(error)) => panic!(
            "auditrum-testdb: cannot start {}: {error}",
            OsStr::new(&bindir.join("postgres")).to_string_lossy()
        ),
        Err(_) => panic!("auditrum-testdb: the postmaster thread died before starting it"),
    }
}

/// Asks the kernel to send SIGINT (fast shutdown) to the postmaster when the
/// thread that forked it dies. Set in `pre_exec`, which std runs after its
/// `setuid`, because changing credentials clears the parent-death signal.
#[cfg(target_os = "linux")]
fn set_parent_death_signal(command: &mut Command) {
    let parent = std::process::id() as libc::pid_t;
    // SAFETY: the closure runs between fork and exec and only makes
    // async-signal-safe syscalls (prctl, getppid); it allocates nothing.
    unsafe {
        command.pre_exec(move || {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGINT as libc::c_ulong) == -1 {
                return Err(io::Error::last_os_error());
            }
            // The parent may have died before the prctl: then no signal comes.
            if libc::getppid() != parent {
                return Err(io::Error::from_raw_os_error(libc::ESRCH));
            }
            Ok(())
        });
    }
}

#[cfg(not(target_os = "linux"))]
fn set_parent_death_signal(_command: &mut Command) {}

/// Polls until a connection works; panics with the end of the log otherwise.
fn wait_until_ready(cluster: &LocalCluster, postmaster: &Postmaster) {
    let url = cluster.url_for("postgres");
    let deadline = Instant::now() + START_TIMEOUT;
    loop {
        if postmaster.exited.load(Ordering::SeqCst) {
            let status = postmaster
                .status
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .clone();
            panic!(
                "auditrum-testdb: the PostgreSQL server in {} exited during startup ({}); its log \
                 ends with:\n{}",
                cluster.dir.display(),
                status.unwrap_or_default(),
                log_tail(&cluster.dir)
            );
        }
        let last_error = match crate::connect(&url) {
            Ok(_) => return,
            Err(error) => error,
        };
        if Instant::now() >= deadline {
            panic!(
                "auditrum-testdb: the PostgreSQL server in {} did not accept connections within \
                 {START_TIMEOUT:?} (last error: {last_error}); its log ends with:\n{}",
                cluster.dir.display(),
                log_tail(&cluster.dir)
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The last ~8 KiB of `postgres.log`.
fn log_tail(dir: &Path) -> String {
    let mut text = String::new();
    if let Ok(mut log) = File::open(dir.join("postgres.log")) {
        let length = log.metadata().map(|meta| meta.len()).unwrap_or(0);
        let _ = log.seek(SeekFrom::Start(length.saturating_sub(8192)));
        let mut bytes = Vec::new();
        let _ = log.read_to_end(&mut bytes);
        text = String::from_utf8_lossy(&bytes).into_owned();
    }
    if text.trim().is_empty() {
        "(empty)".to_owned()
    } else {
        text
    }
}

/// The `atexit` handler: for every cluster, fast shutdown, wait, then remove the directory.
/// Must not unwind: every step ignores its errors.
extern "C" fn cleanup_at_exit() {
    let clusters = CLUSTERS.lock().map(|c| c.clone()).unwrap_or_default();
    // The last started first: a replica subscribed to the first stops before its publisher.
    for postmaster in clusters.into_iter().rev() {
        stop(postmaster);
    }
}

/// Stops one cluster and removes its directory.
fn stop(postmaster: &Postmaster) {
    let pid = postmaster.pid.load(Ordering::SeqCst);
    if pid > 0 && !postmaster.exited.load(Ordering::SeqCst) {
        // Fast shutdown first; an immediate one if that takes too long.
        for (signal, timeout) in [
            (libc::SIGINT, STOP_TIMEOUT),
            (libc::SIGQUIT, Duration::from_secs(5)),
        ] {
            // SAFETY: plain syscall; the pid is our own, not yet reaped child.
            unsafe {
                libc::kill(pid, signal);
            }
            if wait_for_exit(postmaster, pid, timeout) {
                break;
            }
        }
    }
    let dir = &postmaster.dir;
    if fs::remove_dir_all(dir).is_err() && dir.exists() {
        let _ = writeln!(
            io::stderr(),
            "auditrum-testdb: could not remove {}",
            dir.display()
        );
    }
}

/// Waits until the postmaster is gone: reaped by its thread or by us.
fn wait_for_exit(postmaster: &Postmaster, pid: libc::pid_t, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if postmaster.exited.load(Ordering::SeqCst) {
            return true;
        }
        let mut status = 0;
        // SAFETY: WNOHANG never blocks; `status` is a valid out pointer.
        let reaped = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
        // `pid`: we reaped it; -1 (ECHILD): its thread did.
        if reaped == pid || reaped == -1 {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}
