//! `TrackSpec`: what to audit on one table.
//!
//! One vocabulary: the builder's setters and the spec's getters share their names
//! (`schema`, `table`, `key`, `columns`, `track_only`, `exclude`, `meta`, `condition`,
//! `storage`). The builder checks once, in `build()`; a `TrackSpec` is never invalid, and
//! deserializing one (from the registry table) checks it too.

mod builder;
mod check;
mod column;
mod name;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub use builder::{IntoTrackSpec, TrackSpecBuilder};
pub use column::Column;
pub(crate) use name::split_qualified;
pub use name::TableName;

use crate::SpecError;

/// How much of each row an event stores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum StorageMode {
    /// INSERT stores `new_data`, DELETE stores `old_data`, UPDATE stores only the `diff`.
    /// Any earlier state can still be rebuilt from the INSERT and the diffs after it.
    #[default]
    Diff,
    /// As `Diff`, and UPDATE also stores the full `old_data` and `new_data`.
    Full,
}

/// How a column's values are written to the log, when not as they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Protection {
    /// Only the fact of a change: a marker instead of the value.
    Mask,
    /// A keyed hash of the value.
    Hash,
}

/// What to audit on one table: its key, which columns, under which condition.
///
/// Built with [`TrackSpec::builder`], whose `build()` checks every option: a `TrackSpec`
/// in hand is valid.
///
/// ```
/// use auditrum_diesel::TrackSpec;
///
/// let spec = TrackSpec::builder("app.users")
///     .key(["id"])
///     .columns(["id", "email", "name", "password_hash", "tenant_id"])
///     .exclude(["password_hash"])
///     .meta(["tenant_id"])
///     .condition("NEW.tenant_id IS NOT NULL")
///     .build()?;
/// assert_eq!((spec.schema(), spec.table()), ("app", "users"));
/// assert_eq!(spec.tracked_columns().len(), 4);
/// # Ok::<(), auditrum_diesel::SpecError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "Fields")]
pub struct TrackSpec {
    fields: Fields,
}

/// The options of a spec, as stored (canonical JSON: field order fixed, empty options left
/// out). Shared by the builder and the spec, so both speak the same names.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Fields {
    schema: String,
    table: String,
    key: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    columns: Vec<Column>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    track_only: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    exclude: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    condition: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    meta: Vec<String>,
    #[serde(default)]
    storage: StorageMode,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    mask: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    hash: Vec<String>,
}

impl Fields {
    fn new(schema: String, table: String) -> Self {
        Fields {
            schema,
            table,
            key: vec!["id".into()],
            columns: Vec::new(),
            track_only: Vec::new(),
            exclude: Vec::new(),
            condition: None,
            meta: Vec::new(),
            storage: StorageMode::default(),
            mask: Vec::new(),
            hash: Vec::new(),
        }
    }

    fn display_name(&self) -> String {
        format!("{}.{}", self.schema, self.table)
    }

    /// See [`TrackSpec::tracked_columns`].
    fn tracked_columns(&self) -> Vec<Column> {
        if self.columns.is_empty() {
            return self.track_only.iter().map(Column::new).collect();
        }
        self.columns
            .iter()
            .filter(|c| self.track_only.is_empty() || self.track_only.contains(&c.name))
            .filter(|c| !self.exclude.contains(&c.name))
            .cloned()
            .collect()
    }
}

impl TryFrom<Fields> for TrackSpec {
    type Error = SpecError;

    fn try_from(fields: Fields) -> Result<Self, SpecError> {
        check::check(&fields)?;
        Ok(TrackSpec { fields })
    }
}

/// Serialized as its canonical JSON (see [`TrackSpec::to_json`]).
impl Serialize for TrackSpec {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.fields.serialize(serializer)
    }
}

impl TrackSpec {
    /// A builder for `table` or `schema.table` (schema `public` when not given), keyed by
    /// `id`; [`build`](TrackSpecBuilder::build) checks the options.
    pub fn builder(table: &str) -> TrackSpecBuilder {
        TrackSpecBuilder::new(table)
    }

    /// A builder holding this spec's options, to change some and build again.
    pub fn to_builder(&self) -> TrackSpecBuilder {
        TrackSpecBuilder::from_fields(self.fields.clone())
    }

    /// Schema of the audited table.
    pub fn schema(&self) -> &str {
        &self.fields.schema
    }

    /// Name of the audited table (without its schema).
    pub fn table(&self) -> &str {
        &self.fields.table
    }

    /// The table's name: schema and table.
    pub fn name(&self) -> TableName {
        TableName::from_checked(&self.fields.schema, &self.fields.table)
    }

    /// `schema.table`, unquoted, for messages.
    pub fn display_name(&self) -> String {
        self.fields.display_name()
    }

    /// Primary-key columns.
    pub fn key(&self) -> &[String] {
        &self.fields.key
    }

    /// The table's columns as the spec knows them (empty when only `track_only` was given).
    pub fn columns(&self) -> &[Column] {
        &self.fields.columns
    }

    /// The `track_only` columns (empty when not set).
    pub fn track_only(&self) -> &[String] {
        &self.fields.track_only
    }

    /// The `exclude` columns (empty when not set).
    pub fn exclude(&self) -> &[String] {
        &self.fields.exclude
    }

    /// Columns copied onto each event's `meta`.
    pub fn meta(&self) -> &[String] {
        &self.fields.meta
    }

    /// The condition, if any.
    pub fn condition(&self) -> Option<&str> {
        self.fields.condition.as_deref()
    }

    /// The storage mode.
    pub fn storage(&self) -> StorageMode {
        self.fields.storage
    }

    /// Columns whose events record only *that* they changed: old and new values are stored
    /// as the marker `{"$auditrum": "masked"}`.
    pub fn mask(&self) -> &[String] {
        &self.fields.mask
    }

    /// Columns stored as a keyed hash, `"hmac-sha256:<hex>"` of the value's text form (the
    /// key lives in the log's schema, out of the application's reach).
    pub fn hash(&self) -> &[String] {
        &self.fields.hash
    }

    /// How a value of `column` is written to the log.
    pub(crate) fn protection(&self, column: &str) -> Option<Protection> {
        let named = |list: &[String]| list.iter().any(|c| c == column);
        if named(&self.fields.mask) {
            Some(Protection::Mask)
        } else if named(&self.fields.hash) {
            Some(Protection::Hash)
        } else {
            None
        }
    }

    /// The columns whose changes are recorded, in table order (or `track_only` order when
    /// the table's columns are unknown).
    pub fn tracked_columns(&self) -> Vec<Column> {
        self.fields.tracked_columns()
    }

    /// Whether the spec was read from the table (typed columns, as `introspect` gives) and
    /// tracks every column but `exclude`: a column the table gains later is then expected to
    /// be tracked too. A model's spec lists its fields, not the table's columns, so a column
    /// the model does not map is not a surprise.
    pub(crate) fn tracks_all_columns_of_the_table(&self) -> bool {
        self.fields.track_only.is_empty()
            && !self.fields.columns.is_empty()
            && self.fields.columns.iter().all(|c| c.sql_type.is_some())
    }

    /// The column named `name`, with its type when known.
    pub(crate) fn column(&self, name: &str) -> Column {
        self.fields
            .columns
            .iter()
            .find(|c| c.name == name)
            .cloned()
            .unwrap_or_else(|| Column::new(name))
    }

    /// A stable hash of the spec (SHA-256 of its canonical JSON), embedded in generated
    /// migrations and the registry table to tell which version of a spec is installed.
    pub fn fingerprint(&self) -> String {
        hex::encode(Sha256::digest(self.to_json().as_bytes()))
    }

    /// The spec as canonical JSON (field order fixed, empty options left out).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("a TrackSpec always serializes")
    }
}
