//! What the migrations on disk lack compared with the registry: a list of [`Change`]s.

use std::collections::BTreeMap;
use std::fmt;

use chrono::NaiveDateTime;
use serde_json::Value;

use super::scan::key;
use crate::sql::CoreStamp;
use crate::TrackSpec;

/// One step that brings the audit setup in line with the registry.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Change {
    /// Create the core schema of the audit table (`schema.table`).
    CoreSchema {
        /// The audit table, `schema.table`.
        audit_table: String,
    },
    /// Upgrade the core schema of the audit table to this version's, and reinstall the
    /// capture of every table tracked in it.
    UpgradeCore {
        /// The audit table, `schema.table`.
        audit_table: String,
        /// The stamp of the core schema installed so far.
        from: CoreStamp,
        /// The specs installed so far, whose capture is reinstalled.
        specs: Vec<TrackSpec>,
    },
    /// Start auditing a table.
    Track {
        /// Its spec.
        spec: TrackSpec,
    },
    /// Replace a table's triggers because its spec changed.
    Retrack {
        /// The new spec.
        spec: TrackSpec,
        /// The spec installed so far.
        previous: TrackSpec,
    },
    /// Stop auditing a table that is no longer registered; its events stay.
    Untrack {
        /// The spec installed so far.
        previous: TrackSpec,
    },
}

impl Change {
    /// A short name for a migration folder: `auditrum_core`, `auditrum_track_users`, …
    pub(crate) fn folder_name(&self) -> String {
        let (verb, spec) = match self {
            Change::CoreSchema { .. } => return "auditrum_core".into(),
            Change::UpgradeCore { .. } => return "auditrum_upgrade_core".into(),
            Change::Track { spec } => ("track", spec),
            Change::Retrack { spec, .. } => ("retrack", spec),
            Change::Untrack { previous } => ("untrack", previous),
        };
        let table = match spec.table_schema() {
            "public" => spec.table_name().to_owned(),
            schema => format!("{schema}_{}", spec.table_name()),
        };
        let table: String = table
            .chars()
            .map(|c| match c {
                'a'..='z' | '0'..='9' => c,
                'A'..='Z' => c.to_ascii_lowercase(),
                _ => '_',
            })
            .collect();
        format!("auditrum_{verb}_{table}")
    }
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Change::CoreSchema { audit_table } => {
                write!(f, "+ {audit_table}: the audit log's core schema")
            }
            Change::UpgradeCore {
                audit_table,
                from,
                specs,
            } => write!(
                f,
                "^ {audit_table}: core schema version {} to {}{}, capture of {} table(s) reinstalled",
                from.version,
                crate::sql::CORE_VERSION,
                if from.version == crate::sql::CORE_VERSION {
                    " (same version, changed SQL)"
                } else {
                    ""
                },
                specs.len()
            ),
            Change::Track { spec } => write!(
                f,
                "+ {}: newly audited ({} column(s))",
                spec.display_name(),
                spec.tracked_columns().len()
            ),
            Change::Retrack { spec, previous } => write!(
                f,
                "~ {}: spec changed ({})",
                spec.display_name(),
                changed_options(previous, spec).join(", ")
            ),
            Change::Untrack { previous } => write!(
                f,
                "- {}: no longer registered (its triggers are removed, its events kept)",
                previous.display_name()
            ),
        }
    }
}

/// The spec options whose values differ, by their JSON names.
fn changed_options(old: &TrackSpec, new: &TrackSpec) -> Vec<String> {
    let as_map = |spec: &TrackSpec| match serde_json::to_value(spec) {
        Ok(Value::Object(map)) => map,
        _ => serde_json::Map::new(),
    };
    let (old, new) = (as_map(old), as_map(new));
    let mut keys: Vec<&String> = old.keys().chain(new.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter(|k| old.get(*k) != new.get(*k))
        .cloned()
        .collect()
}

/// The changes that bring `existing` specs to `wanted` (sorted by table): new and changed
/// specs, then removed ones, each group by table.
pub(crate) fn diff(
    existing: &BTreeMap<(String, String), TrackSpec>,
    wanted: &[TrackSpec],
) -> Vec<Change> {
    let mut changes = Vec::new();
    for spec in wanted {
        match existing.get(&key(spec)) {
            None => changes.push(Change::Track { spec: spec.clone() }),
            Some(previous) if previous != spec => changes.push(Change::Retrack {
                spec: spec.clone(),
                previous: previous.clone(),
            }),
            Some(_) => {}
        }
    }
    for (table, previous) in existing {
        if !wanted.iter().any(|spec| &key(spec) == table) {
            changes.push(Change::Untrack {
                previous: previous.clone(),
            });
        }
    }
    changes
}

/// What a migrations directory lacks: the [`Change`]s to write, in order.
///
/// Its `Display` is the readable list `makemigrations --check` prints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub(crate) dir: String,
    pub(crate) changes: Vec<Change>,
    pub(crate) latest: Option<NaiveDateTime>,
}

impl Plan {
    /// Whether the migrations are up to date.
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    /// The changes, in the order they are written.
    pub fn changes(&self) -> &[Change] {
        &self.changes
    }
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.changes.is_empty() {
            return write!(f, "the audit migrations in {} are up to date", self.dir);
        }
        write!(
            f,
            "the audit migrations in {} are stale: {} change(s) to write",
            self.dir,
            self.changes.len()
        )?;
        for change in &self.changes {
            write!(f, "\n  {change}")?;
        }
        Ok(())
    }
}
