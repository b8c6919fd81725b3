//! Attribute and option names, in one place.

/// Our attribute: `#[audited(...)]`.
pub const AUDITED: &str = "audited";
/// Diesel's attribute, read for `table_name`, `primary_key` and `column_name`.
pub const DIESEL: &str = "diesel";

/// Struct option: `track_only(field, ...)`.
pub const TRACK_ONLY: &str = "track_only";
/// Struct option: `exclude(field, ...)`.
pub const EXCLUDE: &str = "exclude";
/// Struct option: `meta(field, ...)`.
pub const META: &str = "meta";
/// Struct option: `mask(field, ...)`.
pub const MASK: &str = "mask";
/// Struct option: `hash(field, ...)`.
pub const HASH: &str = "hash";
/// Struct option: `condition = "SQL"`.
pub const CONDITION: &str = "condition";
/// Struct option: `storage = "diff" | "full"`.
pub const STORAGE: &str = "storage";
/// Struct option: `schema = "app"`.
pub const SCHEMA: &str = "schema";
/// Struct option: `table = "sql_name"`.
pub const TABLE: &str = "table";

/// Field option: `skip`.
pub const SKIP: &str = "skip";
/// Field option: `column = "sql_name"`.
pub const COLUMN: &str = "column";

/// The struct options and the form each takes, for messages.
pub const STRUCT_OPTIONS: &[(&str, &str)] = &[
    (TRACK_ONLY, "track_only(field, ...)"),
    (EXCLUDE, "exclude(field, ...)"),
    (META, "meta(field, ...)"),
    (MASK, "mask(field, ...)"),
    (HASH, "hash(field, ...)"),
    (CONDITION, "condition = \"SQL\""),
    (STORAGE, "storage = \"diff\" | \"full\""),
    (SCHEMA, "schema = \"name\""),
    (TABLE, "table = \"name\""),
];

/// The field options and the form each takes, for messages.
pub const FIELD_OPTIONS: &[(&str, &str)] = &[(SKIP, "skip"), (COLUMN, "column = \"name\"")];

/// The storage modes `storage = "..."` accepts.
pub const STORAGE_DIFF: &str = "diff";
/// See [`STORAGE_DIFF`].
pub const STORAGE_FULL: &str = "full";

/// Diesel's struct attribute `table_name = path`.
pub const DIESEL_TABLE_NAME: &str = "table_name";
/// Diesel's struct attribute `primary_key(column, ...)`.
pub const DIESEL_PRIMARY_KEY: &str = "primary_key";
/// Diesel's field attribute `column_name = name`.
pub const DIESEL_COLUMN_NAME: &str = "column_name";
/// Diesel's field attribute `embed`.
pub const DIESEL_EMBED: &str = "embed";
/// Diesel's field attribute `select_expression = expr`.
pub const DIESEL_SELECT_EXPRESSION: &str = "select_expression";

/// `a, b, c` of the forms, for "expected one of" messages.
pub fn forms(options: &[(&str, &str)]) -> String {
    options
        .iter()
        .map(|(_, form)| format!("`{form}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The form of one option, for "expected" messages.
pub fn form_of(name: &str) -> &'static str {
    STRUCT_OPTIONS
        .iter()
        .chain(FIELD_OPTIONS)
        .find(|(option, _)| *option == name)
        .map(|(_, form)| *form)
        .unwrap_or("")
}
