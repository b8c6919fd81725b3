//! `seal-chain --watch` against a real server that is restarted under it (issue 15): a burst
//! of transactions is sealed within about a second of commit, the watcher reconnects after
//! the restart, a bare backdated transaction is found once commit timestamps are on, and
//! SIGTERM ends the watcher cleanly.
//!
//! Its own test binary: restarting the server would break the other tests' connections.

#[path = "common/mod.rs"]
mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use auditrum_testdb::TestDatabase;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::Double;

use common::{cli, count, stderr, stdout};

/// The cluster auditrum-testdb started, as `pg_ctl` needs it.
struct Cluster {
    bindir: PathBuf,
    dir: PathBuf,
}

impl Cluster {
    /// `None` when the server is not a local initdb cluster (DATABASE_URL, a container):
    /// then it cannot be restarted from here.
    fn local() -> Option<Cluster> {
        let description = auditrum_testdb::server().description();
        let dir = PathBuf::from(description.strip_prefix("local initdb cluster at ")?);
        // postmaster.opts starts with the server binary's path: pg_ctl is beside it.
        let opts = std::fs::read_to_string(dir.join("data/postmaster.opts")).ok()?;
        let postgres = opts.split_whitespace().next()?.trim_matches('"');
        let bindir = Path::new(postgres).parent()?.to_owned();
        Some(Cluster { bindir, dir })
    }

    /// `pg_ctl ARGS -D data`, as the `postgres` user when this process runs as root.
    fn pg_ctl(&self, args: &[&str]) {
        let pg_ctl = self.bindir.join("pg_ctl");
        let data = self.dir.join("data");
        let root = Command::new("id")
            .arg("-u")
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
            .unwrap_or(false);
        let mut command = if root {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&pg_ctl);
            c
        } else {
            Command::new(&pg_ctl)
        };
        let output = command
            .args(args)
            .arg("-D")
            .arg(&data)
            .current_dir(&self.dir)
            .stdin(Stdio::null())
            .output()
            .expect("pg_ctl runs");
        assert!(
            output.status.success(),
            "pg_ctl {args:?}: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }

    /// A fast restart, reusing the server's command line (postmaster.opts); the new server
    /// logs to restart.log (with no log file pg_ctl would hold our pipe open).
    fn restart(&self) {
        let log = self.dir.join("restart.log");
        self.pg_ctl(&[
            "restart",
            "-m",
            "fast",
            "-w",
            "-t",
            "60",
            "-l",
            log.to_str().unwrap(),
        ]);
    }
}

/// Stops the restarted server when the test ends: it is no longer this process's child, so
/// auditrum-testdb's exit handler would not.
struct StopAtEnd<'a>(&'a Cluster);

impl Drop for StopAtEnd<'_> {
    fn drop(&mut self) {
        self.0.pg_ctl(&["stop", "-m", "fast", "-w"]);
    }
}

/// Runs `seal-chain --watch` in the background.
fn watcher(db: &TestDatabase) -> Child {
    Command::new(env!("CARGO_BIN_EXE_auditrum-diesel"))
        .args(["seal-chain", "--watch", "--interval-ms", "200"])
        .env("DATABASE_URL", db.url())
        .env_remove("AUDITRUM_TABLE")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs")
}

/// `threads` × `each` committed transactions, each with its context.
fn burst(db: &TestDatabase, first_id: i64, threads: i64, each: i64) {
    let writers: Vec<_> = (0..threads)
        .map(|w| {
            let url = db.url().to_owned();
            thread::spawn(move || {
                let mut conn = PgConnection::establish(&url).unwrap();
                for i in 0..each {
                    let id = first_id + w * each + i;
                    conn.batch_execute(&format!(
                        r#"BEGIN; SET LOCAL auditrum.context = '{{"user_id": "w{w}"}}';
                           INSERT INTO notes VALUES ({id}, 'x'); COMMIT;"#
                    ))
                    .unwrap();
                }
            })
        })
        .collect();
    for writer in writers {
        writer.join().unwrap();
    }
}

/// Waits until `links` links exist; how long that took.
fn until_sealed(conn: &mut PgConnection, links: i64, timeout: Duration) -> Duration {
    let start = Instant::now();
    loop {
        let n = count(conn, "SELECT count(*) FROM auditlog_chain");
        if n >= links {
            return start.elapsed();
        }
        assert!(
            start.elapsed() < timeout,
            "only {n} of {links} links after {timeout:?}"
        );
        thread::sleep(Duration::from_millis(20));
    }
}

fn connect_retrying(url: &str) -> PgConnection {
    let start = Instant::now();
    loop {
        match PgConnection::establish(url) {
            Ok(conn) => return conn,
            Err(e) if start.elapsed() < Duration::from_secs(30) => {
                let _ = e;
                thread::sleep(Duration::from_millis(100));
            }
            Err(e) => panic!("the server did not come back: {e}"),
        }
    }
}

#[test]
fn the_watcher_seals_within_a_second_and_survives_a_restart() {
    let Some(cluster) = Cluster::local() else {
        // Loud, not silent: this test needs a cluster it may restart.
        eprintln!(
            "SKIPPED the_watcher_seals_within_a_second_and_survives_a_restart: the test server \
             ({}) is not a local initdb cluster, so it cannot be restarted from here",
            auditrum_testdb::server().description()
        );
        return;
    };
    let mut stop_at_end = None;
    let db = TestDatabase::new();
    let mut conn = db.connect();
    conn.batch_execute("CREATE TABLE notes (id bigint PRIMARY KEY, body text)")
        .unwrap();
    for args in [
        &["init-schema"][..],
        &["track", "notes"],
        &["enable-hash-chain"],
    ] {
        let out = cli(args, Some(db.url()));
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
    }
    let mut child = watcher(&db);

    // A burst: 4 writers × 50 transactions, sealed within about a second of the last commit.
    burst(&db, 1, 4, 50);
    let waited = until_sealed(&mut conn, 200, Duration::from_secs(10));
    eprintln!("burst of 200 transactions: all sealed {waited:?} after the last commit");
    assert!(waited <= Duration::from_millis(1000), "{waited:?}");

    // Restart with commit timestamps on: the watcher reconnects by itself.
    conn.batch_execute("ALTER SYSTEM SET track_commit_timestamp = on")
        .unwrap();
    drop(conn);
    stop_at_end.get_or_insert(StopAtEnd(&cluster));
    cluster.restart();
    let mut conn = connect_retrying(db.url());
    assert_eq!(
        count(
            &mut conn,
            "SELECT (current_setting('track_commit_timestamp') = 'on')::int"
        ),
        1
    );
    assert!(
        child.try_wait().unwrap().is_none(),
        "the watcher is still running"
    );
    burst(&db, 1000, 1, 1);
    until_sealed(&mut conn, 201, Duration::from_secs(30));

    // A second burst, measured by the server: seal time minus commit time, per link.
    burst(&db, 2000, 4, 50);
    until_sealed(&mut conn, 401, Duration::from_secs(10));
    #[derive(QueryableByName)]
    struct Lag {
        #[diesel(sql_type = Double)]
        max: f64,
        #[diesel(sql_type = Double)]
        avg: f64,
    }
    let lag: Lag = diesel::sql_query(
        "SELECT max(x)::float8 AS max, avg(x)::float8 AS avg FROM (
             SELECT extract(epoch FROM l.sealed_at - pg_xact_commit_timestamp((l.txid % 4294967296)::text::xid)) AS x
             FROM auditlog_chain l WHERE l.seq > 201) s",
    )
    .get_result(&mut conn)
    .unwrap();
    eprintln!(
        "commit → seal after the restart: max {:.3} s, mean {:.3} s",
        lag.max, lag.avg
    );
    assert!(lag.max <= 1.0, "max {} s", lag.max);
    let status = cli(&["status"], Some(db.url()));
    assert!(
        stdout(&status).contains("seal lag: "),
        "{}",
        stdout(&status)
    );

    // A bare backdated transaction (no context, nothing else in it): commit timestamps tell.
    conn.batch_execute(
        "INSERT INTO auditlog (changed_at, operation, table_schema, table_name, record_id, new_data, txid)
         VALUES (now() - interval '2 hours', 'INSERT', 'public', 'notes', '999', '{\"id\": 999}', txid_current())",
    )
    .unwrap();
    until_sealed(&mut conn, 402, Duration::from_secs(10));
    let out = cli(&["verify-chain"], Some(db.url()));
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("before it committed"),
        "{}",
        stdout(&out)
    );

    // SIGTERM: a clean stop.
    let pid = child.id().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        assert!(start.elapsed() < Duration::from_secs(10), "still running");
        thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    let (out_text, log) = (stdout(&out), stderr(&out));
    assert_eq!(out.status.code(), Some(0), "{out_text}{log}");
    assert!(
        out_text.contains("stopped after sealing 402 transaction(s)"),
        "{out_text}{log}"
    );
    assert!(log.matches(" connected").count() >= 2, "reconnected: {log}");
    assert!(
        log.contains("seal failed; reconnecting") || log.contains("cannot connect"),
        "{log}"
    );
    drop(conn);
    drop(db);
    drop(stop_at_end);
}
