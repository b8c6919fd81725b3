//! `history --archive` and `as-of --archive`: a record's archived events, read straight from
//! the Parquet files (every month's events file is scanned a batch at a time; only the
//! record's events and their context rows are kept).

use std::collections::{HashMap, HashSet};

use chrono::DateTime;
use serde_json::Value;

use super::error::ArchiveError;
use super::layout;
use super::manifest::{Manifest, FORMAT};
use super::parquet_file;
use super::rows::{ContextRow, EventRow, Kind};
use super::store::Store;
use crate::history::HistoryEvent;

/// The archived events of record `key` (normalized, as stored) of `schema.table`, oldest
/// first, including the event that moved it to another key.
pub fn archived_history(
    store: &Store,
    audit_table: &str,
    schema: &str,
    table: &str,
    key: &str,
) -> Result<Vec<HistoryEvent>, ArchiveError> {
    let manifests = manifests(store, audit_table)?;
    let files = |kind: Kind| -> Vec<String> {
        manifests
            .iter()
            .flat_map(|m| m.files.iter())
            .filter(|f| f.kind == kind)
            .map(|f| f.path.clone())
            .collect()
    };
    let mut events = Vec::new();
    for rel in files(Kind::Events) {
        let path = local(store, &rel)?;
        parquet_file::read::<EventRow>(&path, |row| {
            let mine = row.table_name == table
                && row.table_schema == schema
                && (row.record_id.as_deref() == Some(key)
                    || row.old_record_id.as_deref() == Some(key));
            if mine {
                events.push(row);
            }
            Ok(())
        })?;
    }
    let wanted: HashSet<i64> = events.iter().filter_map(|e| e.context_id).collect();
    let mut contexts = HashMap::new();
    if !wanted.is_empty() {
        for rel in files(Kind::Contexts) {
            let path = local(store, &rel)?;
            parquet_file::read::<ContextRow>(&path, |row| {
                if wanted.contains(&row.id) {
                    contexts.insert(row.id, row.context);
                }
                Ok(())
            })?;
        }
    }
    events.sort_by_key(|e| e.id);
    events
        .into_iter()
        .map(|e| {
            let context = e
                .context_id
                .and_then(|id| contexts.get(&id))
                .map(|c| json(c))
                .transpose()?;
            Ok(HistoryEvent {
                id: e.id,
                changed_at: DateTime::from_timestamp_micros(e.changed_at_us).unwrap_or_default(),
                operation: e.operation,
                schema: e.table_schema,
                table: e.table_name,
                record_id: e.record_id,
                old_record_id: e.old_record_id,
                diff: e.diff.as_deref().map(json).transpose()?,
                old_data: e.old_data.as_deref().map(json).transpose()?,
                new_data: e.new_data.as_deref().map(json).transpose()?,
                meta: e.meta.as_deref().map(json).transpose()?,
                txid: e.txid,
                context,
            })
        })
        .collect()
}

fn json(text: &str) -> Result<Value, ArchiveError> {
    serde_json::from_str(text).map_err(|e| ArchiveError::Parquet {
        path: "archive".into(),
        reason: format!("a JSON column does not parse: {e}"),
    })
}

fn local(store: &Store, rel: &str) -> Result<std::path::PathBuf, ArchiveError> {
    store
        .local_path(rel)?
        .ok_or_else(|| ArchiveError::ReadBack {
            path: rel.to_owned(),
            what: "missing from the archive (run verify-chain --archive)".into(),
        })
}

/// The readable manifests of `audit_table` (its plain table name).
fn manifests(store: &Store, audit_table: &str) -> Result<Vec<Manifest>, ArchiveError> {
    let prefix = layout::manifest_prefix(audit_table);
    let mut found = Vec::new();
    for rel in store.list()? {
        if rel.starts_with(&prefix) && rel.ends_with(".json") {
            let bytes = store.read_bytes(&rel)?.unwrap_or_default();
            let manifest: Manifest =
                serde_json::from_slice(&bytes).map_err(|e| ArchiveError::Manifest {
                    path: rel.clone(),
                    reason: e.to_string(),
                })?;
            if manifest.format == FORMAT {
                found.push(manifest);
            }
        }
    }
    if found.is_empty() {
        return Err(ArchiveError::BadLocation(format!(
            "{}: no archive manifest of table {audit_table} here",
            store.describe()
        )));
    }
    Ok(found)
}
