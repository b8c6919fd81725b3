//! The hash chain: a clean chain verifies; every kind of tampering is found and named.

use std::thread;

use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};

use crate::audited_notes;
use crate::common::{cli, count, stderr, stdout};

/// An audited table with the chain on and some history: 3 chained transactions (one with a
/// context), after one unchained event.
pub(crate) fn chained() -> (auditrum_testdb::TestDatabase, PgConnection) {
    let (db, mut conn) = audited_notes();
    conn.batch_execute("INSERT INTO notes VALUES (0, 'before the chain')")
        .unwrap();
    let out = cli(&["enable-hash-chain"], Some(db.url()));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        cli(&["enable-hash-chain"], Some(db.url())).status.code(),
        Some(0),
        "re-runnable"
    );
    // Three transactions (one batch with BEGIN would merge the statements before it).
    for sql in [
        "INSERT INTO notes SELECT g, 'n' || g FROM generate_series(1, 20) g",
        r#"BEGIN; SET LOCAL auditrum.context = '{"user_id": "alice"}';
           UPDATE notes SET body = body || '!' WHERE id <= 5; COMMIT;"#,
        "DELETE FROM notes WHERE id = 20",
    ] {
        conn.batch_execute(sql).unwrap();
    }
    let seal = cli(&["seal-chain"], Some(db.url()));
    assert_eq!(
        stdout(&seal).trim(),
        "sealed 3 transaction(s)",
        "{}",
        stderr(&seal)
    );
    (db, conn)
}

pub(crate) fn verify(db: &auditrum_testdb::TestDatabase, extra: &[&str]) -> (Option<i32>, String) {
    let mut args = vec!["verify-chain"];
    args.extend(extra);
    let out = cli(&args, Some(db.url()));
    (out.status.code(), stdout(&out) + &stderr(&out))
}

#[test]
fn a_clean_chain_verifies_and_older_events_are_unchained_not_broken() {
    let (db, _conn) = chained();
    let (code, text) = verify(&db, &[]);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("3 link(s) covering 27 event(s)"), "{text}");
    assert!(
        text.contains("1 event(s) from before the chain was enabled"),
        "{text}"
    );
}

#[test]
fn an_edited_event_is_found() {
    let (db, mut conn) = chained();
    conn.batch_execute(r#"UPDATE auditlog SET diff = '{"body": {"old": "x", "new": "y"}}' WHERE operation = 'UPDATE' AND record_id = '3'"#)
        .unwrap();
    let (code, text) = verify(&db, &[]);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("BROKEN link 2"), "{text}");
    assert!(text.contains("events hash changed"), "{text}");
    assert!(text.contains("found by server and client"), "{text}");
}

#[test]
fn an_edited_context_is_found() {
    let (db, mut conn) = chained();
    conn.batch_execute(r#"UPDATE auditlog_context SET context = '{"user_id": "mallory"}'"#)
        .unwrap();
    let (code, text) = verify(&db, &[]);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("BROKEN link 2"), "{text}");
}

#[test]
fn a_deleted_interior_event_is_found() {
    let (db, mut conn) = chained();
    conn.batch_execute("DELETE FROM auditlog WHERE operation = 'INSERT' AND record_id = '7'")
        .unwrap();
    let (code, text) = verify(&db, &[]);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("BROKEN link 1"), "{text}");
    assert!(text.contains("number of events changed"), "{text}");
}

#[test]
fn a_deleted_interior_link_is_found() {
    let (db, mut conn) = chained();
    conn.batch_execute("DELETE FROM auditlog_chain WHERE seq = 2")
        .unwrap();
    let (code, text) = verify(&db, &[]);
    assert_eq!(code, Some(1), "{text}");
    // Its transaction's events are then either linked nowhere or (when the next seal still
    // looks at that transaction) linked again at the end: the gap shows in both cases.
    assert!(text.contains("sequence number out of order"), "{text}");
}

#[test]
fn a_reordered_event_is_found() {
    let (db, mut conn) = chained();
    // Swap the order of two events of the first transaction: each takes the other's content.
    conn.batch_execute(
        "WITH a AS (SELECT * FROM auditlog WHERE operation = 'INSERT' AND record_id = '1'),
              b AS (SELECT * FROM auditlog WHERE operation = 'INSERT' AND record_id = '2')
         UPDATE auditlog e SET record_id = o.record_id, new_data = o.new_data
         FROM (SELECT a.id AS target, b.record_id, b.new_data FROM a, b
               UNION ALL SELECT b.id, a.record_id, a.new_data FROM a, b) o
         WHERE e.id = o.target",
    )
    .unwrap();
    let (code, text) = verify(&db, &[]);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("BROKEN link 1"), "{text}");
}

#[test]
fn a_deleted_tail_is_found_with_the_expected_tip() {
    let (db, mut conn) = chained();
    let tip = stdout(&cli(&["chain-tip"], Some(db.url())));
    assert!(tip.contains("\"seq\":3"), "{tip}");
    // Remove the last transaction: its events, its link, and rewind the head to match.
    conn.batch_execute(
        "DELETE FROM auditlog WHERE txid = (SELECT txid FROM auditlog_chain WHERE seq = 3);
         UPDATE auditlog_chain_state SET last_seq = 2, last_hash = (SELECT link_hash FROM auditlog_chain WHERE seq = 2);
         DELETE FROM auditlog_chain WHERE seq = 3;",
    )
    .unwrap();
    let (code, text) = verify(&db, &[]);
    assert_eq!(
        code,
        Some(0),
        "without a saved tip a clean cut is invisible: {text}"
    );
    let (code, text) = verify(&db, &["--expected-tip", tip.trim()]);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("expected tip's link is gone"), "{text}");
    // The tip can also come from a file.
    let file = std::env::temp_dir().join(format!("{}-tip.json", db.name()));
    std::fs::write(&file, tip.trim()).unwrap();
    let (code, _) = verify(&db, &["--expected-tip", file.to_str().unwrap()]);
    assert_eq!(code, Some(1));
    std::fs::remove_file(file).unwrap();
}

#[test]
fn a_deleted_tail_without_rewinding_the_head_is_found() {
    let (db, mut conn) = chained();
    conn.batch_execute(
        "DELETE FROM auditlog WHERE txid = (SELECT txid FROM auditlog_chain WHERE seq = 3);
         DELETE FROM auditlog_chain WHERE seq = 3;",
    )
    .unwrap();
    let (code, text) = verify(&db, &[]);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("not the chain head"), "{text}");
}

#[test]
fn a_bad_expected_tip_is_a_bad_argument() {
    let (db, _conn) = chained();
    let (code, text) = verify(&db, &["--expected-tip", "/no/such/file"]);
    assert_eq!(code, Some(2), "{text}");
    let (code, _) = verify(&db, &["--expected-tip", "{\"seq\": \"x\"}"]);
    assert_eq!(code, Some(2));
}

#[test]
fn verify_without_a_chain_is_refused() {
    let (db, _conn) = audited_notes();
    let (code, text) = verify(&db, &[]);
    assert_eq!(code, Some(2));
    assert!(text.contains("enable-hash-chain"), "{text}");
}

#[test]
fn concurrent_writers_and_rollbacks_leave_a_chain_that_verifies() {
    let (db, mut conn) = chained();
    let writers: Vec<_> = (0..8)
        .map(|w| {
            let url = db.url().to_owned();
            thread::spawn(move || {
                let mut conn = PgConnection::establish(&url).unwrap();
                for i in 0..500 {
                    let id = 1000 + w * 1000 + i;
                    let sql = if i % 10 == 9 {
                        format!("BEGIN; INSERT INTO notes VALUES ({id}, 'rolled back'); ROLLBACK;")
                    } else {
                        format!(
                            r#"BEGIN; SET LOCAL auditrum.context = '{{"user_id": "w{w}"}}';
                               INSERT INTO notes VALUES ({id}, 'x'); UPDATE notes SET body = 'y' WHERE id = {id}; COMMIT;"#
                        )
                    };
                    conn.batch_execute(&sql).unwrap();
                }
            })
        })
        .collect();
    for writer in writers {
        writer.join().unwrap();
    }
    assert!(cli(&["seal-chain"], Some(db.url())).status.success());
    assert_eq!(
        count(&mut conn, "SELECT count(*) FROM auditlog_chain"),
        3 + 8 * 450
    );
    assert_eq!(
        count(&mut conn, "SELECT max(seq) FROM auditlog_chain"),
        3 + 8 * 450,
        "no gap"
    );
    let (code, text) = verify(&db, &[]);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains(&format!("{} link(s)", 3 + 8 * 450)), "{text}");
}

#[test]
fn purge_cuts_the_chain_at_a_recorded_anchor_and_it_still_verifies() {
    let (db, mut conn) = chained();
    // Age the first two transactions (events, contexts and links) by three years.
    conn.batch_execute(
        "UPDATE auditlog SET changed_at = changed_at - interval '3 years'
           WHERE txid IN (SELECT txid FROM auditlog_chain WHERE seq <= 2) OR txid < (SELECT min(txid) FROM auditlog_chain);
         UPDATE auditlog_context SET created_at = created_at - interval '3 years';
         UPDATE auditlog_chain SET started_at = started_at - interval '3 years' WHERE seq <= 2;",
    )
    .unwrap();
    let out = cli(
        &["purge", "--older-than", "2 years", "--format", "json"],
        Some(db.url()),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(report["chain"]["keep_from_seq"], 3, "{report}");
    assert_eq!(report["deleted_events"], 1 + 20 + 6, "{report}");
    // The kept link, and the link of the purge's own PURGE event.
    assert_eq!(count(&mut conn, "SELECT count(*) FROM auditlog_chain"), 2);
    assert_eq!(report["chain_entry"]["anchor_seq"], 3, "{report}");
    let (code, text) = verify(&db, &[]);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("2 link(s) covering 2 event(s)"), "{text}");
    // Tampering after the cut is still found.
    conn.batch_execute("UPDATE auditlog SET record_id = '99'")
        .unwrap();
    assert_eq!(verify(&db, &[]).0, Some(1));
}

#[test]
fn after_harden_the_app_role_writes_chained_events_and_cannot_touch_the_chain() {
    let (db, _conn) = chained();
    let roles = crate::common::Roles::create(&db, "notes");
    let (app, admin) = (roles.app.clone(), roles.admin.clone());
    let out = cli(
        &["harden", "--app-role", &app, "--admin-role", &admin],
        Some(db.url()),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let mut as_app = PgConnection::establish(&roles.url_for(&app)).unwrap();
    as_app
        .batch_execute("INSERT INTO notes VALUES (500, 'app')")
        .unwrap();
    for forbidden in [
        "UPDATE auditlog_chain SET link_hash = 'x'",
        "DELETE FROM auditlog_chain",
        "UPDATE auditlog_chain_state SET last_seq = 0",
    ] {
        let error = as_app
            .batch_execute(forbidden)
            .expect_err(forbidden)
            .to_string();
        assert!(error.contains("permission denied"), "{forbidden}: {error}");
    }
    let (code, text) = verify(&db, &[]);
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.contains("4 link(s)"),
        "sealed by the admin's function: {text}"
    );
}

#[test]
fn events_of_a_running_transaction_are_pending_not_broken() {
    let (db, _conn) = chained();
    let mut open = PgConnection::establish(db.url()).unwrap();
    open.batch_execute("BEGIN; INSERT INTO notes VALUES (900, 'in flight')")
        .unwrap();
    let (code, text) = verify(&db, &[]);
    assert_eq!(code, Some(0), "{text}");
    open.batch_execute("COMMIT").unwrap();
    let (code, text) = verify(&db, &[]);
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.contains("4 link(s)"),
        "sealed once it committed: {text}"
    );
}
