//! Shared set-up of the examples.
#![warn(missing_docs)]

/// The database the examples write to: `DATABASE_URL` when set, otherwise a fresh database
/// on a throwaway PostgreSQL started for this process (stopped when it exits).
pub fn database() -> (String, Option<auditrum_testdb::TestDatabase>) {
    if let Ok(url) = std::env::var("DATABASE_URL") {
        return (url, None);
    }
    let database = auditrum_testdb::TestDatabase::new();
    eprintln!(
        "DATABASE_URL is unset: using a throwaway PostgreSQL ({})",
        auditrum_testdb::server().description()
    );
    (database.url().to_owned(), Some(database))
}
