//! Generated migrations embedded in the binary with `embed_migrations!` (the package's
//! `build.rs` has `cargo:rerun-if-changed=migrations/fixture`, so a regenerated fixture
//! is re-embedded).

use std::fs;
use std::path::Path;

use auditrum_diesel::migrations::Generator;
use auditrum_diesel::Audited;
use auditrum_integration_tests::{events_of, exec};
use auditrum_testdb::TestDatabase;
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};
use serde_json::json;

use crate::models::{v1, Membership, CREATE_TABLES, DROP_TABLES};
use crate::{at, registry};

const FIXTURE: EmbeddedMigrations = embed_migrations!("migrations/fixture");
const FIXTURE_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/fixture");
const REFRESH: &str = "AUDITRUM_REFRESH_FIXTURE";

fn fixture_generator() -> Generator {
    Generator::new(
        FIXTURE_DIR,
        registry([v1::User::track_spec(), Membership::track_spec()]),
    )
}

/// The committed fixture is what the generator writes for these models; with
/// `AUDITRUM_REFRESH_FIXTURE=1` this test writes what is missing.
#[test]
fn the_embedded_fixture_is_up_to_date() {
    if std::env::var_os(REFRESH).is_some() {
        let first = Path::new(FIXTURE_DIR).join("2020-01-01-000000_create_tables");
        fs::create_dir_all(&first).unwrap();
        fs::write(first.join("up.sql"), CREATE_TABLES).unwrap();
        fs::write(first.join("down.sql"), DROP_TABLES).unwrap();
        fixture_generator()
            .generate(at("2024-05-01T12:00:00Z"))
            .unwrap();
    }
    if let Err(error) = fixture_generator().check() {
        panic!(
            "{error}\nrefresh the fixture: {REFRESH}=1 cargo test -p auditrum-integration-tests \
             --test migrations the_embedded_fixture_is_up_to_date"
        );
    }
}

#[test]
fn embedded_migrations_run_audit_and_revert() {
    let db = TestDatabase::new();
    let mut conn = db.connect();
    let applied = conn.run_pending_migrations(FIXTURE).unwrap();
    assert_eq!(applied.len(), 4, "tables, core, memberships, users");
    exec(&mut conn, "INSERT INTO users VALUES (1, 'a@x', 'Ann', 'h')");
    let recorded = events_of(&mut conn, "users");
    assert_eq!(recorded.len(), 1);
    assert_eq!(
        recorded[0].new_data,
        Some(json!({"id": 1, "email": "a@x", "name": "Ann"}))
    );

    conn.revert_last_migration(FIXTURE).unwrap();
    exec(&mut conn, "UPDATE users SET name = 'Anne'");
    assert_eq!(events_of(&mut conn, "users").len(), 1, "users untracked");
    exec(
        &mut conn,
        "INSERT INTO app.memberships VALUES (1, 1, 'owner', 7)",
    );
    assert_eq!(events_of(&mut conn, "memberships").len(), 1);
}
