//! Errors of the library.

/// A [`TrackSpec`](crate::TrackSpec) or [`AuditConfig`](crate::AuditConfig) that cannot be
/// turned into SQL. Raised before any SQL is produced.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SpecError {
    /// A table, schema or column name is empty or contains a control character (NUL,
    /// newline, escape …).
    #[error("invalid {what} name {name:?}: names must be non-empty and contain no control character (such as a newline) and no `$auditrum$`: rename it")]
    InvalidName {
        /// What was being named: `table`, `schema` or `column`.
        what: &'static str,
        /// The offending name.
        name: String,
    },
    /// A `schema.table` string with more than one dot.
    #[error("invalid table name {0:?}: write `table` or `schema.table`")]
    InvalidQualifiedName(String),
    /// The spec names no primary-key column.
    #[error("table {table}: no primary-key column given; set `key(...)`")]
    NoKey {
        /// The table.
        table: String,
    },
    /// Both `track_only` and `exclude` were given.
    #[error("table {table}: `track_only` and `exclude` cannot be combined; keep one of them")]
    TrackOnlyAndExclude {
        /// The table.
        table: String,
    },
    /// An option names a column the table does not have.
    #[error("table {table}: `{option}` names unknown column `{column}` (known columns: {known})")]
    UnknownColumn {
        /// The table.
        table: String,
        /// The option that named it: `key`, `track_only`, `exclude`, `meta`, `mask` or `hash`.
        option: &'static str,
        /// The unknown column.
        column: String,
        /// The columns the spec knows, comma-separated.
        known: String,
    },
    /// An option names the same column twice.
    #[error("table {table}: `{option}` names column `{column}` twice")]
    DuplicateColumn {
        /// The table.
        table: String,
        /// The option.
        option: &'static str,
        /// The repeated column.
        column: String,
    },
    /// Tracking every column, or excluding some, needs the table's column list.
    #[error(
        "table {table}: the column list is unknown; give `columns(...)` (or read it from the \
         database with `introspect::complete`) or list the columns with `track_only(...)`"
    )]
    ColumnsUnknown {
        /// The table.
        table: String,
    },
    /// After `track_only` / `exclude`, no column is left to track.
    #[error("table {table}: no column left to track after `exclude`")]
    NothingTracked {
        /// The table.
        table: String,
    },
    /// The `condition` is empty or cannot be embedded.
    #[error("table {table}: invalid condition {condition:?}: {reason}; a condition is one SQL expression over the row `NEW`")]
    InvalidCondition {
        /// The table.
        table: String,
        /// The condition as given.
        condition: String,
        /// Why it was refused.
        reason: &'static str,
    },
    /// A `mask` or `hash` column that cannot be masked or hashed (a key column, both, or not
    /// audited).
    #[error("table {table}: `{option}` cannot name column `{column}`: {reason}")]
    CannotProtect {
        /// The table.
        table: String,
        /// `mask` or `hash`.
        option: &'static str,
        /// The column.
        column: String,
        /// Why.
        reason: &'static str,
    },
    /// A context setting name that PostgreSQL would not accept as a custom setting.
    #[error("invalid setting name {0:?}: write `prefix.name` with letters, digits and `_`")]
    InvalidSetting(String),
}

/// An error of an operation that talks to the database.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The spec or configuration is invalid; nothing was sent to the database.
    #[error(transparent)]
    Spec(#[from] SpecError),
    /// The database refused a statement.
    #[error("database error: {0}")]
    Database(#[from] diesel::result::Error),
    /// An operation refused to run; the message says why and what to do.
    #[error("refused: {0}")]
    Refused(String),
    /// A table to audit does not exist.
    #[error("table {table} does not exist (check the name and the schema, e.g. `app.users`)")]
    TableNotFound {
        /// `schema.table`.
        table: String,
    },
    /// A table to audit has no primary key and none was given.
    #[error("table {table} has no primary key: give the key columns explicitly (`--key a,b`)")]
    NoPrimaryKey {
        /// `schema.table`.
        table: String,
    },
}
