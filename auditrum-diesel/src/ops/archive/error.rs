//! Errors of archiving and of reading an archive.

/// What went wrong while archiving or reading an archive. Nothing is dropped from the
/// database unless every file was written, synced and read back.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ArchiveError {
    /// The database refused a statement or could not be read.
    #[error(transparent)]
    Audit(#[from] crate::Error),
    /// A file of the archive could not be written or read.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// A Parquet file could not be encoded or decoded.
    #[error("{path}: not a readable Parquet file of the archive: {reason}")]
    Parquet {
        /// The file.
        path: String,
        /// The cause.
        reason: String,
    },
    /// A manifest could not be read.
    #[error("{path}: not a readable archive manifest: {reason}")]
    Manifest {
        /// The manifest.
        path: String,
        /// The cause.
        reason: String,
    },
    /// `--to` / `--archive` is neither a directory nor a supported URL.
    #[error("{0}")]
    BadLocation(String),
    /// A file read back after writing differs from what was written: nothing was dropped.
    #[error("{path} read back differs from what was written ({what}): the partition was kept; rerun the archive")]
    ReadBack {
        /// The file.
        path: String,
        /// What differs.
        what: String,
    },
    /// The archive refuses to drop a partition; the message says why and what to do.
    #[error("refused: {0}")]
    Refused(String),
    /// A failpoint (`AUDITRUM_FAILPOINT`) stopped the run, as a test asked.
    #[error("stopped at failpoint {0}")]
    Failpoint(String),
}

impl From<diesel::result::Error> for ArchiveError {
    fn from(e: diesel::result::Error) -> Self {
        ArchiveError::Audit(crate::Error::Database(e))
    }
}

/// `map_err` helper for I/O on `path`.
pub(crate) fn io(path: impl std::fmt::Display) -> impl FnOnce(std::io::Error) -> ArchiveError {
    let path = path.to_string();
    move |source| ArchiveError::Io { path, source }
}

/// `map_err` helper for Parquet on `path`.
pub(crate) fn parquet(
    path: impl std::fmt::Display,
) -> impl FnOnce(parquet::errors::ParquetError) -> ArchiveError {
    let path = path.to_string();
    move |e| ArchiveError::Parquet {
        path,
        reason: e.to_string(),
    }
}
