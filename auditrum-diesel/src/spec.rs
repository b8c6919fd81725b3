//! `TrackSpec`: what to audit on one table.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

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

/// A column of the audited table, with its SQL type when known.
///
/// The type decides how a change is detected: built-in types whose `=` is identity compare
/// with `IS DISTINCT FROM`; every other type, and a column of unknown type, by binary
/// image (see `docs/architecture.md`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Column {
    /// Column name, unquoted.
    pub name: String,
    /// SQL type as `format_type` prints it (`integer`, `json`, …), if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sql_type: Option<String>,
}

impl Column {
    /// A column whose type is not known (compared by binary image).
    pub fn new(name: impl Into<String>) -> Self {
        Column {
            name: name.into(),
            sql_type: None,
        }
    }

    /// A column of a known SQL type.
    pub fn typed(name: impl Into<String>, sql_type: impl Into<String>) -> Self {
        Column {
            name: name.into(),
            sql_type: Some(sql_type.into()),
        }
    }

    /// Whether PostgreSQL's `=` for this column's type is identity: two values it calls equal
    /// are the same value. True only for built-in types known to behave so; then a change
    /// is detected with `IS DISTINCT FROM`, which resolves to the `pg_catalog` operator under
    /// the capture functions' pinned `search_path`. Every other type (`box` compares areas,
    /// `numeric` ignores scale, `citext` case, `jsonb` numeric form, extension types have no
    /// operator in `pg_catalog` at all) is compared by binary image (`record_image_eq`), which is exact,
    /// always resolvable, and calls no function of the type.
    pub(crate) fn has_exact_equality(&self) -> bool {
        const EXACT: &[&str] = &[
            "smallint",
            "integer",
            "bigint",
            "boolean",
            "text",
            "character varying",
            "character",
            "uuid",
            "bytea",
            "date",
            "timestamp without time zone",
            "timestamp with time zone",
            "time without time zone",
            "oid",
            "\"char\"",
            "name",
        ];
        let Some(sql_type) = self.sql_type.as_deref() else {
            return false;
        };
        // `character varying(255)`, `timestamp(3) with time zone`: the modifier does not
        // change equality; `numeric(12,2)` fixes the scale, so `=` is identity there.
        let without_modifier = strip_modifier(sql_type);
        EXACT.contains(&without_modifier.as_str())
            || (sql_type.starts_with("numeric(") && !sql_type.ends_with("[]"))
    }
}

impl Column {
    /// `::jsonb` or `::jsonb[]` for a `json` (array) column, compared as `jsonb`.
    pub(crate) fn json_as_jsonb(&self) -> Option<&'static str> {
        match self.sql_type.as_deref()? {
            "json" => Some("::jsonb"),
            "json[]" => Some("::jsonb[]"),
            _ => None,
        }
    }
}

/// `timestamp(3) with time zone` → `timestamp with time zone`, `character varying(9)` →
/// `character varying`.
fn strip_modifier(sql_type: &str) -> String {
    match (sql_type.find('('), sql_type.find(')')) {
        (Some(open), Some(close)) if open < close => {
            format!("{}{}", &sql_type[..open], &sql_type[close + 1..])
        }
        _ => sql_type.to_owned(),
    }
}

/// What to audit on one table: its key, which columns, under which condition.
///
/// ```
/// use auditrum_diesel::TrackSpec;
///
/// let spec = TrackSpec::new("app.users")?
///     .key(["id"])
///     .columns(["id", "email", "name", "password_hash", "tenant_id"])
///     .exclude(["password_hash"])
///     .meta(["tenant_id"])
///     .condition("NEW.tenant_id IS NOT NULL");
/// spec.validate()?;
/// assert_eq!(spec.tracked_columns().len(), 4);
/// # Ok::<(), auditrum_diesel::SpecError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrackSpec {
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
}

impl TrackSpec {
    /// A spec for `table` or `schema.table` (schema `public` when not given), keyed by `id`.
    pub fn new(table: &str) -> Result<Self, SpecError> {
        let (schema, table) = split_qualified(table)?;
        Ok(TrackSpec {
            schema: schema.unwrap_or_else(|| "public".into()),
            table,
            key: vec!["id".into()],
            columns: Vec::new(),
            track_only: Vec::new(),
            exclude: Vec::new(),
            condition: None,
            meta: Vec::new(),
            storage: StorageMode::default(),
        })
    }

    /// Sets the schema of the table.
    pub fn schema(mut self, schema: impl Into<String>) -> Self {
        self.schema = schema.into();
        self
    }

    /// Sets the primary-key columns (several for a composite key).
    pub fn key<I: IntoIterator<Item = S>, S: Into<String>>(mut self, columns: I) -> Self {
        self.key = columns.into_iter().map(Into::into).collect();
        self
    }

    /// Sets the table's columns by name (types unknown).
    pub fn columns<I: IntoIterator<Item = S>, S: Into<String>>(mut self, columns: I) -> Self {
        self.columns = columns.into_iter().map(Column::new).collect();
        self
    }

    /// Sets the table's columns with their SQL types.
    pub fn typed_columns<I: IntoIterator<Item = Column>>(mut self, columns: I) -> Self {
        self.columns = columns.into_iter().collect();
        self
    }

    /// Audits only these columns.
    pub fn track_only<I: IntoIterator<Item = S>, S: Into<String>>(mut self, columns: I) -> Self {
        self.track_only = columns.into_iter().map(Into::into).collect();
        self
    }

    /// Audits every column but these (secrets, timestamps that change on every write).
    pub fn exclude<I: IntoIterator<Item = S>, S: Into<String>>(mut self, columns: I) -> Self {
        self.exclude = columns.into_iter().map(Into::into).collect();
        self
    }

    /// Records a row only when this SQL condition holds; the row is named `NEW`.
    ///
    /// Semantics per operation: INSERT records rows for which it holds after the insert;
    /// DELETE records rows for which it held before the delete (`NEW` names the deleted
    /// row); UPDATE records a change when it holds before *or* after it, so rows entering
    /// and leaving the audited set are both recorded. TRUNCATE is always recorded.
    pub fn condition(mut self, condition: impl Into<String>) -> Self {
        self.condition = Some(condition.into());
        self
    }

    /// Copies these columns onto every event's `meta` (for example `tenant_id`).
    pub fn meta<I: IntoIterator<Item = S>, S: Into<String>>(mut self, columns: I) -> Self {
        self.meta = columns.into_iter().map(Into::into).collect();
        self
    }

    /// Sets how much of each row an event stores.
    pub fn storage(mut self, storage: StorageMode) -> Self {
        self.storage = storage;
        self
    }

    /// Schema of the audited table.
    pub fn table_schema(&self) -> &str {
        &self.schema
    }

    /// Name of the audited table.
    pub fn table_name(&self) -> &str {
        &self.table
    }

    /// `schema.table`, unquoted, for messages.
    pub fn display_name(&self) -> String {
        format!("{}.{}", self.schema, self.table)
    }

    /// Primary-key columns.
    pub fn key_columns(&self) -> &[String] {
        &self.key
    }

    /// Columns copied onto each event's `meta`.
    pub fn meta_columns(&self) -> &[String] {
        &self.meta
    }

    /// The condition, if any.
    pub fn condition_sql(&self) -> Option<&str> {
        self.condition.as_deref()
    }

    /// The storage mode.
    pub fn storage_mode(&self) -> StorageMode {
        self.storage
    }

    /// The columns whose changes are recorded, in table order (or `track_only` order when
    /// the table's columns are unknown). Call [`validate`](Self::validate) first.
    pub fn tracked_columns(&self) -> Vec<Column> {
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

    /// Every column of the table the spec knows (empty when only `track_only` was given).
    pub(crate) fn table_columns(&self) -> &[Column] {
        &self.columns
    }

    /// Sets the table name (keeping the schema).
    pub fn table(mut self, table: impl Into<String>) -> Self {
        self.table = table.into();
        self
    }

    /// The table's columns as the spec knows them (empty when unknown).
    pub fn known_columns(&self) -> &[Column] {
        &self.columns
    }

    /// Whether the spec was read from the table (typed columns, as `introspect` gives) and
    /// tracks every column but `exclude`: a column the table gains later is then expected to
    /// be tracked too. A model's spec lists its fields, not the table's columns, so a column
    /// the model does not map is not a surprise.
    pub(crate) fn tracks_all_columns_of_the_table(&self) -> bool {
        self.track_only.is_empty()
            && !self.columns.is_empty()
            && self.columns.iter().all(|c| c.sql_type.is_some())
    }

    /// The column named `name`, with its type when known.
    pub(crate) fn column(&self, name: &str) -> Column {
        self.columns
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

    /// Checks the spec; every SQL generator calls this before producing any SQL.
    pub fn validate(&self) -> Result<(), SpecError> {
        check_name("schema", &self.schema)?;
        check_name("table", &self.table)?;
        let table = self.display_name();
        for column in &self.columns {
            check_name("column", &column.name)?;
        }
        if self.key.is_empty() {
            return Err(SpecError::NoKey { table });
        }
        if !self.track_only.is_empty() && !self.exclude.is_empty() {
            return Err(SpecError::TrackOnlyAndExclude { table });
        }
        self.check_list("key", &self.key)?;
        self.check_list("track_only", &self.track_only)?;
        self.check_list("exclude", &self.exclude)?;
        self.check_list("meta", &self.meta)?;
        if self.columns.is_empty() && self.track_only.is_empty() {
            return Err(SpecError::ColumnsUnknown { table });
        }
        if self.tracked_columns().is_empty() {
            return Err(SpecError::NothingTracked { table });
        }
        if let Some(condition) = &self.condition {
            check_condition(&table, condition)?;
        }
        Ok(())
    }

    /// Names in an option must be unique, and known when the column list is.
    fn check_list(&self, option: &'static str, names: &[String]) -> Result<(), SpecError> {
        for (i, name) in names.iter().enumerate() {
            check_name("column", name)?;
            if names[..i].contains(name) {
                return Err(SpecError::DuplicateColumn {
                    table: self.display_name(),
                    option,
                    column: name.clone(),
                });
            }
            if !self.columns.is_empty() && !self.columns.iter().any(|c| &c.name == name) {
                return Err(SpecError::UnknownColumn {
                    table: self.display_name(),
                    option,
                    column: name.clone(),
                    known: self
                        .columns
                        .iter()
                        .map(|c| c.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                });
            }
        }
        Ok(())
    }
}

fn check_name(what: &'static str, name: &str) -> Result<(), SpecError> {
    // A control character (a newline above all) in a name is refused: generated SQL puts
    // names in `--` comments too, and a name is shown to people in logs and terminals.
    // `$auditrum$` delimits the function bodies and DO blocks the name is written into.
    if name.is_empty() || name.chars().any(char::is_control) || name.contains("$auditrum$") {
        return Err(SpecError::InvalidName {
            what,
            name: name.to_owned(),
        });
    }
    Ok(())
}

/// The condition is developer-written SQL embedded in a `WHERE`; refuse what would break
/// out of it or out of the function body it is embedded in.
fn check_condition(table: &str, condition: &str) -> Result<(), SpecError> {
    let refuse = |reason| {
        Err(SpecError::InvalidCondition {
            table: table.to_owned(),
            condition: condition.to_owned(),
            reason,
        })
    };
    if condition.trim().is_empty() {
        return refuse("it is empty");
    }
    if condition.contains('\0') {
        return refuse("it contains a NUL byte");
    }
    if condition.contains("$auditrum$") {
        return refuse("it contains `$auditrum$`, which delimits the trigger body");
    }
    if condition.contains(';') {
        return refuse("it contains `;`: a condition is one SQL expression");
    }
    Ok(())
}

/// Splits `schema.table` (or `table`) into its parts.
pub(crate) fn split_qualified(name: &str) -> Result<(Option<String>, String), SpecError> {
    let parts: Vec<&str> = name.split('.').collect();
    let (schema, table) = match parts.as_slice() {
        [table] => (None, *table),
        [schema, table] => (Some(*schema), *table),
        _ => return Err(SpecError::InvalidQualifiedName(name.to_owned())),
    };
    if let Some(schema) = schema {
        check_name("schema", schema)?;
    }
    check_name("table", table)?;
    Ok((schema.map(str::to_owned), table.to_owned()))
}
