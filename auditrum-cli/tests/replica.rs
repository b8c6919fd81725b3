//! The audit replica (docs/scaling.md): the log replicated insert-only from the application
//! database to an audit database on a second cluster, as the documented SQL sets it up.
//! Events, contexts and the chain arrive; a purge on the primary does not reach the replica;
//! `verify-chain` passes there (without sealing: the primary seals) and finds an edit made
//! there; `seal-chain` refuses there; the application role cannot log in there.

mod common;

use std::time::{Duration, Instant};

use auditrum_testdb::{second_server, TestDatabase};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::Text;

use common::{cli, count, stderr, stdout};

/// The publisher side, exactly as docs/scaling.md gives it.
const PUBLICATIONS: &str = "
    CREATE PUBLICATION auditrum_log
        FOR TABLE auditlog, auditlog_context, auditlog_chain
        WITH (publish = 'insert', publish_via_partition_root = true);
    CREATE PUBLICATION auditrum_log_state
        FOR TABLE auditlog_chain_state, auditlog_tracked
        WITH (publish = 'insert, update');";

/// The subscriber side: its state row comes from the primary.
const BEFORE_SUBSCRIBING: &str = "TRUNCATE auditlog_chain_state;
    REVOKE EXECUTE ON FUNCTION auditlog_chain_seal() FROM PUBLIC;";

/// Drops the subscription (and with it the primary's replication slot) before the
/// databases go: neither database can be dropped while it exists.
struct Subscription {
    replica_url: String,
}

impl Drop for Subscription {
    fn drop(&mut self) {
        if let Ok(mut conn) = PgConnection::establish(&self.replica_url) {
            let _ = conn.batch_execute("ALTER SUBSCRIPTION auditrum_log DISABLE");
            let _ = conn.batch_execute("DROP SUBSCRIPTION auditrum_log");
        }
    }
}

/// `SELECT (sql)::text` on `conn`.
fn text(conn: &mut PgConnection, sql: &str) -> String {
    #[derive(QueryableByName)]
    struct T {
        #[diesel(sql_type = Text)]
        t: String,
    }
    diesel::sql_query(format!("SELECT coalesce(({sql})::text, '') AS t"))
        .get_result::<T>(conn)
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .t
}

/// A digest of every row of each replicated table, compared across the two databases.
const CONTENTS: &[&str] = &[
    "SELECT md5(string_agg(e::text, '|' ORDER BY id)) FROM auditlog e",
    "SELECT md5(string_agg(c::text, '|' ORDER BY id)) FROM auditlog_context c",
    "SELECT md5(string_agg(l::text, '|' ORDER BY seq)) FROM auditlog_chain l",
    "SELECT s::text FROM auditlog_chain_state s",
];

/// Waits until the replica holds what the primary holds (`CONTENTS`), or panics.
fn wait_for_replica(primary: &mut PgConnection, replica: &mut PgConnection) {
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let want: Vec<String> = CONTENTS.iter().map(|q| text(primary, q)).collect();
        let have: Vec<String> = CONTENTS.iter().map(|q| text(replica, q)).collect();
        if want == have {
            return;
        }
        if Instant::now() > deadline {
            panic!(
                "the replica did not catch up within 120 s\nprimary {want:?}\nreplica {have:?}\n\
                 subscription: {}",
                text(
                    replica,
                    "SELECT string_agg(srrelid::regclass || ':' || srsubstate, ' ') FROM pg_subscription_rel"
                )
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// `n` transactions on `notes`, each with its own context.
fn write(conn: &mut PgConnection, from: i32, n: i32) {
    for i in from..from + n {
        conn.batch_execute(&format!(
            r#"BEGIN;
               SET LOCAL auditrum.context = '{{"user_id": "u{i}", "request_id": "r{i}"}}';
               INSERT INTO notes VALUES ({i}, 'body {i}');
               UPDATE notes SET body = 'edited {i}' WHERE id = {i};
               COMMIT;"#
        ))
        .unwrap();
    }
}

fn ok(args: &[&str], url: &str) -> String {
    let out = cli(args, Some(url));
    assert!(
        out.status.success(),
        "{args:?}: {}{}",
        stdout(&out),
        stderr(&out)
    );
    stdout(&out)
}

#[test]
fn the_log_replicates_to_an_audit_database_that_keeps_it_and_verifies_it() {
    let primary_db = TestDatabase::new();
    let replica_db = TestDatabase::on(second_server());
    let mut primary = primary_db.connect();
    let mut replica = replica_db.connect();
    assert_eq!(
        text(&mut primary, "current_setting('wal_level')"),
        "logical",
        "the primary must run with wal_level = logical (the local test clusters do; a \
         DATABASE_URL server must be configured so)"
    );

    // The application database: an audited table, the chain on, events before replication.
    primary
        .batch_execute("CREATE TABLE notes (id int PRIMARY KEY, body text)")
        .unwrap();
    ok(&["init-schema"], primary_db.url());
    ok(&["track", "notes"], primary_db.url());
    ok(&["enable-hash-chain"], primary_db.url());
    write(&mut primary, 1, 20);
    ok(&["seal-chain"], primary_db.url());

    // The audit database: the same schema, its state row from the primary.
    ok(&["init-schema"], replica_db.url());
    ok(&["enable-hash-chain"], replica_db.url());
    replica.batch_execute(BEFORE_SUBSCRIBING).unwrap();
    primary.batch_execute(PUBLICATIONS).unwrap();
    let _subscription = Subscription {
        replica_url: replica_db.url().to_owned(),
    };
    // CREATE SUBSCRIPTION cannot run in a (multi-statement) transaction: alone.
    replica
        .batch_execute(&format!(
            "CREATE SUBSCRIPTION auditrum_log CONNECTION '{}' PUBLICATION auditrum_log, auditrum_log_state",
            primary_db.url().replace('\'', "''")
        ))
        .unwrap();

    // The initial copy, then changes as they commit: rows and state identical.
    wait_for_replica(&mut primary, &mut replica);
    assert_eq!(count(&mut replica, "SELECT count(*) FROM auditlog"), 40);
    // Each statement writes one row: its event carries the context (core schema 3).
    assert_eq!(
        count(
            &mut replica,
            "SELECT count(*) FROM auditlog WHERE context ->> 'request_id' LIKE 'r%'"
        ),
        40
    );
    write(&mut primary, 21, 30);
    ok(&["seal-chain"], primary_db.url());
    wait_for_replica(&mut primary, &mut replica);
    assert_eq!(count(&mut replica, "SELECT count(*) FROM auditlog"), 100);
    assert_eq!(
        count(&mut replica, "SELECT last_seq FROM auditlog_chain_state"),
        50
    );

    // verify-chain on the replica: intact, all 50 links, nothing sealed there.
    let report = ok(&["verify-chain"], replica_db.url());
    assert!(
        report.contains("50 link(s) covering 100 event(s)"),
        "{report}"
    );
    assert!(report.contains("chain intact"), "{report}");

    // A purge on the primary (delete-only, and a state update moving the anchor) leaves the
    // replica's events in place; the PURGE entry and the moved anchor arrive.
    std::thread::sleep(Duration::from_millis(1500));
    let purged = ok(&["purge", "--older-than", "1 second"], primary_db.url());
    assert_eq!(
        count(
            &mut primary,
            "SELECT count(*) FROM auditlog WHERE operation <> 'PURGE'"
        ),
        0,
        "{purged}"
    );
    write(&mut primary, 51, 5);
    ok(&["seal-chain"], primary_db.url());
    let anchor = count(&mut primary, "SELECT anchor_seq FROM auditlog_chain_state");
    assert!(anchor > 1, "the purge moved the primary's anchor");
    let deadline = Instant::now() + Duration::from_secs(120);
    while count(&mut replica, "SELECT last_seq FROM auditlog_chain_state")
        != count(&mut primary, "SELECT last_seq FROM auditlog_chain_state")
    {
        assert!(Instant::now() < deadline, "the replica did not catch up");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(
        count(
            &mut replica,
            "SELECT count(*) FROM auditlog WHERE operation <> 'PURGE'"
        ),
        110,
        "the replica keeps what the primary purged, and has the new events"
    );
    assert_eq!(
        count(&mut replica, "SELECT anchor_seq FROM auditlog_chain_state"),
        anchor
    );
    let primary_report = ok(&["verify-chain"], primary_db.url());
    assert!(primary_report.contains("chain intact"), "{primary_report}");
    let report = ok(&["verify-chain"], replica_db.url());
    assert!(report.contains("chain intact"), "{report}");
    let links = count(&mut replica, "SELECT count(*) FROM auditlog_chain");
    assert!(
        report.contains(&format!("{links} link(s)")),
        "every link since the start verifies on the replica, purged ones too: {report}"
    );

    // The viewer and `history` run on the replica: a purged record's history, with its
    // context.
    let history = ok(&["history", "notes", "3"], replica_db.url());
    assert!(history.contains("edited 3"), "{history}");
    let (mut viewer, address) = common::serve(&replica_db, &["--bind", "127.0.0.1:0"]);
    let (status, body) = common::get(&address, "/record?table=public.notes&key=3", None);
    let _ = viewer.kill();
    let _ = viewer.wait();
    assert!(status.contains("200"), "{status}: {body}");
    assert!(body.contains("edited 3") && body.contains("u3"), "{body}");

    // seal-chain refuses on the replica: the primary seals.
    let out = cli(&["seal-chain"], Some(replica_db.url()));
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("the primary seals"),
        "{}",
        stderr(&out)
    );

    // An edit on the replica is found by verify-chain there.
    replica
        .batch_execute("UPDATE auditlog SET new_data = '{\"id\": 3, \"body\": \"forged\"}' WHERE record_id = '3' AND operation = 'INSERT'")
        .unwrap();
    let out = cli(&["verify-chain"], Some(replica_db.url()));
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(stdout(&out).contains("BROKEN link"), "{}", stdout(&out));

    // The application role exists on the primary; on the audit cluster it may not log in.
    let app = format!("{}_app", primary_db.name());
    primary
        .batch_execute(&format!("CREATE ROLE {app} LOGIN PASSWORD 'pw'"))
        .unwrap();
    replica
        .batch_execute(&format!("CREATE ROLE {app} NOLOGIN"))
        .unwrap();
    let as_app = common::url_as(replica_db.url(), &app, "pw");
    let refused = PgConnection::establish(&as_app).map(|_| ()).unwrap_err();
    assert!(
        refused.to_string().contains("not permitted to log in"),
        "{refused}"
    );
    PgConnection::establish(&common::url_as(primary_db.url(), &app, "pw"))
        .expect("the same role logs in on the primary");
    for (conn, _) in [(&mut primary, "primary"), (&mut replica, "replica")] {
        let _ = conn.batch_execute(&format!("DROP ROLE IF EXISTS {app}"));
    }
}
