//! `mask(...)` and `hash(...)` at write: what the log holds, and finding events by a hashed
//! value (issue 16, "At write, per column").

use auditrum_diesel::read::protected::{protected, Protected};
use auditrum_diesel::read::{hashed_events, ReadError};
use auditrum_diesel::{AuditConfig, Audited, Operation, StorageMode, TrackSpec};
use auditrum_integration_tests::*;
use diesel::prelude::*;
use serde_json::json;
use sha2::{Digest, Sha256};

fn spec(storage: StorageMode) -> TrackSpec {
    TrackSpec::builder("people")
        .columns(["id", "email", "phone", "name"])
        .mask(["phone"])
        .hash(["email"])
        .meta(["email"])
        .storage(storage)
        .build()
        .unwrap()
}

fn setup(storage: StorageMode) -> (auditrum_testdb::TestDatabase, PgConnection) {
    let (db, mut conn) = audited_database();
    exec(
        &mut conn,
        "CREATE TABLE people (id int PRIMARY KEY, email text, phone text, name text)",
    );
    track(&mut conn, &spec(storage));
    (db, conn)
}

/// Every stored byte of the log's rows (and their contexts), as text.
fn log_text(conn: &mut PgConnection) -> String {
    #[derive(QueryableByName)]
    struct Text {
        #[diesel(sql_type = diesel::sql_types::Text)]
        t: String,
    }
    diesel::sql_query(
        "SELECT coalesce(string_agg(a::text, E'\\n'), '') || coalesce((SELECT string_agg(c::text, E'\\n') FROM auditlog_context c), '') AS t FROM auditlog a",
    )
    .get_result::<Text>(conn)
    .unwrap()
    .t
}

#[test]
fn masked_and_hashed_values_never_reach_the_log_but_their_changes_do() {
    for storage in [StorageMode::Diff, StorageMode::Full] {
        let (_db, mut conn) = setup(storage);
        exec(
            &mut conn,
            "INSERT INTO people VALUES (1, 'ann@example.com', '+15550001', 'Ann');
             UPDATE people SET phone = '+15550002', email = 'ann@example.org' WHERE id = 1;
             UPDATE people SET name = 'Anna' WHERE id = 1;
             DELETE FROM people WHERE id = 1;",
        );
        let text = log_text(&mut conn);
        for raw in [
            "ann@example.com",
            "ann@example.org",
            "+15550001",
            "+15550002",
        ] {
            assert!(
                !text.contains(raw),
                "{storage:?}: {raw} is in the log:\n{text}"
            );
        }
        assert!(
            text.contains("Anna"),
            "unprotected columns are kept: {text}"
        );

        let events = events_of(&mut conn, "people");
        let ops: Vec<Operation> = events.iter().map(|e| e.operation).collect();
        assert_eq!(
            ops,
            [
                Operation::Insert,
                Operation::Update,
                Operation::Update,
                Operation::Delete
            ]
        );
        let inserted = events[0].new_data.as_ref().unwrap();
        assert_eq!(inserted["phone"], Protected::masked_json());
        assert!(matches!(
            protected(&inserted["email"]),
            Some(Protected::Hashed(_))
        ));
        assert_eq!(events[0].meta.as_ref().unwrap()["email"], inserted["email"]);

        // The phone change is recorded, as masked on both sides; the email as two hashes.
        let diff = events[1].diff.as_ref().unwrap();
        assert_eq!(
            diff["phone"],
            change(Protected::masked_json(), Protected::masked_json())
        );
        assert_ne!(diff["email"]["old"], diff["email"]["new"]);
        assert_eq!(diff["email"]["old"], inserted["email"]);
        assert!(diff.get("name").is_none());
        if storage == StorageMode::Full {
            assert_eq!(
                events[1].old_data.as_ref().unwrap()["phone"],
                Protected::masked_json()
            );
            assert_eq!(
                events[1].new_data.as_ref().unwrap()["email"],
                diff["email"]["new"]
            );
        }
        // An update of an unprotected column only: no phone or email entry.
        let diff = events[2].diff.as_ref().unwrap();
        assert_eq!(diff, &json!({"name": change(json!("Ann"), json!("Anna"))}));
        let deleted = events[3].old_data.as_ref().unwrap();
        assert_eq!(deleted["phone"], Protected::masked_json());
        assert_eq!(deleted["email"], diff_email_new(&events[1]));
    }
}

fn diff_email_new(event: &Event) -> serde_json::Value {
    event.diff.as_ref().unwrap()["email"]["new"].clone()
}

#[test]
fn a_masked_null_is_masked_and_a_hashed_null_stays_null() {
    let (_db, mut conn) = setup(StorageMode::Diff);
    exec(&mut conn, "INSERT INTO people VALUES (1, NULL, NULL, 'x')");
    let event = &events_of(&mut conn, "people")[0];
    let data = event.new_data.as_ref().unwrap();
    assert_eq!(data["phone"], Protected::masked_json());
    assert_eq!(data["email"], json!(null));
}

#[test]
fn the_hash_is_hmac_sha256_as_rfc_4231_computes_it() {
    let (_db, mut conn) = setup(StorageMode::Diff);
    // RFC 4231 test case 2: key "Jefe". Install its padded forms in place of the random key.
    let mut padded = b"Jefe".to_vec();
    padded.resize(64, 0);
    let pad = |byte: u8| hex::encode(padded.iter().map(|b| b ^ byte).collect::<Vec<_>>());
    exec(
        &mut conn,
        &format!(
            "UPDATE auditlog_hmac_key SET inner_pad = '\\x{}', outer_pad = '\\x{}'",
            pad(0x36),
            pad(0x5c)
        ),
    );
    #[derive(QueryableByName)]
    struct Hash {
        #[diesel(sql_type = diesel::sql_types::Text)]
        h: String,
    }
    let hash: Hash = diesel::sql_query("SELECT auditlog_hmac('what do ya want for nothing?') AS h")
        .get_result(&mut conn)
        .unwrap();
    assert_eq!(
        hash.h,
        "hmac-sha256:5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    );
}

#[test]
fn the_key_is_random_and_made_once() {
    let (_db, mut conn) = setup(StorageMode::Diff);
    let key = |conn: &mut PgConnection| {
        count(conn, "SELECT count(*) FROM auditlog_hmac_key") * 1000
            + count(conn, "SELECT get_byte(inner_pad, 0) FROM auditlog_hmac_key")
    };
    let first = key(&mut conn);
    // Re-installing (a second hashed table, the same one again) keeps the key.
    exec(&mut conn, "CREATE TABLE other (id int PRIMARY KEY, v text)");
    track(
        &mut conn,
        &TrackSpec::builder("other")
            .columns(["id", "v"])
            .hash(["v"])
            .build()
            .unwrap(),
    );
    track(&mut conn, &spec(StorageMode::Diff));
    assert_eq!(key(&mut conn), first);
    assert_eq!(first / 1000, 1, "one key row");
    // Not a fixed key: the digest of a value differs from one made with an all-zero key.
    let zero_key_digest = {
        let inner = Sha256::new()
            .chain_update([0x36u8; 64])
            .chain_update(b"x")
            .finalize();
        hex::encode(
            Sha256::new()
                .chain_update([0x5cu8; 64])
                .chain_update(inner)
                .finalize(),
        )
    };
    assert_ne!(
        count(
            &mut conn,
            &format!("SELECT (auditlog_hmac('x') = 'hmac-sha256:{zero_key_digest}')::int")
        ),
        1
    );
}

#[test]
fn a_hash_lookup_finds_exactly_the_events_that_held_the_value() {
    let (_db, mut conn) = setup(StorageMode::Diff);
    exec(
        &mut conn,
        "INSERT INTO people VALUES (1, 'ann@example.com', NULL, 'Ann'), (2, 'bob@example.com', NULL, 'Bob');
         UPDATE people SET email = 'ann@example.org' WHERE id = 1;
         UPDATE people SET name = 'Bobby' WHERE id = 2;
         UPDATE people SET email = 'ann@example.com' WHERE id = 2;
         DELETE FROM people WHERE id = 1;",
    );
    let config = AuditConfig::default();
    let ids = |conn: &mut PgConnection, value: &str| -> Vec<(Option<String>, Operation)> {
        hashed_events(conn, &config, "people", "email", value)
            .unwrap()
            .into_iter()
            .map(|e| (e.event.record_id, e.event.operation))
            .collect()
    };
    let one = || Some("1".to_owned());
    let two = || Some("2".to_owned());
    assert_eq!(
        ids(&mut conn, "ann@example.com"),
        [
            (one(), Operation::Insert),
            (one(), Operation::Update),
            (two(), Operation::Update)
        ]
    );
    assert_eq!(
        ids(&mut conn, "ann@example.org"),
        [(one(), Operation::Update), (one(), Operation::Delete)]
    );
    // Bob's rename carries his (hashed) email in `meta`, so it is found too.
    assert_eq!(
        ids(&mut conn, "bob@example.com"),
        [
            (two(), Operation::Insert),
            (two(), Operation::Update),
            (two(), Operation::Update)
        ]
    );
    assert!(ids(&mut conn, "nobody@example.com").is_empty());
    let error = hashed_events(&mut conn, &config, "people", "name", "Ann").unwrap_err();
    assert!(matches!(error, ReadError::NotHashed { .. }), "{error}");
}

#[test]
fn mask_and_hash_change_the_fingerprint_and_are_checked() {
    let base = TrackSpec::builder("people").columns(["id", "email", "phone"]);
    let plain = base.clone().build().unwrap();
    let masked = base.clone().mask(["phone"]).build().unwrap();
    let hashed = base.clone().hash(["phone"]).build().unwrap();
    assert_ne!(plain.fingerprint(), masked.fingerprint());
    assert_ne!(masked.fingerprint(), hashed.fingerprint());
    assert!(
        !plain.to_json().contains("mask"),
        "unset options stay out of the JSON"
    );

    for (builder, problem) in [
        (base.clone().mask(["id"]), "primary-key column"),
        (
            base.clone().mask(["phone"]).hash(["phone"]),
            "both masked and hashed",
        ),
        (
            base.clone().exclude(["phone"]).hash(["phone"]),
            "not audited",
        ),
        (
            base.clone().track_only(["email"]).mask(["phone"]),
            "not audited",
        ),
        (base.clone().hash(["fax"]), "unknown column"),
    ] {
        let error = builder.build().unwrap_err().to_string();
        assert!(error.contains(problem), "{error}");
    }
    // A meta column may be hashed even when its changes are not tracked.
    base.track_only(["email"])
        .meta(["phone"])
        .hash(["phone"])
        .build()
        .unwrap();
}

#[test]
fn revert_refuses_an_event_whose_values_are_masked_or_hashed() {
    use auditrum_diesel::read::{revert, RevertOptions, RevertTarget};
    let (_db, mut conn) = setup(StorageMode::Diff);
    exec(
        &mut conn,
        "INSERT INTO people VALUES (1, 'ann@example.com', '+15550001', 'Ann');
         UPDATE people SET phone = '+15550002' WHERE id = 1;",
    );
    let update = events_of(&mut conn, "people")[1].id;
    let error = revert(
        &mut conn,
        &AuditConfig::default(),
        &RevertTarget::Event(update),
        RevertOptions::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(
        error.contains("phone") && error.contains("‹masked›"),
        "{error}"
    );
    assert_eq!(
        count(
            &mut conn,
            "SELECT count(*) FROM people WHERE phone = '+15550002'"
        ),
        1,
        "nothing was written"
    );
}

#[test]
fn verify_history_accepts_masked_and_hashed_columns_and_still_sees_the_others() {
    use auditrum_diesel::read::{verify_history, VerifyOptions};
    let (_db, mut conn) = setup(StorageMode::Diff);
    exec(
        &mut conn,
        "INSERT INTO people VALUES (1, 'ann@example.com', '+15550001', 'Ann');
         UPDATE people SET phone = '+15550002', email = 'ann@example.org';",
    );
    let options = VerifyOptions {
        table: Some("people".into()),
        allow_unlogged: false,
    };
    let report = verify_history(&mut conn, &AuditConfig::default(), &options).unwrap();
    assert!(report.findings.is_empty(), "{:?}", report.findings);
    exec(
        &mut conn,
        "ALTER TABLE people DISABLE TRIGGER USER; UPDATE people SET name = 'Eve'; ALTER TABLE people ENABLE TRIGGER USER;",
    );
    let report = verify_history(&mut conn, &AuditConfig::default(), &options).unwrap();
    let columns: Vec<_> = report.findings.iter().map(|f| f.column.clone()).collect();
    assert_eq!(columns, [Some("name".to_owned())]);
}

diesel::table! {
    people (id) {
        id -> Integer,
        email -> Nullable<Text>,
        phone -> Nullable<Text>,
        name -> Nullable<Text>,
    }
}

/// The people table as a model, with the same protection as [`spec`].
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Audited)]
#[diesel(table_name = people)]
#[audited(mask(phone), hash(email))]
struct Person {
    id: i32,
    email: Option<String>,
    phone: Option<String>,
    name: Option<String>,
}

/// A model cannot hold a marker: the typed `as_of` of a row the log holds with masked and
/// hashed values says so (and which columns), where it used to fail deserializing (or, for
/// a hashed text, pass the hash off as the value); `as_of_json` shows the markers.
#[test]
fn typed_as_of_names_the_columns_the_log_holds_only_as_markers() {
    use auditrum_diesel::read::{as_of_in, as_of_json};
    let (_db, mut conn) = audited_database();
    exec(
        &mut conn,
        "CREATE TABLE people (id int PRIMARY KEY, email text, phone text, name text)",
    );
    track(&mut conn, &Person::track_spec());
    exec(
        &mut conn,
        "INSERT INTO people VALUES (1, 'ann@example.com', '+15550001', 'Ann'),
                                   (2, 'bob@example.com', '+15550002', 'Bob');",
    );
    let config = AuditConfig::default();
    let before = chrono::Utc::now();
    std::thread::sleep(std::time::Duration::from_millis(20));
    exec(&mut conn, "DELETE FROM people WHERE id = 1");

    match as_of_in::<Person>(&mut conn, &config, 1, before) {
        Err(ReadError::ProtectedColumns { columns, .. }) => assert_eq!(columns, "email, phone"),
        other => panic!("expected ProtectedColumns, got {other:?}"),
    }
    let json = as_of_json(&mut conn, &config, &Person::track_spec(), "1", before)
        .unwrap()
        .unwrap();
    assert_eq!(json["phone"], Protected::masked_json());
    assert_eq!(json["name"], "Ann");

    // Still live: the rebuilt row is the log's, which holds markers for these columns too.
    assert!(matches!(
        as_of_in::<Person>(&mut conn, &config, 2, before),
        Err(ReadError::ProtectedColumns { .. })
    ));
}
