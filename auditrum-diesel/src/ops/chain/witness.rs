//! Witnesses: tips kept outside the database, one JSON object per line.
//!
//! `chain-tip --append FILE` adds the current tip to the file; ship the file (or each new
//! line) where the database's superuser cannot write: object storage with a retention lock,
//! a git repository, a ticket, a log shipped off the host. `verify-chain --witness FILE`
//! checks that every tip in it is a prefix of today's chain: its link is still there with the
//! same hash (or was removed by a recorded purge), and its anchor and purges are the start
//! of today's. Nothing older than the last published tip can then be changed unnoticed,
//! even by a superuser.

use std::fs::OpenOptions;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

use super::ChainTip;

/// A witness file that cannot be read or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WitnessError {
    /// The file could not be opened, read or written.
    #[error("witness file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What failed.
        source: std::io::Error,
    },
    /// A line is not a tip.
    #[error("witness file {path}, line {line}: not a tip ({source}); each line must be the JSON `chain-tip` prints")]
    Line {
        /// The file.
        path: PathBuf,
        /// The line number, from 1.
        line: usize,
        /// Why it does not parse.
        source: serde_json::Error,
    },
}

/// Appends `tip` to the witness file at `path` as one JSON line, creating the file.
pub fn append(path: &Path, tip: &ChainTip) -> Result<(), WitnessError> {
    let io = |source| WitnessError::Io {
        path: path.to_owned(),
        source,
    };
    let mut line = serde_json::to_string(tip).expect("a tip serializes");
    line.push('\n');
    let mut file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(io)?;
    // One write per line: concurrent appenders do not interleave within a line.
    file.write_all(line.as_bytes()).map_err(io)?;
    file.sync_all().map_err(io)
}

/// Every tip of the witness file at `path`, in file order (blank lines skipped).
pub fn read(path: &Path) -> Result<Vec<ChainTip>, WitnessError> {
    let io = |source| WitnessError::Io {
        path: path.to_owned(),
        source,
    };
    let file = std::fs::File::open(path).map_err(io)?;
    let mut tips = Vec::new();
    for (index, line) in BufReader::new(file).lines().enumerate() {
        let line = line.map_err(io)?;
        if line.trim().is_empty() {
            continue;
        }
        let tip = serde_json::from_str(&line).map_err(|source| WitnessError::Line {
            path: path.to_owned(),
            line: index + 1,
            source,
        })?;
        tips.push(tip);
    }
    Ok(tips)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tip(seq: i64) -> ChainTip {
        ChainTip {
            seq,
            link_hash: format!("{seq:064}"),
            sealed_at: None,
            anchor_seq: Some(1),
            anchor_hash: Some("0".repeat(64)),
            purges: Vec::new(),
        }
    }

    #[test]
    fn appended_tips_read_back_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tips.jsonl");
        append(&path, &tip(1)).unwrap();
        append(&path, &tip(2)).unwrap();
        assert_eq!(read(&path).unwrap(), vec![tip(1), tip(2)]);
    }

    #[test]
    fn a_bad_line_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tips.jsonl");
        append(&path, &tip(1)).unwrap();
        std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap()
            .write_all(b"{\"seq\": \"x\"}\n")
            .unwrap();
        let error = read(&path).unwrap_err().to_string();
        assert!(error.contains("line 2"), "{error}");
    }
}
