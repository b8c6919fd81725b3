//! Tampering that used to verify (issue 15): a moved anchor, a deleted chain state, a forged
//! backdated event, a rewritten chain caught by a witness file. Each ends in exit 1 naming
//! the break.

use diesel::connection::SimpleConnection;

use crate::chain::{chained, verify};
use crate::common::{cli, count, stderr, stdout};

/// `chain-tip`'s JSON.
fn tip(db: &auditrum_testdb::TestDatabase) -> String {
    let out = cli(&["chain-tip"], Some(db.url()));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    stdout(&out).trim().to_owned()
}

#[test]
fn the_tip_carries_the_anchor_and_the_purges() {
    let (db, _conn) = chained();
    let tip: serde_json::Value = serde_json::from_str(&tip(&db)).unwrap();
    assert_eq!(tip["seq"], 3, "{tip}");
    assert_eq!(tip["anchor_seq"], 1, "{tip}");
    assert_eq!(tip["anchor_hash"], "0".repeat(64), "{tip}");
    assert_eq!(tip["purges"], serde_json::json!([]), "{tip}");
}

/// Finding 1: delete the oldest link and its events, then move the anchor past them.
#[test]
fn a_moved_anchor_is_found_with_and_without_a_tip() {
    let (db, mut conn) = chained();
    let saved = tip(&db);
    conn.batch_execute(
        "DELETE FROM auditlog WHERE txid = (SELECT txid FROM auditlog_chain WHERE seq = 1);
         UPDATE auditlog_chain_state SET anchor_seq = 2,
                anchor_hash = (SELECT prev_hash FROM auditlog_chain WHERE seq = 2);
         DELETE FROM auditlog_chain WHERE seq = 1;",
    )
    .unwrap();
    let (code, text) = verify(&db, &[]);
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains("anchor was moved without a recorded purge"),
        "{text}"
    );
    let (code, text) = verify(&db, &["--expected-tip", &saved]);
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains("anchor was moved without a recorded purge"),
        "{text}"
    );
}

/// Finding 1, the whole chain: every link and event gone, the anchor moved past the tip.
#[test]
fn links_vanished_without_a_recorded_purge_are_found_with_the_tip() {
    let (db, mut conn) = chained();
    let saved = tip(&db);
    conn.batch_execute(
        "DELETE FROM auditlog WHERE txid IN (SELECT txid FROM auditlog_chain);
         UPDATE auditlog_chain_state SET anchor_seq = last_seq + 1, anchor_hash = last_hash;
         DELETE FROM auditlog_chain;",
    )
    .unwrap();
    let (code, text) = verify(&db, &["--expected-tip", &saved]);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("no recorded purge removed it"), "{text}");
}

/// A purge records its cut as a chained PURGE event, prints it, and a tip from before the
/// purge still verifies.
#[test]
fn a_purge_is_recorded_printed_and_explains_the_moved_anchor() {
    let (db, mut conn) = chained();
    let before = tip(&db);
    conn.batch_execute(
        "UPDATE auditlog SET changed_at = changed_at - interval '3 years'
           WHERE txid IN (SELECT txid FROM auditlog_chain WHERE seq <= 2) OR txid < (SELECT min(txid) FROM auditlog_chain);
         UPDATE auditlog_context SET created_at = created_at - interval '3 years';
         UPDATE auditlog_chain SET started_at = started_at - interval '3 years' WHERE seq <= 2;",
    )
    .unwrap();
    let out = cli(&["purge", "--older-than", "2 years"], Some(db.url()));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("hash chain: anchor 3 "), "{text}");
    assert!(text.contains("recorded as PURGE event"), "{text}");
    assert_eq!(
        count(
            &mut conn,
            "SELECT count(*) FROM auditlog e JOIN auditlog_chain l ON l.txid = e.txid
             WHERE e.operation = 'PURGE' AND e.new_data ->> 'anchor_seq' = '3'"
        ),
        1,
        "the PURGE event is chained"
    );
    let (code, text) = verify(&db, &["--expected-tip", &before]);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("1 purge(s) recorded"), "{text}");
    let after: serde_json::Value = serde_json::from_str(&tip(&db)).unwrap();
    assert_eq!(after["anchor_seq"], 3, "{after}");
    assert_eq!(after["purges"][0]["anchor_seq"], 3, "{after}");
    assert_eq!(after["purges"][0]["from_anchor_seq"], 1, "{after}");
}

/// Finding 3: the state row deleted is a break named as such (exit 1), not a database error.
#[test]
fn a_deleted_chain_state_is_named() {
    let (db, mut conn) = chained();
    let saved = tip(&db);
    conn.batch_execute("DELETE FROM auditlog_chain_state")
        .unwrap();
    for extra in [&[][..], &["--expected-tip", &saved]] {
        let (code, text) = verify(&db, extra);
        assert_eq!(code, Some(1), "{text}");
        assert!(text.contains("auditlog_chain_state"), "{text}");
        assert!(text.contains("is missing"), "{text}");
    }
    let status = cli(&["status"], Some(db.url()));
    assert_eq!(status.status.code(), Some(1), "{}", stdout(&status));
    assert!(
        stdout(&status).contains("auditlog_chain_state"),
        "{}",
        stdout(&status)
    );
    let tip = cli(&["chain-tip"], Some(db.url()));
    assert_eq!(tip.status.code(), Some(2));
    assert!(stderr(&tip).contains("is missing"), "{}", stderr(&tip));
}

/// The chain's tables dropped: with a tip that proves there was a chain, a break.
#[test]
fn dropped_chain_tables_are_a_break_given_a_tip() {
    let (db, mut conn) = chained();
    let saved = tip(&db);
    conn.batch_execute("DROP TABLE auditlog_chain, auditlog_chain_state")
        .unwrap();
    let (code, text) = verify(&db, &["--expected-tip", &saved]);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("are gone"), "{text}");
}

/// Finding 2, inside a real transaction: the forged event's time is not its transaction's.
#[test]
fn a_backdated_event_in_a_real_transaction_is_found() {
    let (db, mut conn) = chained();
    conn.batch_execute(
        r#"BEGIN; SET LOCAL auditrum.context = '{"user_id": "mallory"}';
           UPDATE notes SET body = 'real' WHERE id = 1;
           INSERT INTO auditlog (changed_at, operation, table_schema, table_name, record_id, new_data, txid)
           VALUES (now() - interval '30 days', 'INSERT', 'public', 'notes', '999', '{"id": 999}', txid_current());
           COMMIT;"#,
    )
    .unwrap();
    let (code, text) = verify(&db, &[]);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("backdated?"), "{text}");
    assert!(text.contains("BROKEN link 4"), "{text}");
}

/// Finding 2, with the context function: its context row records the real start.
#[test]
fn a_backdated_event_with_a_context_is_found() {
    let (db, mut conn) = chained();
    conn.batch_execute(
        r#"BEGIN; SET LOCAL auditrum.context = '{"user_id": "mallory"}';
           INSERT INTO auditlog (changed_at, operation, table_schema, table_name, record_id, new_data, txid, context_id)
           VALUES (now() - interval '30 days', 'INSERT', 'public', 'notes', '999', '{"id": 999}', txid_current(), auditlog_context_id());
           COMMIT;"#,
    )
    .unwrap();
    let (code, text) = verify(&db, &[]);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("its context row records"), "{text}");
}

/// Finding 2, a forger's transaction of its own without context: only commit timestamps
/// can tell (tested with them on in `seal_watch.rs`); without, the report says what it
/// could not check.
#[test]
fn a_bare_backdated_transaction_needs_commit_timestamps() {
    let (db, mut conn) = chained();
    conn.batch_execute(
        "INSERT INTO auditlog (changed_at, operation, table_schema, table_name, record_id, new_data, txid)
         VALUES (now() - interval '30 days', 'INSERT', 'public', 'notes', '999', '{\"id\": 999}', txid_current())",
    )
    .unwrap();
    let (code, text) = verify(&db, &[]);
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.contains("checked within transactions only (track_commit_timestamp is off)"),
        "{text}"
    );
}

/// Witnesses: every tip of the file must be a prefix of today's chain. A superuser who
/// rewrites an old event and re-seals a self-consistent chain passes a plain verify, not a
/// witness.
#[test]
fn a_rewritten_chain_is_found_by_the_witness_file() {
    let (db, mut conn) = chained();
    let file = std::env::temp_dir().join(format!("{}-witness.jsonl", db.name()));
    let _ = std::fs::remove_file(&file);
    let append = |db: &auditrum_testdb::TestDatabase| {
        let out = cli(
            &["chain-tip", "--append", file.to_str().unwrap()],
            Some(db.url()),
        );
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    };
    append(&db);
    conn.batch_execute("INSERT INTO notes VALUES (100, 'later')")
        .unwrap();
    append(&db);
    let lines = std::fs::read_to_string(&file).unwrap();
    assert_eq!(lines.lines().count(), 2, "{lines}");
    let (code, text) = verify(&db, &["--witness", file.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{text}");

    // Rewrite history: edit an old event, drop every link and re-seal from scratch.
    conn.batch_execute(
        "UPDATE auditlog SET new_data = '{\"id\": 7, \"body\": \"forged\"}'
           WHERE operation = 'INSERT' AND record_id = '7';
         DELETE FROM auditlog_chain;
         UPDATE auditlog_chain_state SET last_seq = 0, last_hash = repeat('0', 64), sealed_below_txid = 0;",
    )
    .unwrap();
    let (code, text) = verify(&db, &[]);
    assert_eq!(code, Some(0), "self-consistent without a witness: {text}");
    let (code, text) = verify(&db, &["--witness", file.to_str().unwrap()]);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("expected tip's link was rewritten"), "{text}");

    let (code, text) = verify(&db, &["--witness", "/no/such/witness"]);
    assert_eq!(code, Some(2), "{text}");
    std::fs::remove_file(file).unwrap();
}

/// `seal-chain --watch` refuses at once (exit 2) when the chain is not enabled, rather than
/// retrying forever; a database restart later is retried (`seal_watch.rs`).
#[test]
fn the_watcher_exits_2_when_it_cannot_start() {
    let (db, _conn) = crate::audited_notes();
    let out = cli(&["seal-chain", "--watch"], Some(db.url()));
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("enable-hash-chain"),
        "{}",
        stderr(&out)
    );
}
