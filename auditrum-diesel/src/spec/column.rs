//! A column of an audited table, and how its changes are compared.

use serde::{Deserialize, Serialize};

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

    /// `::jsonb` or `::jsonb[]` for a `json` (array) column, compared as `jsonb`.
    pub(crate) fn json_as_jsonb(&self) -> Option<&'static str> {
        match self.sql_type.as_deref()? {
            "json" => Some("::jsonb"),
            "json[]" => Some("::jsonb[]"),
            _ => None,
        }
    }
}

/// A column named without its type: `builder.columns(["id", "email"])`.
impl From<&str> for Column {
    fn from(name: &str) -> Self {
        Column::new(name)
    }
}

/// A column named without its type.
impl From<String> for Column {
    fn from(name: String) -> Self {
        Column::new(name)
    }
}

/// A column named without its type.
impl From<&String> for Column {
    fn from(name: &String) -> Self {
        Column::new(name.as_str())
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
