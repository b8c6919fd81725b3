//! `TrackSpecBuilder`: sets a spec's options; `build()` checks them once.

use super::name::split_qualified;
use super::{Column, Fields, StorageMode, TableName, TrackSpec};
use crate::SpecError;

/// Sets the options of a [`TrackSpec`]; [`build`](Self::build) checks them and gives the
/// spec. Start with [`TrackSpec::builder`], or [`TrackSpec::to_builder`] to change a spec.
///
/// Each setter replaces what an earlier call of it set.
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until `build()`"]
pub struct TrackSpecBuilder {
    fields: Fields,
    /// A malformed table name given to [`TrackSpec::builder`], reported by `build()`.
    name_error: Option<SpecError>,
}

impl TrackSpecBuilder {
    /// A builder for `table` or `schema.table` (schema `public` when not given), keyed by
    /// `id`.
    pub(super) fn new(table: &str) -> Self {
        let (fields, name_error) = match split_qualified(table) {
            Ok((schema, table)) => (
                Fields::new(schema.unwrap_or_else(|| "public".into()), table),
                None,
            ),
            Err(error) => (Fields::new("public".into(), table.into()), Some(error)),
        };
        TrackSpecBuilder { fields, name_error }
    }

    pub(super) fn from_fields(fields: Fields) -> Self {
        TrackSpecBuilder {
            fields,
            name_error: None,
        }
    }

    /// Checks the options and gives the spec: a [`TrackSpec`] in hand is always valid.
    pub fn build(self) -> Result<TrackSpec, SpecError> {
        if let Some(error) = self.name_error {
            return Err(error);
        }
        TrackSpec::try_from(self.fields)
    }

    /// The table's name as set so far, or the error of a malformed one.
    pub(crate) fn name(&self) -> Result<TableName, SpecError> {
        match &self.name_error {
            Some(error) => Err(error.clone()),
            None => {
                super::name::check_name("schema", &self.fields.schema)?;
                Ok(TableName::from_checked(
                    &self.fields.schema,
                    &self.fields.table,
                ))
            }
        }
    }

    /// The schema of the table (replacing one given with the table's name).
    pub fn schema(mut self, schema: impl Into<String>) -> Self {
        self.fields.schema = schema.into();
        self
    }

    /// The primary-key columns (several for a composite key); `id` when not set.
    pub fn key<I: IntoIterator<Item = S>, S: Into<String>>(mut self, columns: I) -> Self {
        self.fields.key = columns.into_iter().map(Into::into).collect();
        self
    }

    /// The table's columns, by name (`"email"`) or with their SQL type
    /// ([`Column::typed`]), which decides how a change is compared.
    pub fn columns<I: IntoIterator<Item = C>, C: Into<Column>>(mut self, columns: I) -> Self {
        self.fields.columns = columns.into_iter().map(Into::into).collect();
        self
    }

    /// Audits only these columns.
    pub fn track_only<I: IntoIterator<Item = S>, S: Into<String>>(mut self, columns: I) -> Self {
        self.fields.track_only = columns.into_iter().map(Into::into).collect();
        self
    }

    /// Audits every column but these (secrets, timestamps that change on every write).
    pub fn exclude<I: IntoIterator<Item = S>, S: Into<String>>(mut self, columns: I) -> Self {
        self.fields.exclude = columns.into_iter().map(Into::into).collect();
        self
    }

    /// Records a row only when this SQL condition holds; the row is named `NEW`.
    ///
    /// Semantics per operation: INSERT records rows for which it holds after the insert;
    /// DELETE records rows for which it held before the delete (`NEW` names the deleted
    /// row); UPDATE records a change when it holds before *or* after it, so rows entering
    /// and leaving the audited set are both recorded. TRUNCATE is always recorded.
    pub fn condition(mut self, condition: impl Into<String>) -> Self {
        self.fields.condition = Some(condition.into());
        self
    }

    /// Copies these columns onto every event's `meta` (for example `tenant_id`).
    pub fn meta<I: IntoIterator<Item = S>, S: Into<String>>(mut self, columns: I) -> Self {
        self.fields.meta = columns.into_iter().map(Into::into).collect();
        self
    }

    /// Records only *that* these columns changed, never their values: old and new values
    /// are stored as the marker `{"$auditrum": "masked"}` (see `docs/personal-data.md`).
    pub fn mask<I: IntoIterator<Item = S>, S: Into<String>>(mut self, columns: I) -> Self {
        self.fields.mask = columns.into_iter().map(Into::into).collect();
        self
    }

    /// Stores these columns as a keyed hash, `"hmac-sha256:<hex>"` of the value's text form,
    /// so "every event where email was X" still works (`read::hashed_events`) while the log
    /// holds no value in clear. The key lives in the log's schema, readable by its owner only.
    pub fn hash<I: IntoIterator<Item = S>, S: Into<String>>(mut self, columns: I) -> Self {
        self.fields.hash = columns.into_iter().map(Into::into).collect();
        self
    }

    /// How much of each row an event stores.
    pub fn storage(mut self, storage: StorageMode) -> Self {
        self.fields.storage = storage;
        self
    }
}

/// A spec, or a builder to build into one: what [`Registry::add`](crate::registry::Registry::add)
/// and [`register!`](crate::register) accept, so a builder's error is reported with where it
/// was registered.
pub trait IntoTrackSpec {
    /// The spec, or why it does not build.
    fn into_track_spec(self) -> Result<TrackSpec, SpecError>;
}

impl IntoTrackSpec for TrackSpec {
    fn into_track_spec(self) -> Result<TrackSpec, SpecError> {
        Ok(self)
    }
}

impl IntoTrackSpec for TrackSpecBuilder {
    fn into_track_spec(self) -> Result<TrackSpec, SpecError> {
        self.build()
    }
}
