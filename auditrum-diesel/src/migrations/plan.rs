//! What a migrations directory lacks compared with the registry: a [`Plan`].

use std::fmt;

use chrono::NaiveDateTime;

use crate::plan::Change;

/// What a migrations directory lacks: the [`Change`]s to write, in order.
///
/// Its `Display` is the readable list `makemigrations --check` prints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub(crate) dir: String,
    pub(crate) changes: Vec<Change>,
    pub(crate) latest: Option<NaiveDateTime>,
}

impl Plan {
    /// Whether the migrations are up to date.
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// The changes, in the order they are written.
    pub fn changes(&self) -> &[Change] {
        &self.changes
    }
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.changes.is_empty() {
            return write!(f, "the audit migrations in {} are up to date", self.dir);
        }
        write!(
            f,
            "the audit migrations in {} are stale: {} change(s) to write",
            self.dir,
            self.changes.len()
        )?;
        for change in &self.changes {
            write!(f, "\n  {change}")?;
        }
        Ok(())
    }
}
