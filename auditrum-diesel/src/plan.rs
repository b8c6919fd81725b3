//! The one planner: what brings installed specs in line with the registry, as a list of
//! [`Change`]s, and the SQL that applies (and reverts) each. Both ways of installing use it:
//! [`migrations`](crate::migrations) writes the SQL into files, [`sync`](crate::sync) runs it.

use std::collections::BTreeMap;
use std::fmt;

use serde_json::Value;

use crate::registry::Registry;
use crate::sql::{downgrade_refused_sql, upgrade_sql, CoreStamp, CORE_VERSION};
use crate::{
    core_schema_down_sql, core_schema_sql, install_sql, uninstall_sql, AuditConfig, SpecError,
    TrackSpec,
};

/// Installed specs by table, `(schema, table)`.
pub(crate) type Installed = BTreeMap<(String, String), TrackSpec>;

/// A spec's table, as the key of [`Installed`].
pub(crate) fn key(spec: &TrackSpec) -> (String, String) {
    (spec.schema().to_owned(), spec.table().to_owned())
}

/// One step that brings the audit setup in line with the registry.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
// A plan holds a handful of changes, made once per `makemigrations` / `sync`: boxing the
// specs would save nothing measurable and put a `Box` in every match of the public enum.
#[allow(clippy::large_enum_variant)]
pub enum Change {
    /// Create the core schema of the audit table (`schema.table`).
    CoreSchema {
        /// The audit table, `schema.table`.
        audit_table: String,
    },
    /// Upgrade the core schema of the audit table to this version's, and reinstall the
    /// capture of every table tracked in it (see `docs/upgrading.md`).
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
    /// The SQL that makes this change.
    pub(crate) fn up_sql(&self, config: &AuditConfig) -> Result<String, SpecError> {
        match self {
            Change::CoreSchema { .. } => Ok(core_schema_sql(config)),
            Change::UpgradeCore { from, specs, .. } => upgrade_sql(config, from, specs),
            Change::Track { spec } | Change::Retrack { spec, .. } => install_sql(spec, config),
            Change::Untrack { previous } => uninstall_sql(&previous.name(), config),
        }
    }

    /// The SQL that undoes this change: a changed spec goes back to the previous one.
    pub(crate) fn down_sql(&self, config: &AuditConfig) -> Result<String, SpecError> {
        match self {
            Change::CoreSchema { .. } => Ok(core_schema_down_sql(config)),
            Change::UpgradeCore { from, .. } => Ok(downgrade_refused_sql(config, from)),
            Change::Track { spec } => uninstall_sql(&spec.name(), config),
            Change::Retrack { previous, .. } | Change::Untrack { previous } => {
                install_sql(previous, config)
            }
        }
    }

    /// A short name for a migration folder: `auditrum_core`, `auditrum_track_users`, …
    pub(crate) fn folder_name(&self) -> String {
        let (verb, spec) = match self {
            Change::CoreSchema { .. } => return "auditrum_core".into(),
            Change::UpgradeCore { .. } => return "auditrum_upgrade_core".into(),
            Change::Track { spec } => ("track", spec),
            Change::Retrack { spec, .. } => ("retrack", spec),
            Change::Untrack { previous } => ("untrack", previous),
        };
        let table = match spec.schema() {
            "public" => spec.table().to_owned(),
            schema => format!("{schema}_{}", spec.table()),
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
                CORE_VERSION,
                if from.version == CORE_VERSION {
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

/// The changes that bring what is installed to `wanted`: the core schema when it is missing
/// (`core` is the stamp of the installed one) or its upgrade when it is another version's,
/// then new and changed specs, then removed ones, each group by table.
pub(crate) fn changes(
    config: &AuditConfig,
    core: Option<&CoreStamp>,
    existing: &Installed,
    wanted: &[TrackSpec],
) -> Vec<Change> {
    let mut changes = Vec::new();
    match core {
        None => changes.push(Change::CoreSchema {
            audit_table: config.display_name(),
        }),
        Some(stamp) if *stamp != CoreStamp::current(config) => changes.push(Change::UpgradeCore {
            audit_table: config.display_name(),
            from: stamp.clone(),
            specs: existing.values().cloned().collect(),
        }),
        Some(_) => {}
    }
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

/// A binary that links no model (the standalone `auditrum-diesel`, or a forgotten
/// `use my_models as _;`) would remove every audited table's triggers: refused unless
/// `allow_empty`.
pub(crate) fn refuse_to_untrack_everything(
    registry: &Registry,
    changes: &[Change],
    allow_empty: bool,
) -> Result<(), EmptyRegistry> {
    let untracks = changes
        .iter()
        .filter(|c| matches!(c, Change::Untrack { .. }))
        .count();
    if registry.is_empty() && untracks > 0 && !allow_empty {
        return Err(EmptyRegistry { untracks });
    }
    Ok(())
}

/// The registry is empty, so the plan would remove every audited table's triggers.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "this binary links no audited model, so it would remove the triggers of {untracks} \
     table(s): run it from your crate's audit binary (with `use my_models as _;` when \
     the models live in another crate), or pass --allow-empty to remove them"
)]
pub struct EmptyRegistry {
    /// How many tables would lose their triggers.
    pub untracks: usize,
}
