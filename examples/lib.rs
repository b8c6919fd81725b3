//! Shared set-up of the examples.
#![warn(missing_docs)]

/// A fresh, empty database for one run of an example, dropped when the value is dropped:
/// on the server of `DATABASE_URL` when it is set (its user needs `CREATEDB`; nothing else
/// on that server is touched), otherwise on a throwaway PostgreSQL started for this process
/// and stopped when it exits. Says on stderr which server it used.
pub fn database() -> auditrum_testdb::TestDatabase {
    let database = auditrum_testdb::TestDatabase::new();
    eprintln!(
        "database {} on {}",
        database.name(),
        auditrum_testdb::server().description()
    );
    database
}
