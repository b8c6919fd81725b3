//! The operation of an event.

use serde::{Deserialize, Serialize};

/// What a statement did to the audited row (or table, for TRUNCATE).
///
/// Maps to the PostgreSQL enum `auditrum_operation`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, diesel_derive_enum::DbEnum,
)]
#[ExistingTypePath = "crate::schema::sql_types::AuditrumOperation"]
#[DbValueStyle = "SCREAMING_SNAKE_CASE"]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Operation {
    /// A row was inserted.
    Insert,
    /// A row was updated.
    Update,
    /// A row was deleted.
    Delete,
    /// The table was truncated.
    Truncate,
    /// The audited table's schema changed (`ALTER TABLE`, `DROP TABLE`), recorded by the DDL
    /// guard `harden` installs. `new_data` holds the command tag, the object identity and
    /// the statement; `record_id` is `None`.
    Ddl,
    /// A retention cut of the hash chain, recorded by `purge` on the audit table itself.
    /// `new_data` holds who, when, the cutoff and the new anchor.
    Purge,
}
