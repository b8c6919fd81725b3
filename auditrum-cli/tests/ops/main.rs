//! Operations commands run as processes against a real PostgreSQL, asserting on what the
//! database holds afterwards.

#[path = "../common/mod.rs"]
mod common;

mod chain;
mod ddl_guard;
mod harden;
mod partitions;
mod purge;
mod redact;
mod status;
mod tamper;

use auditrum_testdb::TestDatabase;
use diesel::connection::SimpleConnection;
use diesel::PgConnection;

/// A fresh database with the audit schema and an audited `notes` table.
pub fn audited_notes() -> (TestDatabase, PgConnection) {
    let db = TestDatabase::new();
    let mut conn = db.connect();
    conn.batch_execute("CREATE TABLE notes (id int PRIMARY KEY, body text)")
        .unwrap();
    for args in [&["init-schema"][..], &["track", "notes"]] {
        let out = common::cli(args, Some(db.url()));
        assert!(out.status.success(), "{args:?}: {}", common::stderr(&out));
    }
    (db, conn)
}
