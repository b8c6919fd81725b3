//! Reads a migrations directory: what the generated migrations in it install, in Diesel's
//! order, and the latest version in use.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use chrono::NaiveDateTime;

use super::header::Header;
use super::version;
use super::MigrationError;
use crate::plan::key;
use crate::TrackSpec;

/// What the migrations on disk install once all of them have run.
#[derive(Debug, Default)]
pub(crate) struct Existing {
    /// Audit tables (`schema.table`) whose core schema a migration creates.
    pub(crate) cores: BTreeSet<String>,
    /// The installed spec of each table, by (schema, table).
    pub(crate) specs: BTreeMap<(String, String), TrackSpec>,
    /// The latest timestamp version among the migrations, if any has one.
    pub(crate) latest: Option<NaiveDateTime>,
}

/// Reads `dir`; a directory that does not exist holds nothing.
pub(crate) fn scan(dir: &Path) -> Result<Existing, MigrationError> {
    let mut existing = Existing::default();
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(existing),
        Err(e) => return Err(MigrationError::io(dir, e)),
    };
    let mut folders: Vec<(String, String, PathBuf)> = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| MigrationError::io(dir, e))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let path = entry.path();
        if name.starts_with('.') || !path.join("up.sql").is_file() {
            continue;
        }
        folders.push((version::of_folder(&name), name, path));
    }
    // Diesel runs migrations in the order of their version (the name up to the first `_`,
    // without dashes).
    folders.sort();
    for (_, name, path) in folders {
        if let Some(timestamp) = version::parse(&name) {
            existing.latest = existing.latest.max(Some(timestamp));
        }
        let up = path.join("up.sql");
        let text = fs::read_to_string(&up).map_err(|e| MigrationError::io(&up, e))?;
        for (index, line) in text.lines().enumerate() {
            let header = match Header::parse(line) {
                None => break,
                Some(Ok(header)) => header,
                Some(Err(reason)) => {
                    return Err(MigrationError::Header {
                        path: up,
                        line: index + 1,
                        reason,
                    })
                }
            };
            match header {
                Header::Core(table) => {
                    existing.cores.insert(table);
                }
                Header::Spec(spec) => {
                    existing.specs.insert(key(&spec), spec);
                }
                Header::Remove(spec) => {
                    existing.specs.remove(&key(&spec));
                }
            }
        }
    }
    Ok(existing)
}
