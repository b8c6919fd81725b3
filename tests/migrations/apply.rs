//! Generated migrations applied and reverted with `diesel_migrations` on a real database;
//! every assertion is on what writes through Diesel leave in the audit log.

use auditrum_diesel::migrations::Generator;
use auditrum_diesel::{Audited, Operation};
use auditrum_integration_tests::{change, count, events, events_of, exec};
use auditrum_testdb::TestDatabase;
use diesel::prelude::*;
use serde_json::json;

use crate::models::{memberships, users, v1, v2, Membership};
use crate::{app_migrations, at, folders, registry, revert_last, run_pending};

fn insert_ann(conn: &mut PgConnection) {
    diesel::insert_into(users::table)
        .values(&v1::User {
            id: 1,
            email_address: "ann@example.com".into(),
            name: "Ann".into(),
            password_hash: "h1".into(),
        })
        .execute(conn)
        .unwrap();
}

fn rename(conn: &mut PgConnection, name: &str) {
    diesel::update(users::table.find(1))
        .set((
            users::name.eq(name),
            users::password_hash.eq(format!("h-{name}")),
        ))
        .execute(conn)
        .unwrap();
}

fn set_email(conn: &mut PgConnection, email: &str) {
    diesel::update(users::table.find(1))
        .set(users::email.eq(email))
        .execute(conn)
        .unwrap();
}

#[test]
fn generated_migrations_audit_writes_through_diesel_under_the_column_names() {
    let db = TestDatabase::new();
    let mut conn = db.connect();
    let dir = app_migrations();
    Generator::new(dir.path(), registry([v1::User::track_spec()]))
        .generate(at("2024-05-01T12:00:00Z"))
        .unwrap();
    assert_eq!(run_pending(&mut conn, dir.path()), 3);

    insert_ann(&mut conn);
    rename(&mut conn, "Anne");
    let events = events(&mut conn);
    assert_eq!(events.len(), 2);
    assert_eq!(events[0].operation, Operation::Insert);
    assert_eq!(events[0].record_id.as_deref(), Some("1"));
    // The field `email_address` is audited as its column, `email`; the hash is excluded.
    assert_eq!(
        events[0].new_data,
        Some(json!({"id": 1, "email": "ann@example.com", "name": "Ann"}))
    );
    assert_eq!(events[1].operation, Operation::Update);
    assert_eq!(
        events[1].diff,
        Some(json!({"name": change(json!("Ann"), json!("Anne"))}))
    );
}

#[test]
fn changing_track_only_adds_one_migration_and_reverting_it_restores_the_old_behaviour() {
    let db = TestDatabase::new();
    let mut conn = db.connect();
    let dir = app_migrations();
    Generator::new(dir.path(), registry([v1::User::track_spec()]))
        .generate(at("2024-05-01T12:00:00Z"))
        .unwrap();
    run_pending(&mut conn, dir.path());
    insert_ann(&mut conn);

    // The model is edited to `track_only(email_address)` and the migrations regenerated.
    let before = folders(dir.path());
    let written = Generator::new(dir.path(), registry([v2::User::track_spec()]))
        .generate(at("2024-06-01T12:00:00Z"))
        .unwrap();
    assert_eq!(written.len(), 1);
    assert_eq!(folders(dir.path()).len(), before.len() + 1);
    assert_eq!(run_pending(&mut conn, dir.path()), 1);

    // New behaviour: a rename is no longer recorded, an email change is.
    let seen = events(&mut conn).len();
    rename(&mut conn, "Anne");
    assert_eq!(events(&mut conn).len(), seen, "name is not tracked by v2");
    set_email(&mut conn, "anne@example.com");
    let after_v2 = events(&mut conn);
    assert_eq!(after_v2.len(), seen + 1);
    assert_eq!(
        after_v2.last().unwrap().diff,
        Some(json!({"email": change(json!("ann@example.com"), json!("anne@example.com"))}))
    );

    // `down.sql` puts v1's triggers back: renames are recorded again.
    revert_last(&mut conn, dir.path());
    rename(&mut conn, "Annie");
    let after_revert = events(&mut conn);
    assert_eq!(after_revert.len(), seen + 2);
    assert_eq!(
        after_revert.last().unwrap().diff,
        Some(json!({"name": change(json!("Anne"), json!("Annie"))}))
    );
    assert_eq!(
        count(
            &mut conn,
            &format!(
                "SELECT count(*) FROM auditlog_tracked WHERE fingerprint = '{}'",
                v1::User::track_spec().fingerprint()
            )
        ),
        1,
        "the registry table records v1 again"
    );
}

#[test]
fn removing_a_model_uninstalls_its_triggers_and_reverting_reinstalls_them() {
    let db = TestDatabase::new();
    let mut conn = db.connect();
    let dir = app_migrations();
    Generator::new(
        dir.path(),
        registry([v1::User::track_spec(), Membership::track_spec()]),
    )
    .generate(at("2024-05-01T12:00:00Z"))
    .unwrap();
    run_pending(&mut conn, dir.path());
    let member = |group_id, role: &str| Membership {
        group_id,
        user_id: 1,
        role: role.into(),
        tenant_id: 7,
    };
    diesel::insert_into(memberships::table)
        .values(&vec![member(1, "owner"), member(2, "guest")])
        .execute(&mut conn)
        .unwrap();
    // The condition leaves the guest out; `meta` carries the tenant.
    let recorded = events_of(&mut conn, "memberships");
    assert_eq!(recorded.len(), 1);
    assert_eq!(recorded[0].record_id.as_deref(), Some("[1, 1]"));
    assert_eq!(recorded[0].meta, Some(json!({"tenant_id": 7})));

    // The `Membership` model loses its derive: one migration removes its triggers.
    let written = Generator::new(dir.path(), registry([v1::User::track_spec()]))
        .generate(at("2024-06-01T12:00:00Z"))
        .unwrap();
    assert_eq!(written.len(), 1);
    run_pending(&mut conn, dir.path());
    diesel::insert_into(memberships::table)
        .values(&member(3, "owner"))
        .execute(&mut conn)
        .unwrap();
    assert_eq!(
        events_of(&mut conn, "memberships").len(),
        1,
        "no longer audited"
    );
    insert_ann(&mut conn);
    assert_eq!(
        events_of(&mut conn, "users").len(),
        1,
        "users still audited"
    );

    revert_last(&mut conn, dir.path());
    diesel::insert_into(memberships::table)
        .values(&member(4, "owner"))
        .execute(&mut conn)
        .unwrap();
    let recorded = events_of(&mut conn, "memberships");
    assert_eq!(recorded.len(), 2, "audited again after the revert");
    assert_eq!(recorded[1].record_id.as_deref(), Some("[4, 1]"));
}

#[test]
fn reverting_every_migration_removes_the_triggers_and_the_audit_log() {
    let db = TestDatabase::new();
    let mut conn = db.connect();
    let dir = app_migrations();
    Generator::new(
        dir.path(),
        registry([v1::User::track_spec(), Membership::track_spec()]),
    )
    .generate(at("2024-05-01T12:00:00Z"))
    .unwrap();
    run_pending(&mut conn, dir.path());
    insert_ann(&mut conn);
    assert_eq!(events(&mut conn).len(), 1);

    // Track users, track memberships, core: the tables stay, the audit setup goes.
    for _ in 0..3 {
        revert_last(&mut conn, dir.path());
    }
    assert_eq!(
        count(
            &mut conn,
            "SELECT count(*) FROM pg_trigger WHERE tgrelid IN ('users'::regclass, \
             'app.memberships'::regclass) AND NOT tgisinternal"
        ),
        0
    );
    assert_eq!(
        count(
            &mut conn,
            "SELECT count(*) FROM pg_class WHERE relname LIKE 'auditlog%'"
        ),
        0
    );
    exec(&mut conn, "UPDATE users SET name = 'still writable'");
    // And they come back (on a new connection: the old one cached plans of the dropped
    // audit table).
    assert_eq!(run_pending(&mut conn, dir.path()), 3);
    let mut conn = db.connect();
    rename(&mut conn, "Anne");
    assert_eq!(events(&mut conn).len(), 1);
}
