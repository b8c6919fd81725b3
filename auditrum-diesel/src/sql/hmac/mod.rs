//! The keyed hash of `hash(...)` columns: a key table and one function in the log's schema.
//!
//! The capture writes `"hmac-sha256:<hex>"` of a hashed column's text form through
//! [`call`]; readers who may look values up call the same function (see
//! `read::hashed_events`). Fixed SQL lives in `install.sql` and `harden.sql`.

use super::template;
use crate::quote;
use crate::AuditConfig;

const INSTALL: &str = include_str!("install.sql");
const HARDEN: &str = include_str!("harden.sql");

/// `"schema"."<log>_hmac_key"`: the key, readable by the log's owner only.
pub(crate) fn key_table(config: &AuditConfig) -> String {
    config.object("_hmac_key")
}

/// `"schema"."<log>_hmac"`: `(value text) → 'hmac-sha256:<hex>'`, NULL for NULL.
pub(crate) fn function(config: &AuditConfig) -> String {
    config.object("_hmac")
}

/// The function applied to an SQL expression of type `text`.
pub(crate) fn call(config: &AuditConfig, text_expression: &str) -> String {
    format!("{}({text_expression})", function(config))
}

/// Creates the key (once, server-side) and the function; safe to run again.
pub(crate) fn install_sql(config: &AuditConfig) -> String {
    template::render(
        INSTALL,
        &[
            ("key_table", key_table(config)),
            ("hmac_function", function(config)),
            ("hmac_signature", signature(config)),
            ("capture_role", quote::literal(&config.capture_role())),
        ],
    )
}

/// `harden`'s part for the key: owner, revokes, the capture role's EXECUTE.
pub(crate) fn harden_sql(config: &AuditConfig, admin_role: Option<&str>) -> String {
    template::render(
        HARDEN,
        &[
            ("key_table_literal", quote::literal(&key_table(config))),
            ("hmac_signature", signature(config)),
            (
                "admin_role",
                admin_role.map_or("NULL".to_owned(), quote::literal),
            ),
            ("capture_role", quote::literal(&config.capture_role())),
        ],
    )
}

/// `'"schema"."<log>_hmac"(text)'`, a literal for `to_regprocedure` / `::regprocedure`.
fn signature(config: &AuditConfig) -> String {
    quote::literal(&format!("{}(text)", function(config)))
}
