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
}

impl Operation {
    /// Every operation, in the order the triggers are installed.
    pub const ALL: [Operation; 4] = [
        Operation::Insert,
        Operation::Update,
        Operation::Delete,
        Operation::Truncate,
    ];

    /// The SQL spelling, as stored in the log: `INSERT`, `UPDATE`, `DELETE`, `TRUNCATE`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Operation::Insert => "INSERT",
            Operation::Update => "UPDATE",
            Operation::Delete => "DELETE",
            Operation::Truncate => "TRUNCATE",
        }
    }

    /// The lower-case suffix of the trigger and trigger-function names:
    /// `auditlog_insert`, `auditlog_users_update`, ….
    pub const fn suffix(self) -> &'static str {
        match self {
            Operation::Insert => "insert",
            Operation::Update => "update",
            Operation::Delete => "delete",
            Operation::Truncate => "truncate",
        }
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An operation name that is not one of `INSERT`, `UPDATE`, `DELETE`, `TRUNCATE`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown operation {0:?}: INSERT, UPDATE, DELETE or TRUNCATE")]
pub struct UnknownOperation(pub String);

/// Parses `INSERT`, `update`, … (any case).
impl FromStr for Operation {
    type Err = UnknownOperation;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Operation::ALL
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
        for op in Operation::ALL {
            assert_eq!(op.as_str().parse::<Operation>(), Ok(op));
            assert_eq!(op.suffix().parse::<Operation>(), Ok(op));
        }
        assert!("MERGE".parse::<Operation>().is_err());
    }
}
