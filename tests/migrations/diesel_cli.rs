//! The mission's path with the real `diesel` command: generated migrations →
//! `diesel migration run` → writes through Diesel are audited → `diesel migration revert`
//! undoes an auditrum migration cleanly.
//!
//! Needs `diesel` (diesel_cli with the postgres feature): `$DIESEL_BIN`, else on `PATH`,
//! else in `$CARGO_HOME/bin`. CI installs it.

use std::env;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use auditrum_diesel::migrations::Generator;
use auditrum_diesel::Audited;
use auditrum_integration_tests::{events_of, exec};
use auditrum_testdb::TestDatabase;

use crate::models::{v1, v2, Membership};
use crate::{app_migrations, at, registry};

fn diesel_bin() -> PathBuf {
    if let Some(bin) = env::var_os("DIESEL_BIN") {
        return bin.into();
    }
    let cargo_bin = env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| env::var_os("HOME").map(|home| Path::new(&home).join(".cargo")))
        .map(|home| home.join("bin"));
    env::var_os("PATH")
        .iter()
        .flat_map(env::split_paths)
        .chain(cargo_bin)
        .map(|dir| dir.join("diesel"))
        .find(|bin| bin.is_file())
        .unwrap_or_else(|| {
            panic!(
                "the `diesel` command is needed: cargo install diesel_cli \
                 --no-default-features --features postgres (or set DIESEL_BIN)"
            )
        })
}

pub(crate) fn diesel(args: &[&str], url: &str, dir: &Path) -> Output {
    // Run outside any project, so no diesel.toml of ours applies.
    let cwd = tempfile::tempdir().unwrap();
    let output = Command::new(diesel_bin())
        .args(args)
        .arg("--database-url")
        .arg(url)
        .arg("--migration-dir")
        .arg(dir)
        .current_dir(cwd.path())
        .env_remove("DATABASE_URL")
        .output()
        .expect("diesel runs");
    assert!(
        output.status.success(),
        "diesel {args:?} failed:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn rename(conn: &mut diesel::PgConnection, name: &str) {
    exec(
        conn,
        &format!("UPDATE users SET name = '{name}' WHERE id = 1"),
    );
}

#[test]
fn diesel_migration_run_and_revert_with_generated_migrations() {
    let db = TestDatabase::new();
    let mut conn = db.connect();
    let dir = app_migrations();
    Generator::new(
        dir.path(),
        registry([v1::User::track_spec(), Membership::track_spec()]),
    )
    .generate(at("2024-05-01T12:00:00Z"))
    .unwrap();
    let run = diesel(&["migration", "run"], db.url(), dir.path());
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        stdout.contains("2024-05-01-120002_auditrum_track_users"),
        "{stdout}"
    );

    exec(
        &mut conn,
        "INSERT INTO users VALUES (1, 'a@x', 'Ann', 'h'); \
         INSERT INTO app.memberships VALUES (1, 1, 'owner', 7)",
    );
    rename(&mut conn, "Anne");
    assert_eq!(events_of(&mut conn, "users").len(), 2);
    assert_eq!(events_of(&mut conn, "memberships").len(), 1);

    // The model changes to `track_only(email_address)`: one more migration.
    Generator::new(
        dir.path(),
        registry([v2::User::track_spec(), Membership::track_spec()]),
    )
    .generate(at("2024-06-01T12:00:00Z"))
    .unwrap();
    diesel(&["migration", "run"], db.url(), dir.path());
    rename(&mut conn, "Annie");
    assert_eq!(
        events_of(&mut conn, "users").len(),
        2,
        "name no longer tracked"
    );

    // Revert it: renames are recorded again.
    diesel(&["migration", "revert"], db.url(), dir.path());
    rename(&mut conn, "Ann");
    assert_eq!(events_of(&mut conn, "users").len(), 3);

    // Revert the users migration: users are no longer audited, memberships still are.
    diesel(&["migration", "revert"], db.url(), dir.path());
    rename(&mut conn, "Anna");
    exec(
        &mut conn,
        "INSERT INTO app.memberships VALUES (2, 1, 'owner', 7)",
    );
    assert_eq!(events_of(&mut conn, "users").len(), 3);
    assert_eq!(events_of(&mut conn, "memberships").len(), 2);

    // Run both again, then `diesel migration redo` (revert and run) both: v2 is in place.
    diesel(&["migration", "run"], db.url(), dir.path());
    diesel(&["migration", "redo", "-n", "2"], db.url(), dir.path());
    rename(&mut conn, "Ann");
    assert_eq!(
        events_of(&mut conn, "users").len(),
        3,
        "name not tracked by v2"
    );
    exec(&mut conn, "UPDATE users SET email = 'b@x' WHERE id = 1");
    assert_eq!(
        events_of(&mut conn, "users").len(),
        4,
        "email tracked by v2"
    );
}
