//! The core schema: audit table, context storage, registry and helper functions.

use super::{quote, template};
use crate::AuditConfig;

const UP: &str = include_str!("core_schema.sql");
const DOWN: &str = include_str!("core_schema_down.sql");

/// SQL that creates the core schema for `config` (safe to run twice), including the
/// partitions of the current and the next month.
///
/// ```
/// let sql = auditrum_diesel::core_schema_sql(&auditrum_diesel::AuditConfig::default());
/// assert!(sql.contains(r#"CREATE TABLE IF NOT EXISTS "public"."auditlog" ("#));
/// ```
pub fn core_schema_sql(config: &AuditConfig) -> String {
    body(config) + &super::core_version::stamp_sql(config)
}

/// The core SQL without its version stamp (what the stamp's hash covers).
pub(super) fn body(config: &AuditConfig) -> String {
    template::render(UP, &vars(config))
}

/// SQL that removes the core schema and every event in it.
pub fn core_schema_down_sql(config: &AuditConfig) -> String {
    template::render(DOWN, &vars(config))
}

/// `SELECT <table>_add_partitions(months)`: creates the partitions from the current month
/// through `months` months ahead.
pub fn add_partitions_sql(config: &AuditConfig, months: u32) -> String {
    format!("SELECT {}({months})", config.object("_add_partitions"))
}

pub(super) fn vars(config: &AuditConfig) -> Vec<(&'static str, String)> {
    let index = |suffix: &str| quote::ident(&format!("{}_{suffix}", config.table()));
    let cache = config.context_cache_setting();
    vec![
        ("schema", quote::ident(config.schema())),
        ("schema_literal", quote::literal(config.schema())),
        (
            "operation_type_literal",
            quote::literal(&format!(
                "{}.auditrum_operation",
                quote::ident(config.schema())
            )),
        ),
        ("table_literal", quote::literal(config.table())),
        ("audit_table", config.qualified_table()),
        (
            "audit_table_literal",
            quote::literal(&config.qualified_table()),
        ),
        ("default_partition", config.object("_default")),
        ("context_table", config.qualified_context_table()),
        ("registry_table", config.qualified_registry_table()),
        ("context_function", config.object("_context_id")),
        (
            "context_overlong_function",
            config.object("_context_overlong"),
        ),
        ("partitions_function", config.object("_add_partitions")),
        ("context_setting", quote::literal(config.context_setting())),
        (
            "cache_setting_source",
            quote::literal(&format!("{cache}_source")),
        ),
        ("cache_setting_id", quote::literal(&format!("{cache}_id"))),
        ("context_request_index", index("context_request_idx")),
        ("context_user_index", index("context_user_idx")),
        ("context_created_index", index("context_created_idx")),
        ("record_index", index("record_idx")),
        ("old_record_index", index("old_record_idx")),
        ("txid_index", index("txid_idx")),
        ("time_index", index("time_idx")),
        ("inline_request_index", index("inline_request_idx")),
        ("inline_user_index", index("inline_user_idx")),
    ]
}
