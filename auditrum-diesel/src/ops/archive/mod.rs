//! Archiving to Parquet (feature `archive`): whole month partitions older than a cutoff
//! become zstd Parquet files in a Hive-style layout that DuckDB, Spark, Trino, Athena and
//! ClickHouse read natively, with a manifest per month (SHA-256 of every file, row counts,
//! id and transaction ranges, the chain links archived and the anchor at the cut). The
//! partition is dropped only once the files are synced and read back.
//!
//! [`verify_archive`] checks an archive against its manifests and recomputes the chain
//! from its rows up to the live chain's anchor. [`ArchiveReader`] reads archived events
//! back for `history --archive` and `as-of --archive`. See `docs/archive.md`.

mod error;
mod failpoint;
mod layout;
pub mod manifest;
mod parquet_file;
mod payload;
mod progress;
mod read;
mod rows;
mod run;
#[cfg(feature = "archive-s3")]
mod s3;
mod store;
mod verify;

pub use error::ArchiveError;
pub use manifest::{ChainCut, FileEntry, Manifest, Ranges};
pub use read::ArchiveReader;
pub use rows::Kind;
pub use run::{archive, ArchiveOptions, ArchiveReport};
pub use store::Store;
pub use verify::{verify_archive, ArchiveBreak, ArchiveCheck};
