//! Reading archived events back for `history --archive` and `as-of --archive`: the Parquet
//! files are read directly (no engine), month by month, a batch at a time; only the
//! matching events and their context rows are kept in memory.
//!
//! Reading does not check the files' SHA-256 against the manifests (that would read every
//! file twice): `verify-chain --archive` proves an archive.

use std::collections::HashSet;

use serde_json::Value;

use super::error::ArchiveError;
use super::layout;
use super::manifest::{Manifest, FORMAT};
use super::parquet_file;
use super::rows::{ContextRow, EventRow, Kind};
use super::store::Store;
use crate::read::{ArchivedEvents, AuditEvent, EventContext, EventWithContext, ReadError};
use crate::{AuditConfig, Operation};

/// The archive of one audit log, read as a source of [`ArchivedEvents`].
#[derive(Debug)]
pub struct ArchiveReader {
    store: Store,
    manifests: Vec<Manifest>,
}

impl ArchiveReader {
    /// Opens the archive of `config`'s audit log in `store`: reads its manifests. An archive
    /// without any manifest of this log is refused (a wrong path is more likely than an
    /// empty archive).
    pub fn open(store: Store, config: &AuditConfig) -> Result<ArchiveReader, ArchiveError> {
        let prefix = layout::manifest_prefix(config.table());
        let mut manifests = Vec::new();
        for rel in store.list()? {
            if !rel.starts_with(&prefix) || !rel.ends_with(".json") {
                continue;
            }
            let bytes = store.read_bytes(&rel)?.unwrap_or_default();
            let manifest: Manifest =
                serde_json::from_slice(&bytes).map_err(|e| ArchiveError::Manifest {
                    path: rel.clone(),
                    reason: e.to_string(),
                })?;
            if manifest.format != FORMAT {
                return Err(ArchiveError::Manifest {
                    path: rel,
                    reason: format!("unknown format {:?}", manifest.format),
                });
            }
            manifests.push(manifest);
        }
        if manifests.is_empty() {
            return Err(ArchiveError::BadLocation(format!(
                "{}: no archive manifest of table {} here (looked under {prefix})",
                store.describe(),
                config.table()
            )));
        }
        manifests.sort_by(|a, b| a.month.cmp(&b.month));
        Ok(ArchiveReader { store, manifests })
    }

    /// The archived events that `keep` accepts, with their context, in id order.
    fn events(
        &self,
        keep: impl Fn(&EventRow) -> bool,
    ) -> Result<Vec<EventWithContext>, ArchiveError> {
        let mut found = Vec::new();
        for manifest in &self.manifests {
            let mut rows = Vec::new();
            for file in manifest.files.iter().filter(|f| f.kind == Kind::Events) {
                self.read(&file.path, |row: EventRow| {
                    if keep(&row) {
                        rows.push(row);
                    }
                })?;
            }
            if rows.is_empty() {
                continue;
            }
            let wanted: HashSet<i64> = rows.iter().filter_map(|r| r.context_id).collect();
            let mut contexts = std::collections::HashMap::new();
            for file in manifest.files.iter().filter(|f| f.kind == Kind::Contexts) {
                self.read(&file.path, |row: ContextRow| {
                    if wanted.contains(&row.id) {
                        contexts.insert(row.id, row.context);
                    }
                })?;
            }
            for row in rows {
                // The event's own context (core schema 3), else its context row's.
                let context = row
                    .context
                    .clone()
                    .or_else(|| row.context_id.and_then(|id| contexts.get(&id).cloned()));
                found.push(event_with_context(
                    row,
                    context.as_ref(),
                    &file_of(manifest),
                )?);
            }
        }
        found.sort_by_key(|e| e.event.id);
        Ok(found)
    }

    fn read<R: super::rows::ArchivedRow>(
        &self,
        rel: &str,
        mut each: impl FnMut(R),
    ) -> Result<(), ArchiveError> {
        let path = self
            .store
            .local_path(rel)?
            .ok_or_else(|| ArchiveError::Io {
                path: rel.to_owned(),
                source: std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    "listed in its manifest, missing from the archive (run verify-chain --archive)",
                ),
            })?;
        parquet_file::read::<R>(&path, |row| {
            each(row);
            Ok(())
        })?;
        Ok(())
    }
}

/// The manifest's events file, for error messages.
fn file_of(manifest: &Manifest) -> String {
    manifest
        .files
        .iter()
        .find(|f| f.kind == Kind::Events)
        .map_or_else(|| manifest.month.clone(), |f| f.path.clone())
}

/// An archived row as the live readers type it.
fn event_with_context(
    row: EventRow,
    context: Option<&String>,
    file: &str,
) -> Result<EventWithContext, ArchiveError> {
    let bad = |reason: String| ArchiveError::Parquet {
        path: file.to_owned(),
        reason: format!("event {}: {reason}", row.id),
    };
    let json = |text: &Option<String>| -> Result<Option<Value>, ArchiveError> {
        text.as_deref()
            .map(serde_json::from_str)
            .transpose()
            .map_err(|e| bad(format!("a JSON column does not parse ({e})")))
    };
    let event = AuditEvent {
        id: row.id,
        changed_at: chrono::DateTime::from_timestamp_micros(row.changed_at_us)
            .ok_or_else(|| bad(format!("instant {} out of range", row.changed_at_us)))?,
        operation: row
            .operation
            .parse::<Operation>()
            .map_err(|_| bad(format!("unknown operation {:?}", row.operation)))?,
        diff: json(&row.diff)?,
        old_data: json(&row.old_data)?,
        new_data: json(&row.new_data)?,
        meta: json(&row.meta)?,
        table_schema: row.table_schema,
        table_name: row.table_name,
        record_id: row.record_id,
        old_record_id: row.old_record_id,
        txid: row.txid,
        context_id: row.context_id,
    };
    let context = context
        .map(|text| serde_json::from_str::<Value>(text))
        .transpose()
        .map_err(|e| ArchiveError::Parquet {
            path: file.to_owned(),
            reason: format!("the context of event {}: {e}", event.id),
        })?
        .map(EventContext::from_json);
    Ok(EventWithContext { event, context })
}

/// Whether `row` belongs to `schema.table`.
fn of_table(row: &EventRow, schema: &str, table: &str) -> bool {
    row.table_schema == schema && row.table_name == table
}

/// Whether `row` is under one of `keys` (as its key, or as the key it moved away from).
fn under(row: &EventRow, keys: &[String]) -> bool {
    [&row.record_id, &row.old_record_id]
        .into_iter()
        .flatten()
        .any(|k| keys.contains(k))
}

impl ArchivedEvents for ArchiveReader {
    fn record(
        &self,
        schema: &str,
        table: &str,
        key: &str,
    ) -> Result<Vec<EventWithContext>, ReadError> {
        let keys = [key.to_owned()];
        self.events(|row| {
            of_table(row, schema, table) && (under(row, &keys) || row.operation == "DDL")
        })
        .map_err(into_read)
    }

    fn key_changes_and_truncates(
        &self,
        schema: &str,
        table: &str,
    ) -> Result<Vec<EventWithContext>, ReadError> {
        self.events(|row| {
            of_table(row, schema, table)
                && (row.old_record_id.is_some()
                    || (row.record_id.is_none() && row.operation == "TRUNCATE"))
        })
        .map_err(into_read)
    }

    fn of_keys(
        &self,
        schema: &str,
        table: &str,
        keys: &[String],
    ) -> Result<Vec<EventWithContext>, ReadError> {
        self.events(|row| of_table(row, schema, table) && under(row, keys))
            .map_err(into_read)
    }
}

fn into_read(e: ArchiveError) -> ReadError {
    match e {
        ArchiveError::Audit(e) => ReadError::Audit(e),
        other => ReadError::Archive(other.to_string()),
    }
}
