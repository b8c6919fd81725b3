//! Errors of the command line and their exit codes.

/// What went wrong. [`CliError::ProblemsFound`] exits with code 1 (a check ran and found a
/// problem); every other variant with code 2 (bad input, unreachable database, refused by
/// the database).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CliError {
    /// An argument clap accepted but the command could not use.
    #[error("{0}")]
    BadArgument(String),
    /// A subcommand that needs a database got no URL.
    #[error("no database given: pass --database-url or set DATABASE_URL")]
    NoDatabase,
    /// The database could not be reached.
    #[error("cannot connect to the database: {0}")]
    Connect(String),
    /// The library refused or the database failed.
    #[error("{0}")]
    Audit(#[from] crate::Error),
    /// Invalid spec or configuration.
    #[error("{0}")]
    Spec(#[from] crate::SpecError),
    /// A check ran to the end and found problems (stale migrations, drift, a broken chain).
    /// The report is already printed; this carries its one-line summary.
    #[error("{0}")]
    ProblemsFound(String),
    /// The migration generator failed.
    #[error("{0}")]
    Migration(#[from] crate::migrations::MigrationError),
    /// `sync` failed; nothing was changed.
    #[error("{0}")]
    Sync(#[from] crate::sync::SyncError),
    /// The binary links no audited model, so the command would remove every audited
    /// table's triggers.
    #[error(transparent)]
    EmptyRegistry(#[from] crate::plan::EmptyRegistry),
    /// Reading the log failed (or a revert was refused).
    #[error("{0}")]
    Read(#[from] crate::read::ReadError),
    /// Writing the output failed.
    #[error("cannot write output: {0}")]
    Output(#[from] std::io::Error),
}

impl CliError {
    /// The process exit code for this error.
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::ProblemsFound(_) => 1,
            _ => 2,
        }
    }

    /// The message on one line: libpq's messages span several lines.
    pub fn one_line(&self) -> String {
        self.to_string()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    }
}
