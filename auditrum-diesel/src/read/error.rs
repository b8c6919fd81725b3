//! Errors of the read side.

/// What went wrong reading (or reverting through) the log.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReadError {
    /// The database refused a statement.
    #[error("database error: {0}")]
    Database(#[from] diesel::result::Error),
    /// A table name or spec is invalid.
    #[error(transparent)]
    Spec(#[from] crate::SpecError),
    /// The library failed (reading a table's columns, …).
    #[error(transparent)]
    Audit(#[from] crate::Error),
    /// The row existed at the instant, but the log cannot give every column of the model:
    /// untracked (or excluded) columns come from the live row, and the row no longer
    /// exists (it was deleted, or deleted and re-created, since).
    #[error(
        "{table} {key}: the log does not hold column(s) {columns} of the row as it was \
         (they are not tracked, and the row has been deleted since, so the live row cannot \
         supply them); track them, or read the row with `as_of_json`"
    )]
    UnknownColumns {
        /// `schema.table`.
        table: String,
        /// The record's key.
        key: String,
        /// The columns, comma-separated.
        columns: String,
    },
    /// The row existed at the instant, but the log holds a marker in place of the value of
    /// some of its columns (masked or hashed at write, erased by `redact`): a model cannot
    /// hold the row as it was.
    #[error(
        "{table} {key}: the log holds column(s) {columns} only as masked, hashed or redacted \
         values, so the row as it was cannot be rebuilt as the model; read it with \
         `as_of_json`, which shows them as markers"
    )]
    ProtectedColumns {
        /// `schema.table`.
        table: String,
        /// The record's key.
        key: String,
        /// The columns, comma-separated.
        columns: String,
    },
    /// Reading archived events failed (a file missing or unreadable).
    #[error("cannot read the archive: {0}")]
    Archive(String),
    /// No event with this id.
    #[error("no event #{0} in the audit log")]
    NoSuchEvent(i64),
    /// Nothing to revert: no event matches.
    #[error("nothing to revert: no event of {0}")]
    NothingToRevert(String),
    /// Later events changed what a revert would undo; nothing was written.
    #[error(
        "refused: {} conflict(s) with later events (revert with `force` to overwrite them): {}",
        .0.len(),
        .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; ")
    )]
    Conflicts(Vec<super::Conflict>),
    /// The revert cannot be done; the message says why. Nothing was written.
    #[error("cannot revert: {0}")]
    CannotRevert(String),
    /// A hash lookup names a column the table's installed spec does not hash.
    #[error(
        "{table}: column `{column}` is not hashed (hashed: {hashed}); a hash lookup only \
         finds values of `hash(...)` columns"
    )]
    NotHashed {
        /// `schema.table`.
        table: String,
        /// The column asked for.
        column: String,
        /// The hashed columns of the installed spec, comma-separated (or `none`).
        hashed: String,
    },
}
