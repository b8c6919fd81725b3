//! Where the audit log lives and how its objects are named.

use crate::quote;
use crate::SpecError;

/// Names of the audit log's objects: the audit table, its schema and the context setting.
///
/// Every other object is named after the audit table, so two logs can live side by side:
/// `<table>_context` (context storage), `<table>_tracked` (registry of installed specs),
/// `<table>_default` (the DEFAULT partition), `<table>_pYYYYMM` (monthly partitions),
/// `<table>_context_id()` and `<table>_add_partitions(int)` (helper functions).
///
/// ```
/// let config = auditrum_diesel::AuditConfig::default();
/// assert_eq!(config.table(), "auditlog");
/// assert_eq!(config.context_setting(), "auditrum.context");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditConfig {
    schema: String,
    table: String,
    context_setting: String,
}

impl Default for AuditConfig {
    fn default() -> Self {
        AuditConfig {
            schema: "public".into(),
            table: "auditlog".into(),
            context_setting: "auditrum.context".into(),
        }
    }
}

impl AuditConfig {
    /// The default configuration: `public.auditlog`, context in `auditrum.context`.
    pub fn new() -> Self {
        Self::default()
    }

    /// Uses another audit table name (may be `schema.table`).
    pub fn with_table(mut self, table: &str) -> Result<Self, SpecError> {
        let (schema, name) = crate::spec::split_qualified(table)?;
        if let Some(schema) = schema {
            self.schema = schema;
        }
        self.table = name;
        Ok(self)
    }

    /// Uses another setting name for the context (must look like `prefix.name`).
    pub fn with_context_setting(mut self, setting: &str) -> Result<Self, SpecError> {
        let valid = setting.split('.').count() == 2
            && setting
                .split('.')
                .all(|part| !part.is_empty() && part.chars().all(is_setting_char));
        if !valid {
            return Err(SpecError::InvalidSetting(setting.to_owned()));
        }
        self.context_setting = setting.to_owned();
        Ok(self)
    }

    /// Schema of the audit table.
    pub fn schema(&self) -> &str {
        &self.schema
    }

    /// Name of the audit table.
    pub fn table(&self) -> &str {
        &self.table
    }

    /// The setting the triggers read the context from.
    pub fn context_setting(&self) -> &str {
        &self.context_setting
    }

    /// The setting that caches this transaction's context row id (per audit table).
    pub(crate) fn context_cache_setting(&self) -> String {
        self.private_setting("cache")
    }

    /// `auditrum.<what>_<schema>_<table>`: a transaction-local setting the log's functions
    /// keep for themselves (characters PostgreSQL refuses in setting names become `_`).
    pub(crate) fn private_setting(&self, what: &str) -> String {
        let sanitized: String = format!("{}_{}", self.schema, self.table)
            .chars()
            .map(|c| if is_setting_char(c) { c } else { '_' })
            .collect();
        format!("auditrum.{what}_{sanitized}")
    }

    /// The NOLOGIN role that owns the capture functions once `harden` ran: they run as it,
    /// and it may only append to the log (`INSERT` on the audit and context tables). Role
    /// names are global to the cluster, so it is named after the log's schema and table.
    pub fn capture_role(&self) -> String {
        crate::sql::shorten(&format!("auditrum_capture_{}_{}", self.schema, self.table))
    }

    /// `"schema"."<table><suffix>"`, for the objects named after the audit table.
    pub(crate) fn object(&self, suffix: &str) -> String {
        quote::qualified(&self.schema, &format!("{}{}", self.table, suffix))
    }

    /// `"schema"."table"`.
    pub fn qualified_table(&self) -> String {
        self.object("")
    }

    /// `schema.table` of the audit table, unquoted, for people and migration headers.
    pub fn display_name(&self) -> String {
        format!("{}.{}", self.schema, self.table)
    }

    /// `"schema"."<table>_context"`.
    pub fn qualified_context_table(&self) -> String {
        self.object("_context")
    }

    /// `"schema"."<table>_tracked"`.
    pub fn qualified_registry_table(&self) -> String {
        self.object("_tracked")
    }
}

fn is_setting_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}
