//! `redact`: erased values are gone from every table and from the files on disk, the chain
//! still verifies and reports the redactions, and an edit without a redaction is still a
//! break — also for a chain sealed before the upgrade to payload version 2.

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{Bool, Text};

use crate::audited_notes;
use crate::chain::{chained, verify};
use crate::common::{cli, count, stderr, stdout};
use auditrum_diesel::AuditConfig;

/// A value no hash, id or other text of the test contains by chance.
const SECRET: &str = "zq-secret-mail@example.org";
const SECRET_USER: &str = "zq-user-7781";
const SECRET_IP: &str = "203.0.113.77";

/// Every context the log holds: the context rows, and those events carry themselves (one-row
/// statements, core schema 3).
const CONTEXTS: &str = "(SELECT context FROM auditlog_context \
     UNION ALL SELECT context FROM auditlog WHERE context IS NOT NULL) AS contexts";

fn redact(db: &auditrum_testdb::TestDatabase, args: &[&str]) -> (Option<i32>, String) {
    let mut all = vec!["redact"];
    all.extend(args);
    let out = cli(&all, Some(db.url()));
    (out.status.code(), stdout(&out) + &stderr(&out))
}

/// A chain whose record 3 holds the secret in two transactions, the second run by a user
/// with an IP address; the app then deletes the record (its erasure in its own table).
fn chained_with_secrets() -> (auditrum_testdb::TestDatabase, PgConnection) {
    let (db, mut conn) = chained();
    conn.batch_execute(&format!(
        "UPDATE notes SET body = '{SECRET}' WHERE id = 3;
         BEGIN; SET LOCAL auditrum.context = '{{\"user_id\": \"{SECRET_USER}\", \"client_ip\": \"{SECRET_IP}\", \"request_id\": \"r-1\"}}';
         UPDATE notes SET body = body || ' (verified)' WHERE id = 3;
         UPDATE notes SET body = 'other' WHERE id = 4; COMMIT;
         DELETE FROM notes WHERE id = 3;"
    ))
    .unwrap();
    (db, conn)
}

#[test]
fn a_record_redaction_erases_its_values_and_the_chain_still_verifies() {
    let (db, mut conn) = chained_with_secrets();
    let (code, text) = redact(
        &db,
        &["notes", "3", "--reason", "GDPR request 17", "--dry-run"],
    );
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("would erase"), "{text}");
    let holding =
        format!("SELECT count(*) FROM auditlog a WHERE to_jsonb(a)::text LIKE '%{SECRET}%'");
    assert_eq!(count(&mut conn, &holding), 3, "a dry run changes nothing");

    let (code, text) = redact(&db, &["notes", "3", "--reason", "GDPR request 17"]);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("recorded as REDACT event"), "{text}");
    // Every value of record 3's events is the marker now; the fact of each change remains.
    assert_eq!(
        count(
            &mut conn,
            "SELECT count(*) FROM auditlog WHERE record_id = '3'"
        ),
        5,
        "INSERT, three UPDATEs, DELETE: all kept"
    );
    assert_eq!(
        count(
            &mut conn,
            "SELECT count(*) FROM auditlog WHERE record_id = '3' AND COALESCE(new_data, old_data, diff)::text NOT LIKE '%\"$auditrum\": \"redacted\"%'"
        ),
        0
    );
    assert_eq!(count(&mut conn, &holding), 0);
    assert_eq!(
        count(
            &mut conn,
            "SELECT count(*) FROM auditlog WHERE record_id = '4' AND diff::text LIKE '%redacted%'"
        ),
        0,
        "another record is untouched"
    );
    // The REDACT event: who, why, which values; never the values.
    assert_eq!(count(&mut conn, "SELECT count(*) FROM auditlog WHERE operation = 'REDACT' AND new_data->>'reason' = 'GDPR request 17' AND new_data->>'by' = session_user"), 1);
    assert_eq!(count(&mut conn, &format!("SELECT count(*) FROM auditlog WHERE operation = 'REDACT' AND new_data::text LIKE '%{SECRET}%'")), 0);

    let (code, text) = verify(&db, &[]);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("chain intact"), "{text}");
    assert!(text.contains("redacted: "), "{text}");
    assert!(text.contains("by 1 REDACT event(s)"), "{text}");
    assert!(text.contains("reason: GDPR request 17"), "{text}");
    let (code, json) = verify(&db, &["--format", "json"]);
    assert_eq!(code, Some(0), "{json}");
    let report: serde_json::Value = serde_json::from_str(json.trim()).unwrap();
    let redacted = report["redacted_values"].as_i64().unwrap();
    assert!(redacted >= 6, "{json}");
    assert_eq!(
        report["redactions"][0]["values"].as_i64(),
        Some(redacted),
        "{json}"
    );

    // Twice: nothing left to erase, exit 0; a key that matches nothing: exit 1.
    let (code, text) = redact(&db, &["notes", "3", "--reason", "again"]);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("nothing left to erase"), "{text}");
    let (code, text) = redact(&db, &["notes", "999", "--reason", "typo"]);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("no recorded event matches"), "{text}");
    let (code, text) = redact(&db, &["notes", "3"]);
    assert_eq!(code, Some(2), "--reason is required: {text}");
}

#[test]
fn a_replaced_marker_and_an_edit_without_redaction_are_breaks() {
    let (db, mut conn) = chained_with_secrets();
    let (code, text) = redact(
        &db,
        &["notes", "3", "--fields", "body", "--reason", "request"],
    );
    assert_eq!(code, Some(0), "{text}");
    assert_eq!(verify(&db, &[]).0, Some(0));

    // A redacted value replaced by a made-up one.
    conn.batch_execute("UPDATE auditlog SET new_data = jsonb_set(new_data, '{body}', '\"made up\"') WHERE record_id = '3' AND operation = 'INSERT'")
        .unwrap();
    let (code, text) = verify(&db, &[]);
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains("something else stands in its place"),
        "{text}"
    );
    conn.batch_execute("UPDATE auditlog SET new_data = jsonb_set(new_data, '{body}', '{\"$auditrum\": \"redacted\"}') WHERE record_id = '3' AND operation = 'INSERT'")
        .unwrap();
    assert_eq!(verify(&db, &[]).0, Some(0), "restored");

    // A value of another record of the same link edited without a redaction.
    conn.batch_execute("UPDATE auditlog SET diff = '{\"body\": {\"old\": \"x\", \"new\": \"y\"}}' WHERE record_id = '4' AND operation = 'UPDATE' AND diff->'body'->>'new' = 'other'")
        .unwrap();
    let (code, text) = verify(&db, &[]);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("events hash changed"), "{text}");
}

#[test]
fn a_forged_redaction_is_a_break() {
    let (db, mut conn) = chained_with_secrets();
    // 3. A forged redaction of record 5: its salt is known, so its digest is right, but no
    //    sealed REDACT event lists it.
    conn.batch_execute(
        "DO $$ DECLARE ev bigint; seed text; BEGIN
           SELECT e.id INTO ev FROM auditlog e WHERE e.record_id = '5' AND e.operation = 'INSERT';
           SELECT encode(sha256(convert_to(l.seed::text || '|' || ev::text, 'UTF8')), 'hex') INTO seed
             FROM auditlog_chain l JOIN auditlog e ON e.txid = l.txid WHERE e.id = ev;
           INSERT INTO auditlog_chain_seed SELECT e.id, encode(sha256(convert_to(l.seed::text || '|' || e.id::text, 'UTF8')), 'hex')
             FROM auditlog e JOIN auditlog_chain l ON l.txid = e.txid WHERE l.txid = (SELECT txid FROM auditlog WHERE id = ev) AND e.id <> ev;
           INSERT INTO auditlog_chain_redaction (event_id, path, digest, redaction_id)
             SELECT ev, '[\"new_data\", \"body\"]', encode(sha256(convert_to(s || '|' || '[\"new_data\", \"body\"]' || '|' || (new_data->'body')::text, 'UTF8')), 'hex'), 1
             FROM auditlog, LATERAL (SELECT encode(sha256(convert_to(seed || '|' || '[\"new_data\", \"body\"]', 'UTF8')), 'hex') AS s) x WHERE id = ev;
           INSERT INTO auditlog_chain_redaction (event_id, path, salt)
             SELECT ev, p, encode(sha256(convert_to(seed || '|' || p, 'UTF8')), 'hex')
             FROM unnest(ARRAY['[\"record_id\"]', '[\"old_record_id\"]', '[\"diff\"]', '[\"old_data\"]', '[\"new_data\", \"id\"]', '[\"meta\"]', '[\"context\"]']) p;
           UPDATE auditlog_chain SET seed = NULL WHERE txid = (SELECT txid FROM auditlog WHERE id = ev);
           UPDATE auditlog SET new_data = jsonb_set(new_data, '{body}', '{\"$auditrum\": \"redacted\"}') WHERE id = ev;
         END $$;",
    )
    .unwrap();
    let (code, text) = verify(&db, &[]);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("not a sealed redaction listing it"), "{text}");
    assert!(
        !text.contains("events hash changed"),
        "the forgery hashes right, only the record is missing: {text}"
    );
}

#[test]
fn a_user_redaction_erases_the_identifying_keys_of_their_contexts() {
    let (db, mut conn) = chained_with_secrets();
    let (code, text) = redact(&db, &["--user", SECRET_USER, "--reason", "account closed"]);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("[\"context\", \"user_id\"]"), "{text}");
    assert_eq!(
        count(&mut conn, &format!("SELECT count(*) FROM {CONTEXTS} WHERE context::text LIKE '%{SECRET_USER}%' OR context::text LIKE '%{SECRET_IP}%'")),
        0
    );
    // The user's transaction made two one-row UPDATEs: each event carries the context.
    assert_eq!(
        count(&mut conn, &format!("SELECT count(*) FROM {CONTEXTS} WHERE context->>'request_id' = 'r-1' AND context->'user_id' = '{{\"$auditrum\": \"redacted\"}}'")),
        2,
        "other keys stay, the erased ones hold the marker"
    );
    assert_eq!(
        count(
            &mut conn,
            &format!("SELECT count(*) FROM {CONTEXTS} WHERE context->>'user_id' = 'alice'")
        ),
        1,
        "another user's context is untouched"
    );
    let (code, text) = verify(&db, &[]);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("redacted: "), "{text}");
    let (code, text) = redact(&db, &["--user", "nobody", "--reason", "x"]);
    assert_eq!(code, Some(1), "{text}");
}

/// Whether `needle` is in the files of any relation of the database (tables, TOAST,
/// indexes; catalogs included), read as the superuser the tests connect as.
fn on_disk(conn: &mut PgConnection, needle: &str) -> Vec<String> {
    #[derive(QueryableByName)]
    struct Found {
        #[diesel(sql_type = Text)]
        relation: String,
        #[diesel(sql_type = Bool)]
        found: bool,
    }
    // Dirty pages reach the files at a checkpoint.
    conn.batch_execute("CHECKPOINT").unwrap();
    let rows: Vec<Found> = diesel::sql_query(
        "SELECT c.oid::regclass::text AS relation,
                position(convert_to($1, 'UTF8') IN pg_read_binary_file(pg_relation_filepath(c.oid))) > 0 AS found
         FROM pg_class c
         WHERE c.relkind IN ('r', 't', 'i', 'm') AND pg_relation_filepath(c.oid) IS NOT NULL
           AND pg_relation_size(c.oid) > 0",
    )
    .bind::<Text, _>(needle)
    .load(conn)
    .unwrap();
    rows.into_iter()
        .filter(|r| r.found)
        .map(|r| r.relation)
        .collect()
}

/// Whether `needle` is in the text of any row of any user table.
fn in_tables(conn: &mut PgConnection, needle: &str) -> Vec<String> {
    #[derive(QueryableByName)]
    struct Table {
        #[diesel(sql_type = Text)]
        name: String,
    }
    let tables: Vec<Table> = diesel::sql_query(
        "SELECT format('%I.%I', schemaname, relname) AS name FROM pg_stat_user_tables",
    )
    .load(conn)
    .unwrap();
    tables
        .into_iter()
        .filter(|t| {
            count(
                conn,
                &format!(
                    "SELECT count(*) FROM {} t WHERE to_jsonb(t)::text LIKE '%{}%'",
                    t.name,
                    needle.replace('\'', "''")
                ),
            ) > 0
        })
        .map(|t| t.name)
        .collect()
}

#[test]
fn gone_means_gone_from_every_table_and_every_file() {
    let (db, mut conn) = chained_with_secrets();
    for needle in [SECRET, SECRET_USER, SECRET_IP] {
        assert!(
            !in_tables(&mut conn, needle).is_empty(),
            "{needle} is in the log before"
        );
        assert!(
            !on_disk(&mut conn, needle).is_empty(),
            "{needle} is on disk before"
        );
    }
    let (code, text) = redact(&db, &["notes", "3", "--reason", "request 1"]);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("VACUUM (FULL, ANALYZE)"), "{text}");
    let (code, text) = redact(&db, &["--user", SECRET_USER, "--reason", "request 1"]);
    assert_eq!(code, Some(0), "{text}");
    // The application's own erasure: the row is deleted (above), and its table's old row
    // versions rewritten away.
    conn.batch_execute("VACUUM FULL notes").unwrap();
    for needle in [SECRET, SECRET_USER, SECRET_IP] {
        assert_eq!(
            in_tables(&mut conn, needle),
            Vec::<String>::new(),
            "{needle} in a table"
        );
        let files = on_disk(&mut conn, needle);
        if !files.is_empty() {
            let out = cli(&["status"], Some(db.url()));
            let rows = count(&mut conn, "SELECT count(*) FROM notes WHERE id = 3");
            let xmins = count(
                &mut conn,
                "SELECT count(*) FROM pg_stat_activity WHERE backend_xmin IS NOT NULL",
            );
            panic!(
                "{needle} in {files:?}; notes rows {rows}; backends holding a snapshot {xmins}; {}",
                stdout(&out)
            );
        }
    }
    let (code, text) = verify(&db, &[]);
    assert_eq!(code, Some(0), "{text}");
}

/// A transaction in another database of the cluster, older than the redaction, pins the
/// xmin of every snapshot taken while it runs, that of `redact`'s own `VACUUM FULL` included:
/// the erased row versions would survive the rewrite. `redact` waits for it.
#[test]
fn redact_waits_for_an_older_transaction_in_another_database() {
    let (db, mut conn) = chained_with_secrets();
    let other = auditrum_testdb::TestDatabase::new();
    let mut older = other.connect();
    older
        .batch_execute("BEGIN; SELECT pg_current_xact_id();")
        .unwrap();
    let ends = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_secs(3));
        older.batch_execute("COMMIT").unwrap();
    });
    let (code, text) = redact(&db, &["--user", SECRET_USER, "--reason", "request 2"]);
    ends.join().unwrap();
    assert_eq!(code, Some(0), "{text}");
    assert!(
        text.contains("old row versions removed from disk"),
        "{text}"
    );
    assert_eq!(
        on_disk(&mut conn, SECRET_USER),
        Vec::<String>::new(),
        "{text}"
    );
}

#[test]
fn a_chain_sealed_before_the_upgrade_is_redacted_and_still_verifies() {
    let (db, mut conn) = audited_notes();
    // The chain as the previous version enabled and sealed it (payload version 1).
    conn.batch_execute(&format!(
        "BEGIN; {} COMMIT;",
        include_str!("fixtures/chain_v1_enable.sql")
    ))
    .unwrap();
    // Then the upgrade of the core schema from version 2, as this version generates it:
    // it re-creates the seal function, of payload version 1 still (the chain's tables are
    // not at version 2 yet), reading the context one-row events carry themselves.
    let from = auditrum_diesel::sql::CoreStamp {
        version: 2,
        hash: None,
    };
    let upgrade = auditrum_diesel::sql::upgrade_sql(&AuditConfig::default(), &from, &[]).unwrap();
    conn.batch_execute(&format!("BEGIN; {upgrade} COMMIT;"))
        .unwrap();
    // Separate batches: a batch with BEGIN would take the statements before it in.
    conn.batch_execute("INSERT INTO notes SELECT g, 'n' || g FROM generate_series(1, 5) g")
        .unwrap();
    conn.batch_execute(&format!(
        "BEGIN; SET LOCAL auditrum.context = '{{\"user_id\": \"{SECRET_USER}\"}}';
         UPDATE notes SET body = '{SECRET}' WHERE id = 2; COMMIT;"
    ))
    .unwrap();
    conn.batch_execute("SELECT auditlog_chain_seal()").unwrap();
    assert_eq!(count(&mut conn, "SELECT count(*) FROM auditlog_chain"), 2);
    let (code, text) = verify(&db, &[]);
    assert_eq!(code, Some(2), "today's verify asks for the upgrade: {text}");
    assert!(
        text.contains("run `auditrum-diesel enable-hash-chain` once"),
        "{text}"
    );

    let out = cli(&["enable-hash-chain"], Some(db.url()));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        count(
            &mut conn,
            "SELECT count(*) FROM auditlog_chain WHERE payload_version = 1"
        ),
        2
    );
    conn.batch_execute("UPDATE notes SET body = 'after' WHERE id = 1")
        .unwrap();
    let (code, text) = verify(&db, &[]);
    assert_eq!(
        code,
        Some(0),
        "old links verify, new ones are version 2: {text}"
    );
    assert_eq!(
        count(
            &mut conn,
            "SELECT count(*) FROM auditlog_chain WHERE payload_version = 2"
        ),
        1
    );

    let (code, text) = redact(&db, &["notes", "2", "--reason", "request 2"]);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("re-hashed for redaction"), "{text}");
    let (code, text) = redact(&db, &["--user", SECRET_USER, "--reason", "request 2"]);
    assert_eq!(code, Some(0), "{text}");
    assert_eq!(
        count(
            &mut conn,
            "SELECT count(*) FROM auditlog_chain WHERE payload_version = 3"
        ),
        2
    );
    let (code, text) = verify(&db, &[]);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("by 2 REDACT event(s)"), "{text}");
    assert_eq!(
        in_tables(&mut conn, SECRET),
        ["public.notes"],
        "only the app's own row"
    );

    // The re-hashed link still catches an edit.
    conn.batch_execute("UPDATE auditlog SET new_data = '{\"id\": 1, \"body\": \"forged\"}' WHERE record_id = '1' AND operation = 'INSERT'")
        .unwrap();
    let (code, text) = verify(&db, &[]);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("events hash changed"), "{text}");
}

#[test]
fn after_harden_only_the_admin_redacts_and_the_app_cannot_forge_a_redaction() {
    let (db, mut conn) = chained_with_secrets();
    let roles = crate::common::Roles::create(&db, "notes");
    let (app, admin) = (roles.app.clone(), roles.admin.clone());
    let out = cli(
        &["harden", "--app-role", &app, "--admin-role", &admin],
        Some(db.url()),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let mut as_app = PgConnection::establish(&roles.url_for(&app)).unwrap();
    for forbidden in [
        "INSERT INTO auditlog_chain_redaction (event_id, path, digest, redaction_id) VALUES (1, '[\"x\"]', 'd', 1)",
        "UPDATE auditlog_chain_redaction SET salt = 'x'",
        "INSERT INTO auditlog_chain_seed VALUES (1, 'x')",
        "DELETE FROM auditlog_chain_seed",
        "UPDATE auditlog_chain SET seed = NULL, payload_version = 3",
        "UPDATE auditlog SET new_data = '{\"$auditrum\": \"redacted\"}' WHERE record_id = '3'",
    ] {
        let error = as_app.batch_execute(forbidden).expect_err(forbidden).to_string();
        assert!(error.contains("permission denied"), "{forbidden}: {error}");
    }
    let as_app_cli = cli(
        &["redact", "notes", "3", "--reason", "app"],
        Some(&roles.url_for(&app)),
    );
    assert_eq!(as_app_cli.status.code(), Some(2), "{}", stdout(&as_app_cli));
    assert!(
        stderr(&as_app_cli).contains("permission denied"),
        "{}",
        stderr(&as_app_cli)
    );

    let as_admin = cli(
        &["redact", "notes", "3", "--reason", "request 3"],
        Some(&roles.url_for(&admin)),
    );
    assert_eq!(as_admin.status.code(), Some(0), "{}", stderr(&as_admin));
    assert_eq!(
        count(&mut conn, &format!("SELECT count(*) FROM auditlog WHERE operation = 'REDACT' AND new_data->>'by' = '{admin}'")),
        1
    );
    let (code, text) = verify(&db, &[]);
    assert_eq!(code, Some(0), "{text}");
}
