//! Errors of the migration generator.

use std::io;
use std::path::{Path, PathBuf};

use super::Plan;
use crate::registry::RegistryError;
use crate::SpecError;

/// Why migrations could not be planned, written or checked.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MigrationError {
    /// The migrations are stale (from [`Generator::check`](super::Generator::check)); the plan lists what is
    /// missing.
    #[error("{0}\nrun `makemigrations` (from your crate's audit binary) to write them")]
    Stale(Box<Plan>),
    /// The registry holds invalid or duplicate specs.
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// A spec cannot be turned into SQL.
    #[error(transparent)]
    Spec(#[from] SpecError),
    /// A generated migration's header line cannot be read.
    #[error("{path}, line {line}: {reason}")]
    Header {
        /// The `up.sql` file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// A migration folder to write already exists.
    #[error("{0} already exists; nothing was written over it")]
    FolderExists(PathBuf),
    /// `--name` is not usable in a folder name.
    #[error("invalid migration name {0:?}: use letters, digits, `_` and `-`")]
    InvalidName(String),
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The error.
        source: io::Error,
    },
}

impl MigrationError {
    pub(crate) fn io(path: &Path, source: io::Error) -> Self {
        MigrationError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}
