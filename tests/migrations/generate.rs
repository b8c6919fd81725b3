//! What the generator writes, and when it writes nothing (no database involved).

use std::fs;

use auditrum_diesel::migrations::{Change, Generator, MigrationError};
use auditrum_diesel::{Audited, TrackSpec};

use crate::models::{v1, v2, Membership};
use crate::{app_migrations, at, folders, registry};

#[test]
fn first_run_writes_the_core_schema_then_one_folder_per_table_in_table_order() {
    let dir = app_migrations();
    let generator = Generator::new(
        dir.path(),
        registry([v1::User::track_spec(), Membership::track_spec()]),
    );
    let written = generator.generate(at("2024-05-01T12:00:00Z")).unwrap();
    assert_eq!(written.len(), 3);
    assert_eq!(
        folders(dir.path()),
        [
            "2020-01-01-000000_create_tables",
            "2024-05-01-120000_auditrum_core",
            "2024-05-01-120001_auditrum_track_app_memberships",
            "2024-05-01-120002_auditrum_track_users",
        ]
    );
}

#[test]
fn nothing_changed_writes_nothing_and_the_check_passes() {
    let dir = app_migrations();
    let generator = Generator::new(dir.path(), registry([v1::User::track_spec()]));
    generator.generate(at("2024-05-01T12:00:00Z")).unwrap();
    let before = folders(dir.path());
    // Even with a later clock.
    assert!(generator
        .generate(at("2025-01-01T00:00:00Z"))
        .unwrap()
        .is_empty());
    assert_eq!(folders(dir.path()), before);
    generator.check().unwrap();
}

#[test]
fn the_output_is_the_same_byte_for_byte_for_the_same_registry_and_clock() {
    let (a, b) = (app_migrations(), app_migrations());
    for dir in [&a, &b] {
        Generator::new(
            dir.path(),
            registry([Membership::track_spec(), v1::User::track_spec()]),
        )
        .generate(at("2024-05-01T12:00:00Z"))
        .unwrap();
    }
    for name in folders(a.path()) {
        for file in ["up.sql", "down.sql"] {
            assert_eq!(
                fs::read_to_string(a.path().join(&name).join(file)).unwrap(),
                fs::read_to_string(b.path().join(&name).join(file)).unwrap(),
                "{name}/{file}"
            );
        }
    }
}

#[test]
fn a_changed_spec_yields_exactly_one_retrack_folder_versioned_after_the_existing_ones() {
    let dir = app_migrations();
    Generator::new(dir.path(), registry([v1::User::track_spec()]))
        .generate(at("2024-05-01T12:00:00Z"))
        .unwrap();
    // A clock behind the latest migration still versions the new one after it.
    let generator = Generator::new(dir.path(), registry([v2::User::track_spec()]));
    let plan = generator.plan().unwrap();
    assert_eq!(
        plan.changes(),
        [Change::Retrack {
            spec: v2::User::track_spec(),
            previous: v1::User::track_spec(),
        }]
        .as_slice()
    );
    let written = generator.generate(at("2023-01-01T00:00:00Z")).unwrap();
    assert_eq!(written.len(), 1);
    assert_eq!(
        folders(dir.path()).last().unwrap(),
        "2024-05-01-120002_auditrum_retrack_users"
    );
}

#[test]
fn a_removed_model_yields_an_untrack_folder() {
    let dir = app_migrations();
    Generator::new(
        dir.path(),
        registry([v1::User::track_spec(), Membership::track_spec()]),
    )
    .generate(at("2024-05-01T12:00:00Z"))
    .unwrap();
    let generator = Generator::new(dir.path(), registry([v1::User::track_spec()]));
    assert_eq!(
        generator.plan().unwrap().changes(),
        [Change::Untrack {
            previous: Membership::track_spec()
        }]
        .as_slice()
    );
    generator.generate(at("2024-06-01T00:00:00Z")).unwrap();
    assert_eq!(
        folders(dir.path()).last().unwrap(),
        "2024-06-01-000000_auditrum_untrack_app_memberships"
    );
    // Removed means removed: registering nothing more writes nothing more.
    assert!(generator.plan().unwrap().is_empty());
}

#[test]
fn a_name_puts_every_change_of_the_run_in_one_folder() {
    let dir = app_migrations();
    let generator = Generator::new(
        dir.path(),
        registry([v1::User::track_spec(), Membership::track_spec()]),
    )
    .name("add_audit_log");
    let written = generator.generate(at("2024-05-01T12:00:00Z")).unwrap();
    assert_eq!(written.len(), 1);
    assert!(written[0].ends_with("2024-05-01-120000_add_audit_log"));
    let up = fs::read_to_string(written[0].join("up.sql")).unwrap();
    let headers: Vec<String> = up
        .lines()
        .take_while(|l| l.starts_with("-- auditrum: "))
        .map(|l| l.split(' ').take(3).collect::<Vec<_>>().join(" "))
        .collect();
    assert_eq!(
        headers,
        [
            "-- auditrum: core",
            "-- auditrum: spec",
            "-- auditrum: spec"
        ]
    );
    assert!(generator.plan().unwrap().is_empty());
    let bad = Generator::new(dir.path(), registry([v2::User::track_spec()])).name("no spaces");
    assert!(matches!(
        bad.generate(at("2024-05-02T00:00:00Z")),
        Err(MigrationError::InvalidName(_))
    ));
}

#[test]
fn the_check_lists_what_is_stale() {
    let dir = app_migrations();
    Generator::new(
        dir.path(),
        registry([v1::User::track_spec(), Membership::track_spec()]),
    )
    .generate(at("2024-05-01T12:00:00Z"))
    .unwrap();
    let legacy = TrackSpec::builder("legacy")
        .track_only(["v"])
        .build()
        .unwrap();
    let error = Generator::new(dir.path(), registry([v2::User::track_spec(), legacy]))
        .check()
        .unwrap_err();
    assert!(matches!(error, MigrationError::Stale(_)));
    let message = error.to_string();
    let expected = format!(
        "the audit migrations in {} are stale: 3 change(s) to write\n  \
         + public.legacy: newly audited (1 column(s))\n  \
         ~ public.users: spec changed (exclude, track_only)\n  \
         - app.memberships: no longer registered (its triggers are removed, its events kept)\n\
         run `makemigrations` (from your crate's audit binary) to write them",
        dir.path().display()
    );
    assert_eq!(message, expected);
}

#[test]
fn a_hand_edited_header_is_refused_with_its_file_and_line() {
    let dir = app_migrations();
    let written = Generator::new(dir.path(), registry([v1::User::track_spec()]))
        .generate(at("2024-05-01T12:00:00Z"))
        .unwrap();
    let up = written[1].join("up.sql");
    let text = fs::read_to_string(&up).unwrap();
    fs::write(&up, text.replacen("password_hash", "password", 1)).unwrap();
    let error = Generator::new(dir.path(), registry([v1::User::track_spec()]))
        .plan()
        .unwrap_err();
    let message = error.to_string();
    assert!(
        matches!(error, MigrationError::Header { line: 1, .. }),
        "{message}"
    );
    assert!(message.contains("the header was edited"), "{message}");
    assert!(message.contains("auditrum_track_users/up.sql"), "{message}");
}

#[test]
fn an_invalid_registry_writes_nothing_and_says_why() {
    let dir = app_migrations();
    let error = Generator::new(
        dir.path(),
        registry([v1::User::track_spec(), v2::User::track_spec()]),
    )
    .generate(at("2024-05-01T12:00:00Z"))
    .unwrap_err();
    assert!(
        error
            .to_string()
            .contains("public.users is registered twice"),
        "{error}"
    );
    assert_eq!(folders(dir.path()), ["2020-01-01-000000_create_tables"]);
}
