//! A throwaway PostgreSQL cluster with the server's default settings (durability on:
//! `fsync`, `synchronous_commit`, `full_page_writes`), for a benchmark that should not
//! measure a server tuned for tests. It listens only on a Unix socket in its own
//! directory under `/tmp`, and is stopped and removed when dropped.
//!
//! (`auditrum-testdb`'s server turns durability off for test speed, so it is not used
//! here.)

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use diesel::{Connection, PgConnection};

const DIR_PREFIX: &str = "auditrum-bench-pg-";

/// A running throwaway cluster.
#[derive(Debug)]
pub struct Cluster {
    dir: PathBuf,
    child: Option<Child>,
}

impl Cluster {
    /// Makes a cluster with `initdb` and starts it, waiting until it accepts connections.
    pub fn start() -> Result<Cluster, String> {
        let bindir = find_bindir().ok_or_else(|| {
            "no PostgreSQL server binaries found (initdb and postgres in $AUDITRUM_PG_BINDIR, \
             on PATH, in `pg_config --bindir` or /usr/lib/postgresql/*/bin); install them or \
             pass --url"
                .to_owned()
        })?;
        let run_as = run_as()?;
        sweep_stale_dirs();
        let dir = PathBuf::from(format!("/tmp/{DIR_PREFIX}{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        let _ = fs::set_permissions(&dir, fs::Permissions::from_mode(0o700));
        if let Some((uid, gid)) = run_as {
            std::os::unix::fs::chown(&dir, Some(uid), Some(gid))
                .map_err(|e| format!("cannot give {} to postgres: {e}", dir.display()))?;
        }
        let mut cluster = Cluster { dir, child: None };

        let mut initdb = Command::new(bindir.join("initdb"));
        initdb
            .arg("-D")
            .arg(cluster.dir.join("data"))
            .args(["-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C"])
            .current_dir(&cluster.dir)
            .stdout(Stdio::null());
        if let Some((uid, gid)) = run_as {
            initdb.uid(uid).gid(gid);
        }
        let output = initdb
            .output()
            .map_err(|e| format!("cannot run initdb: {e}"))?;
        if !output.status.success() {
            return Err(format!(
                "initdb failed: {}",
                String::from_utf8_lossy(&output.stderr).trim()
            ));
        }

        let log = fs::File::create(cluster.dir.join("server.log"))
            .map_err(|e| format!("cannot create the server log: {e}"))?;
        let log_err = log.try_clone().map_err(|e| e.to_string())?;
        let mut postgres = Command::new(bindir.join("postgres"));
        postgres
            .arg("-D")
            .arg(cluster.dir.join("data"))
            .arg("-k")
            .arg(&cluster.dir)
            .args(["-c", "listen_addresses="])
            .current_dir(&cluster.dir)
            .stdout(log)
            .stderr(log_err);
        if let Some((uid, gid)) = run_as {
            postgres.uid(uid).gid(gid);
        }
        cluster.child = Some(
            postgres
                .spawn()
                .map_err(|e| format!("cannot start postgres: {e}"))?,
        );

        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            match PgConnection::establish(&cluster.url()) {
                Ok(_) => return Ok(cluster),
                Err(error) => {
                    let exited = cluster
                        .child
                        .as_mut()
                        .and_then(|child| child.try_wait().ok().flatten());
                    if exited.is_some() || Instant::now() > deadline {
                        let log =
                            fs::read_to_string(cluster.dir.join("server.log")).unwrap_or_default();
                        return Err(format!(
                            "the throwaway server did not start ({error}); its log:\n{log}"
                        ));
                    }
                    std::thread::sleep(Duration::from_millis(100));
                }
            }
        }
    }

    /// The libpq URL of the `postgres` database.
    pub fn url(&self) -> String {
        let host: String = self
            .dir
            .to_string_lossy()
            .chars()
            .map(|c| match c {
                '/' => "%2F".to_owned(),
                c => c.to_string(),
            })
            .collect();
        format!("postgres://postgres@localhost/postgres?host={host}")
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            // SIGINT: fast shutdown.
            let _ = Command::new("kill")
                .args(["-INT", &child.id().to_string()])
                .status();
            let deadline = Instant::now() + Duration::from_secs(20);
            loop {
                match child.try_wait() {
                    Ok(Some(_)) | Err(_) => break,
                    Ok(None) if Instant::now() > deadline => {
                        let _ = child.kill();
                        let _ = child.wait();
                        break;
                    }
                    Ok(None) => std::thread::sleep(Duration::from_millis(50)),
                }
            }
        }
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// As root, the uid and gid of the `postgres` user (PostgreSQL refuses to run as root).
fn run_as() -> Result<Option<(u32, u32)>, String> {
    let status = fs::read_to_string("/proc/self/status").unwrap_or_default();
    let root = status
        .lines()
        .find_map(|line| line.strip_prefix("Uid:"))
        .and_then(|ids| ids.split_whitespace().nth(1))
        == Some("0");
    if !root {
        return Ok(None);
    }
    let passwd = fs::read_to_string("/etc/passwd").unwrap_or_default();
    passwd
        .lines()
        .map(|line| line.split(':').collect::<Vec<_>>())
        .find(|fields| fields.first() == Some(&"postgres") && fields.len() > 3)
        .and_then(|fields| Some((fields[2].parse().ok()?, fields[3].parse().ok()?)))
        .map(Some)
        .ok_or_else(|| {
            "running as root, and there is no `postgres` user to run the server as; pass --url"
                .to_owned()
        })
}

pub(crate) fn find_bindir() -> Option<PathBuf> {
    let has_server = |dir: &Path| dir.join("initdb").is_file() && dir.join("postgres").is_file();
    if let Some(dir) = std::env::var_os("AUDITRUM_PG_BINDIR").map(PathBuf::from) {
        if has_server(&dir) {
            return Some(dir);
        }
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
        let dir = PathBuf::from(String::from_utf8_lossy(&output.stdout).trim());
        if output.status.success() && has_server(&dir) {
            return Some(dir);
        }
    }
    let mut versions: Vec<(u32, PathBuf)> = fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry
                .file_name()
                .to_str()?
                .split('.')
                .next()?
                .parse()
                .ok()?;
            let dir = entry.path().join("bin");
            has_server(&dir).then_some((version, dir))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, dir)| dir)
}

/// Removes the directories of earlier runs whose process is gone (a run killed with
/// SIGKILL cannot clean up; its server stops when it finds its directory gone).
fn sweep_stale_dirs() {
    let Ok(entries) = fs::read_dir("/tmp") else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name
            .to_str()
            .and_then(|name| name.strip_prefix(DIR_PREFIX))
            .and_then(|pid| pid.parse::<u32>().ok())
        else {
            continue;
        };
        if !Path::new(&format!("/proc/{pid}")).exists() {
            let _ = fs::remove_dir_all(entry.path());
        }
    }
}
