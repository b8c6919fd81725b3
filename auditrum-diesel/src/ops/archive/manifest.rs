//! The manifest of one archived month: what was written, with a SHA-256 of every file, and
//! where the hash chain was cut.

use serde::{Deserialize, Serialize};

use super::rows::Kind;

/// The manifest format this version writes and reads.
pub const FORMAT: &str = "auditrum-archive/1";

/// One archived month partition.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// [`FORMAT`].
    pub format: String,
    /// The audit table, `schema.table`.
    pub audit_table: String,
    /// The partition archived.
    pub partition: String,
    /// Its month, `YYYY-MM` (UTC).
    pub month: String,
    /// When the archive was written (RFC 3339, UTC).
    pub archived_at: String,
    /// Whether the partition is dropped after archiving (`false` with `--keep-partition`).
    pub drops_partition: bool,
    /// The files, each with its row count, size and SHA-256.
    pub files: Vec<FileEntry>,
    /// Events: count and ranges.
    pub events: Ranges,
    /// Context rows: count and id range.
    pub contexts: Ranges,
    /// The chain links covering the events, when the chain is on and they were sealed.
    pub chain: Option<ChainCut>,
}

/// One file of the archive.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileEntry {
    /// Path relative to the archive's root, `/`-separated.
    pub path: String,
    /// What it holds.
    pub kind: Kind,
    /// Rows.
    pub rows: i64,
    /// Bytes.
    pub bytes: u64,
    /// Lowercase hex SHA-256 of the bytes.
    pub sha256: String,
}

/// A count and the range of ids (and transaction ids) of some rows.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Ranges {
    /// Rows.
    pub rows: i64,
    /// Smallest id (event id, context id), if any row.
    pub min_id: Option<i64>,
    /// Largest id.
    pub max_id: Option<i64>,
    /// Smallest transaction id.
    pub min_txid: Option<i64>,
    /// Largest transaction id.
    pub max_txid: Option<i64>,
}

impl Ranges {
    /// Adds one row.
    pub fn add(&mut self, id: i64, txid: i64) {
        self.rows += 1;
        self.min_id = Some(self.min_id.map_or(id, |m| m.min(id)));
        self.max_id = Some(self.max_id.map_or(id, |m| m.max(id)));
        self.min_txid = Some(self.min_txid.map_or(txid, |m| m.min(txid)));
        self.max_txid = Some(self.max_txid.map_or(txid, |m| m.max(txid)));
    }
}

/// Where the chain was cut: the links archived and the anchors on both sides.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChainCut {
    /// First archived link.
    pub first_seq: i64,
    /// Last archived link.
    pub last_seq: i64,
    /// The hash the first archived link points at (the live anchor before the cut).
    pub anchor_before: String,
    /// The hash the next link points at: the live chain's anchor after the cut
    /// (at `last_seq + 1`).
    pub anchor_after: String,
}
