//! The operation of an event.

use std::fmt;
use std::str::FromStr;

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
    /// An erasure of recorded values (`redact`), recorded on the audit table itself.
    /// `new_data` holds who, when, why, and which values of which events were erased
    /// (never the values).
    Redact,
}

impl Operation {
    /// The operations the capture triggers record (one trigger each), in the order the
    /// triggers are installed. The log also holds the events it writes about itself:
    /// [`Operation::EVERY`].
    pub const ALL: [Operation; 4] = [
        Operation::Insert,
        Operation::Update,
        Operation::Delete,
        Operation::Truncate,
    ];

    /// Every operation an event may have: [`Operation::ALL`], then `DDL`, `PURGE` and
    /// `REDACT`.
    pub const EVERY: [Operation; 7] = [
        Operation::Insert,
        Operation::Update,
        Operation::Delete,
        Operation::Truncate,
        Operation::Ddl,
        Operation::Purge,
        Operation::Redact,
    ];

    /// The SQL spelling, as stored in the log: `INSERT`, `UPDATE`, `DELETE`, `TRUNCATE`,
    /// `DDL`, `PURGE`, `REDACT`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Operation::Insert => "INSERT",
            Operation::Update => "UPDATE",
            Operation::Delete => "DELETE",
            Operation::Truncate => "TRUNCATE",
            Operation::Ddl => "DDL",
            Operation::Purge => "PURGE",
            Operation::Redact => "REDACT",
        }
    }

    /// The lower-case suffix of the trigger and trigger-function names:
    /// `auditlog_insert`, `auditlog_users_update`, … (only the operations of
    /// [`Operation::ALL`] have triggers).
    pub const fn suffix(self) -> &'static str {
        match self {
            Operation::Insert => "insert",
            Operation::Update => "update",
            Operation::Delete => "delete",
            Operation::Truncate => "truncate",
            Operation::Ddl => "ddl",
            Operation::Purge => "purge",
            Operation::Redact => "redact",
        }
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An operation name that is not one of `INSERT`, `UPDATE`, `DELETE`, `TRUNCATE`, `DDL`,
/// `PURGE`, `REDACT`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown operation {0:?}: INSERT, UPDATE, DELETE, TRUNCATE, DDL, PURGE or REDACT")]
pub struct UnknownOperation(pub String);

/// Parses `INSERT`, `update`, … (any case).
impl FromStr for Operation {
    type Err = UnknownOperation;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Operation::EVERY
            .into_iter()
            .find(|op| op.as_str().eq_ignore_ascii_case(text))
            .ok_or_else(|| UnknownOperation(text.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::Operation;

    #[test]
    fn parses_what_it_prints_in_any_case() {
        for op in Operation::EVERY {
            assert_eq!(op.as_str().parse::<Operation>(), Ok(op));
            assert_eq!(op.suffix().parse::<Operation>(), Ok(op));
        }
        assert!("MERGE".parse::<Operation>().is_err());
    }
}
