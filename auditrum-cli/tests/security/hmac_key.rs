//! Issue 16: `track --mask/--hash`, and the key of hashed columns out of the application's
//! reach. After `harden`, the app's writes are still captured (the capture role may hash),
//! but the app role can neither read the key nor call the hash function (no oracle to test
//! guesses against the log's hashes); `status` shows what is protected; an operator who
//! may hash finds the events of a value with `history --where-hash`.

use diesel::connection::SimpleConnection;

use crate::{count, Scene};

#[test]
fn the_app_role_cannot_read_the_key_nor_hash_but_its_writes_are_hashed() {
    let mut scene = Scene::new();
    scene
        .as_app()
        .batch_execute(
            "CREATE TABLE app.people (id int PRIMARY KEY, email text, phone text, name text)",
        )
        .unwrap();
    let out = scene.run(&["track", "app.people", "--mask", "phone", "--hash", "email"]);
    assert_eq!(out.0, 0, "{}", out.2);
    assert!(
        out.2.contains("masked: phone") && out.2.contains("hashed: email"),
        "{}",
        out.2
    );
    scene.harden();

    let mut app = scene.as_app();
    app.batch_execute(
        "INSERT INTO app.people VALUES (1, 'ann@example.com', '+15550001', 'Ann');
         UPDATE app.people SET phone = '+15550002', email = 'ann@example.org';",
    )
    .expect("the app's audited writes work after harden");
    for attack in [
        "SELECT * FROM auditlog_hmac_key",
        "SELECT auditlog_hmac('ann@example.com')",
        "UPDATE auditlog_hmac_key SET created_at = now()",
        "DELETE FROM auditlog_hmac_key",
    ] {
        let error = app.batch_execute(attack).expect_err(attack).to_string();
        assert!(error.contains("permission denied"), "{attack}: {error}");
    }
    // Nothing in the log the app can read holds the values.
    let dump = |conn: &mut diesel::PgConnection| {
        count(
            conn,
            "SELECT count(*) FROM auditlog a WHERE a::text LIKE '%ann@example%' OR a::text LIKE '%+1555%'",
        )
    };
    assert_eq!(dump(&mut scene.operator), 0);
    assert_eq!(
        count(
            &mut scene.operator,
            "SELECT count(*) FROM auditlog WHERE table_name = 'people'"
        ),
        2
    );

    let (code, report) = scene.status();
    assert_eq!(code, 0, "{report}");
    assert!(
        report.contains("masked: phone") && report.contains("hashed: email"),
        "{report}"
    );

    // The operator (a superuser here) may hash: both events held the first address.
    let out = scene.ok(&[
        "history",
        "app.people",
        "--where-hash",
        "email=ann@example.com",
    ]);
    assert_eq!(out.matches("app.people 1").count(), 2, "{out}");
    assert!(out.contains("phone: ‹masked› → ‹masked›"), "{out}");
    assert!(out.contains("email: ‹hmac› → ‹hmac›"), "{out}");
    let out = scene.ok(&[
        "history",
        "app.people",
        "--where-hash",
        "email=nobody@example.com",
    ]);
    assert!(out.contains("no events"), "{out}");
    let (code, _, err) = scene.run(&["history", "app.people", "--where-hash", "name=Ann"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("not hashed"), "{err}");
    let (code, _, err) = scene.run(&["history", "app.people", "--where-hash", "email"]);
    assert_eq!(code, 2, "{err}");
}

#[test]
fn track_refuses_masking_a_key_column() {
    let scene = Scene::new();
    let (code, _, err) = scene.run(&["track", "app.items", "--mask", "id"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("primary-key column"), "{err}");
}
