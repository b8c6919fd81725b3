//! Shared helpers of the integration tests: a fresh database with the audit log installed,
//! and typed reads of what the triggers wrote.
#![warn(missing_docs)]

use auditrum_diesel::schema::{auditlog, auditlog_context};
use auditrum_diesel::{apply, AuditConfig, TrackSpec};
use auditrum_testdb::TestDatabase;
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use serde_json::Value;

/// A fresh database with the core schema installed, and a connection to it.
pub fn audited_database() -> (TestDatabase, PgConnection) {
    audited_database_with(&AuditConfig::default())
}

/// The audit log the suites run on besides the default one: another table name, in a
/// schema other than `public`.
pub fn other_config() -> AuditConfig {
    AuditConfig::new()
        .with_table("audit.events")
        .expect("a valid name")
}

/// A fresh database with the core schema of `config` installed (its schema created when
/// missing), and a connection to it.
pub fn audited_database_with(config: &AuditConfig) -> (TestDatabase, PgConnection) {
    let database = TestDatabase::new();
    let mut conn = database.connect();
    exec(
        &mut conn,
        &format!(
            "CREATE SCHEMA IF NOT EXISTS {}",
            auditrum_diesel::sql::quote::ident(config.schema())
        ),
    );
    apply::install_core_schema(&mut conn, config).expect("core schema installs");
    (database, conn)
}

/// Runs a test once on the default audit log (`<name>::default_log`) and once on
/// [`other_config`] (`<name>::other_log`): `on_both_logs!(#[test] name);` for a
/// `fn name(config: AuditConfig)`, `on_both_logs!(#[tokio::test(…)] async name);` for an
/// `async fn`.
#[macro_export]
macro_rules! on_both_logs {
    (#[$test:meta] $name:ident) => {
        mod $name {
            #[$test]
            fn default_log() {
                super::$name(::auditrum_diesel::AuditConfig::default())
            }
            #[$test]
            fn other_log() {
                super::$name($crate::other_config())
            }
        }
    };
    (#[$test:meta] async $name:ident) => {
        mod $name {
            #[$test]
            async fn default_log() {
                super::$name(::auditrum_diesel::AuditConfig::default()).await
            }
            #[$test]
            async fn other_log() {
                super::$name($crate::other_config()).await
            }
        }
    };
}

/// Runs SQL statements, panicking with the statement on error.
pub fn exec(conn: &mut PgConnection, sql: &str) {
    if let Err(e) = conn.batch_execute(sql) {
        panic!("SQL failed: {e}\n{sql}");
    }
}

/// Installs the triggers of `spec` on the default audit log.
pub fn track(conn: &mut PgConnection, spec: &TrackSpec) {
    track_with(conn, spec, &AuditConfig::default());
}

/// Installs the triggers of `spec` on the audit log of `config`.
pub fn track_with(conn: &mut PgConnection, spec: &TrackSpec, config: &AuditConfig) {
    apply::install(conn, spec, config).expect("spec installs");
}

/// Every event of the log of `config`, in id order.
pub fn events_in(conn: &mut PgConnection, config: &AuditConfig) -> Vec<Event> {
    auditrum_diesel::read::EventSearch::new()
        .load(conn, config, None)
        .expect("events load")
}

/// An event as the tests read it back: the library's own typed event.
pub use auditrum_diesel::read::AuditEvent as Event;

/// Every event of the log, in id order.
pub fn events(conn: &mut PgConnection) -> Vec<Event> {
    auditlog::table
        .select(Event::as_select())
        .order(auditlog::id)
        .load(conn)
        .expect("events load")
}

/// Every event of one table, in id order.
pub fn events_of(conn: &mut PgConnection, table: &str) -> Vec<Event> {
    auditlog::table
        .filter(auditlog::table_name.eq(table))
        .select(Event::as_select())
        .order(auditlog::id)
        .load(conn)
        .expect("events load")
}

/// The stored context of an event, if any.
pub fn context_of(conn: &mut PgConnection, event: &Event) -> Option<Value> {
    let id = event.context_id?;
    auditlog_context::table
        .find(id)
        .select(auditlog_context::context)
        .first(conn)
        .ok()
}

/// Number of rows the context table holds.
pub fn context_rows(conn: &mut PgConnection) -> i64 {
    auditlog_context::table
        .count()
        .get_result(conn)
        .expect("count contexts")
}

/// A one-value query: `SELECT <expr>` as bigint.
pub fn count(conn: &mut PgConnection, sql: &str) -> i64 {
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    diesel::sql_query(format!("SELECT ({sql})::bigint AS n"))
        .get_result::<Count>(conn)
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .n
}

/// `{"old": old, "new": new}` for comparing a diff entry.
pub fn change(old: Value, new: Value) -> Value {
    serde_json::json!({ "old": old, "new": new })
}
