//! Upgrading a database made with auditrum-diesel 0.1: the committed `fixture-0.1`
//! migrations (0.1's core schema and the capture it generated) run with the real `diesel`
//! command, events and contexts are written, the hash chain is sealed; then this version's
//! `makemigrations` writes an upgrade migration and `diesel migration run` applies it.
//! Afterwards every event reads as before, the chain verifies (the app's `verify-chain`
//! exits 0), new writes are captured by this version's triggers, and nothing is stale.

use std::fs;
use std::path::Path;
use std::process::Command;

use auditrum_diesel::migrations::Generator;
use auditrum_diesel::read::{as_of_json, blame};
use auditrum_diesel::sql::{CoreStamp, CORE_VERSION};
use auditrum_diesel::{history, ops, sync, AuditConfig, Audited};
use auditrum_integration_tests::{count, exec};
use auditrum_testdb::TestDatabase;
use chrono::Utc;
use diesel::{PgConnection, RunQueryDsl};

use crate::diesel_cli::diesel;
use crate::models::{v1, Membership};
use crate::{at, folders, registry};

const FIXTURE_0_1: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/fixture-0.1");

fn copy_fixture(to: &Path) {
    for folder in fs::read_dir(FIXTURE_0_1).unwrap() {
        let folder = folder.unwrap();
        let target = to.join(folder.file_name());
        fs::create_dir(&target).unwrap();
        for file in ["up.sql", "down.sql"] {
            fs::copy(folder.path().join(file), target.join(file)).unwrap();
        }
    }
}

/// Writes with a context per transaction: single-row writes and one bulk transaction.
fn write_events(conn: &mut PgConnection, round: &str) {
    exec(
        conn,
        &format!(
            "BEGIN; SET LOCAL auditrum.context = '{{\"user_id\": \"u1\", \"request_id\": \"{round}-1\"}}';
             INSERT INTO users (id, email, name, password_hash)
                 SELECT g + {base}, 'u' || g || '@x', 'User ' || g, 'h' FROM generate_series(1, 3) g;
             COMMIT;
             BEGIN; SET LOCAL auditrum.context = '{{\"user_id\": \"u2\", \"request_id\": \"{round}-2\"}}';
             UPDATE users SET name = name || ' ({round})' WHERE id = {base} + 1;
             COMMIT;
             BEGIN; SET LOCAL auditrum.context = '{{\"user_id\": \"u2\", \"request_id\": \"{round}-3\"}}';
             INSERT INTO app.memberships VALUES ({base} + 1, {base} + 1, 'admin', 7);
             UPDATE app.memberships SET role = 'owner' WHERE group_id = {base} + 1;
             DELETE FROM users WHERE id = {base} + 3;
             COMMIT;",
            base = if round == "before" { 0 } else { 100 },
        ),
    );
}

/// What the read side answers about the events written before the upgrade.
fn answers(conn: &mut PgConnection, config: &AuditConfig) -> Vec<String> {
    let now = Utc::now();
    let user = v1::User::track_spec();
    let mut out = Vec::new();
    for key in ["1", "2", "3"] {
        let events = history::record_history(conn, config, "public", "users", key).unwrap();
        out.push(format!("{events:?}"));
        out.push(format!(
            "{:?}",
            as_of_json(conn, config, &user, key, now).unwrap()
        ));
        out.push(format!(
            "{:?}",
            blame(conn, config, "users", key, None).unwrap()
        ));
    }
    let membership = history::record_history(conn, config, "app", "memberships", "[1, 1]");
    out.push(format!("{:?}", membership.unwrap()));
    out
}

/// The database as 0.1 left it, in `db`: 0.1's migrations (copied into `dir`) run with the
/// real `diesel`, the chain on with the seal function of the versions before core schema 3
/// (their canonical payload read the context row only; the upgrade must re-create it), and
/// events written and sealed. Returns what the read side answers about them, read with
/// core schema 3's `context` column added in a transaction that is rolled back (this
/// version's readers take the context an event carries itself; NULL on every 0.1 event).
fn database_as_0_1_left_it(
    db: &TestDatabase,
    conn: &mut PgConnection,
    config: &AuditConfig,
    dir: &Path,
) -> Vec<String> {
    copy_fixture(dir);
    diesel(&["migration", "run"], db.url(), dir);
    ops::chain::enable(conn, config).unwrap();
    exec(
        conn,
        "DO $t$ BEGIN EXECUTE replace(pg_get_functiondef('auditlog_chain_seal'::regproc), \
         'COALESCE(e.context, c.context)', 'c.context'); END $t$",
    );
    write_events(conn, "before");
    assert!(ops::chain::seal(conn, config).unwrap() > 0);
    exec(conn, "BEGIN; ALTER TABLE auditlog ADD COLUMN context jsonb");
    let before = answers(conn, config);
    exec(conn, "ROLLBACK");
    before
}

fn verify_chain_exit_code(url: &str) -> Option<i32> {
    let output = Command::new(env!("CARGO_BIN_EXE_audit-test-app"))
        .arg("verify-chain")
        .env("DATABASE_URL", url)
        .output()
        .expect("the app's audit binary runs");
    assert!(
        output.status.success(),
        "verify-chain: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output.status.code()
}

#[test]
fn a_0_1_database_upgrades_through_diesel_migration_run() {
    let db = TestDatabase::new();
    let mut conn = db.connect();
    let config = AuditConfig::default();
    let root = tempfile::tempdir().unwrap();
    let dir = root.path();
    let before = database_as_0_1_left_it(&db, &mut conn, &config, dir);
    let events_before = count(&mut conn, "SELECT count(*) FROM auditlog");
    assert_eq!(events_before, 7);
    assert_eq!(count(&mut conn, "SELECT count(*) FROM auditlog_context"), 3);

    // This version notices 0.1's core header and writes one upgrade migration.
    let models = registry([v1::User::track_spec(), Membership::track_spec()]);
    let generator = Generator::new(dir, models.clone());
    let plan = generator.plan().unwrap().to_string();
    assert!(
        plan.contains(&format!(
            "^ public.auditlog: core schema version 1 to {CORE_VERSION}"
        )),
        "{plan}"
    );
    let written = generator.generate(at("2026-06-01T00:00:00Z")).unwrap();
    assert_eq!(written.len(), 1, "{written:?}");
    assert!(folders(dir)
        .last()
        .unwrap()
        .ends_with("_auditrum_upgrade_core"));
    let up = fs::read_to_string(written[0].join("up.sql")).unwrap();
    assert!(up.starts_with(&format!(
        "-- auditrum: core public.auditlog v{CORE_VERSION} "
    )));
    generator.check().unwrap();

    diesel(&["migration", "run"], db.url(), dir);

    // Every event reads as before; nothing was lost or rewritten.
    assert_eq!(
        count(&mut conn, "SELECT count(*) FROM auditlog"),
        events_before
    );
    assert_eq!(answers(&mut conn, &config), before);
    assert_eq!(verify_chain_exit_code(db.url()), Some(0));

    // The core schema is this version's: stamped.
    let comment = diesel::dsl::sql::<diesel::sql_types::Text>(
        "obj_description('auditlog'::regclass, 'pg_class')",
    );
    let stamp: String = diesel::select(comment).get_result(&mut conn).unwrap();
    assert_eq!(
        CoreStamp::from_comment(&stamp),
        Some(CoreStamp::current(&config))
    );
    // Every tracked table's capture is this version's (txid once per statement).
    assert_eq!(
        count(
            &mut conn,
            "SELECT count(*) FROM pg_proc WHERE proname LIKE 'auditlog_%' \
             AND prosrc LIKE '%(SELECT txid_current())%'"
        ),
        8,
        "four capture functions for each of the two tables"
    );
    // The capture was reinstalled: the registry's checksums are this version's, so
    // `sync` (which reads the database, not the files) has nothing to do either.
    assert!(sync::plan(&mut conn, &models, &config).unwrap().is_empty());

    // New writes are captured, chained and verify across the upgrade.
    write_events(&mut conn, "after");
    assert_eq!(
        count(&mut conn, "SELECT count(*) FROM auditlog"),
        events_before * 2
    );
    // The new writes' one-row statements keep their context on the event (core schema 3).
    // (the three-row INSERT stores a context row; the four one-row statements do not).
    assert_eq!(count(&mut conn, "SELECT count(*) FROM auditlog_context"), 4);
    assert_eq!(
        count(
            &mut conn,
            "SELECT count(*) FROM auditlog WHERE context IS NOT NULL"
        ),
        4
    );
    assert!(ops::chain::seal(&mut conn, &config).unwrap() > 0);
    assert_eq!(verify_chain_exit_code(db.url()), Some(0));
    assert_eq!(answers(&mut conn, &config), before, "old records unchanged");
}

/// A log whose tables are tracked by hand (no migration files, no `sync`): `status` names
/// the 0.1 core schema as a problem, and `init-schema`'s upgrade
/// (`sync::install_or_upgrade_core`) runs the upgrade steps and reinstalls every tracked
/// table's capture, keeping every event readable and the chain verifying.
#[test]
fn a_0_1_database_upgrades_through_init_schema() {
    let db = TestDatabase::new();
    let mut conn = db.connect();
    let config = AuditConfig::default();
    let root = tempfile::tempdir().unwrap();
    let before = database_as_0_1_left_it(&db, &mut conn, &config, root.path());

    let status = ops::status::read(&mut conn, &config).unwrap();
    assert_eq!(status.core, CoreStamp::v0_1());
    assert!(
        status
            .problems
            .iter()
            .any(|p| p.contains("the core schema is version 1 (as 0.1 made it)")),
        "{:?}",
        status.problems
    );

    let report = sync::install_or_upgrade_core(&mut conn, &config).unwrap();
    assert_eq!(report.changes().len(), 1, "{report}");
    assert!(
        report.to_string().contains("core schema version 1 to"),
        "{report}"
    );
    let status = ops::status::read(&mut conn, &config).unwrap();
    assert_eq!(status.core, CoreStamp::current(&config));
    assert_eq!(status.problems, Vec::<String>::new());
    assert_eq!(
        count(
            &mut conn,
            "SELECT count(*) FROM pg_proc WHERE proname LIKE 'auditlog_%' \
             AND prosrc LIKE '%(SELECT txid_current())%'"
        ),
        8,
        "four capture functions for each of the two tables, this version's"
    );
    assert_eq!(answers(&mut conn, &config), before);
    assert_eq!(verify_chain_exit_code(db.url()), Some(0));
    // Running it again changes nothing.
    assert!(sync::install_or_upgrade_core(&mut conn, &config)
        .unwrap()
        .is_empty());
    write_events(&mut conn, "after");
    assert_eq!(count(&mut conn, "SELECT count(*) FROM auditlog"), 14);
    assert!(ops::chain::seal(&mut conn, &config).unwrap() > 0);
    assert_eq!(verify_chain_exit_code(db.url()), Some(0));
}
