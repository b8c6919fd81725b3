//! Generated Diesel migrations, end to end: models deriving `Audited` → the generator →
//! migrations applied and reverted on a real PostgreSQL (with `diesel_migrations`, with
//! `embed_migrations!` and with the real `diesel` command) → what writes through Diesel
//! leave in the audit log.

mod apply;
mod cli;

mod diesel_cli;
mod embedded;
mod generate;
mod models;
mod snapshots;
mod sync;
mod upgrade;

use std::fs;
use std::path::Path;

use auditrum_diesel::registry::Registry;
use auditrum_diesel::TrackSpec;
use chrono::{DateTime, Utc};
use diesel::PgConnection;
use diesel_migrations::{FileBasedMigrations, MigrationHarness};

/// A migrations directory holding the application's own first migration (its tables).
pub fn app_migrations() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let first = dir.path().join("2020-01-01-000000_create_tables");
    fs::create_dir(&first).unwrap();
    fs::write(first.join("up.sql"), models::CREATE_TABLES).unwrap();
    fs::write(first.join("down.sql"), models::DROP_TABLES).unwrap();
    dir
}

/// `2024-05-01T12:00:00Z` style instants, for deterministic versions.
pub fn at(instant: &str) -> DateTime<Utc> {
    instant.parse().expect("an RFC 3339 instant")
}

/// A registry of exactly these specs.
pub fn registry(specs: impl IntoIterator<Item = TrackSpec>) -> Registry {
    let mut registry = Registry::new();
    for spec in specs {
        registry.add(spec);
    }
    registry
}

/// The folder names in `dir`, sorted.
pub fn folders(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Runs every pending migration of `dir`, as `diesel migration run` would.
pub fn run_pending(conn: &mut PgConnection, dir: &Path) -> usize {
    let migrations = FileBasedMigrations::from_path(dir).expect("a migrations directory");
    conn.run_pending_migrations(migrations)
        .unwrap_or_else(|e| panic!("migrations run: {e}"))
        .len()
}

/// Reverts the last applied migration of `dir`, as `diesel migration revert` would.
pub fn revert_last(conn: &mut PgConnection, dir: &Path) {
    let migrations = FileBasedMigrations::from_path(dir).expect("a migrations directory");
    conn.revert_last_migration(migrations)
        .unwrap_or_else(|e| panic!("migration reverts: {e}"));
}
