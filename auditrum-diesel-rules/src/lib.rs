//! The rules a `TrackSpec` obeys, in one place.
//!
//! `auditrum-diesel` checks them when a spec is built (at run time) and
//! `auditrum-diesel-derive` checks them when a model is compiled, so a rule written here is
//! enforced the same way by both, with the same reason. A proc-macro crate can export only
//! macros, so the rules live in this small crate of their own, with no dependencies.
//!
//! Each check returns the reason a value is refused, phrased to follow "refused because".

#![warn(missing_docs)]

/// Why a table, schema or column name is refused, if it is.
///
/// A control character (a newline above all) is refused: generated SQL puts names in `--`
/// comments too, and a name is shown to people in logs and terminals. `$auditrum$`
/// delimits the function bodies and DO blocks the name is written into.
///
/// ```
/// assert_eq!(auditrum_diesel_rules::name_problem("users"), None);
/// assert!(auditrum_diesel_rules::name_problem("a\nb").is_some());
/// ```
pub fn name_problem(name: &str) -> Option<&'static str> {
    if name.is_empty() {
        Some("it is empty")
    } else if name.chars().any(char::is_control) {
        Some("it contains a control character (such as a newline)")
    } else if name.contains("$auditrum$") {
        Some("it contains `$auditrum$`, which delimits the generated function bodies")
    } else {
        None
    }
}

/// Why a `condition` is refused, if it is.
///
/// The condition is developer-written SQL embedded in a `WHERE` of the trigger body; refuse
/// what would break out of it or out of the function body it is embedded in.
///
/// ```
/// assert_eq!(auditrum_diesel_rules::condition_problem("NEW.is_active"), None);
/// assert!(auditrum_diesel_rules::condition_problem("true; DROP TABLE x").is_some());
/// ```
pub fn condition_problem(condition: &str) -> Option<&'static str> {
    if condition.trim().is_empty() {
        Some("it is empty")
    } else if condition.contains('\0') {
        Some("it contains a NUL byte")
    } else if condition.contains("$auditrum$") {
        Some("it contains `$auditrum$`, which delimits the trigger body")
    } else if condition.contains(';') {
        Some("it contains `;`")
    } else {
        None
    }
}

/// Why a column may not be masked or hashed (`mask(...)` / `hash(...)`), if it may not.
///
/// - A primary-key column: every event names its record by the key (`record_id`), so a
///   masked or hashed key would still be stored in clear there, and history could no longer
///   find the record. Use a surrogate key, or erase the record's events later (`redact`).
/// - Both masked and hashed: one column gets one treatment.
/// - Not audited (excluded, or outside `track_only`, and not a `meta` column): its value
///   never reaches the log, there is nothing to mask or hash.
///
/// ```
/// use auditrum_diesel_rules::protection_problem;
/// assert_eq!(protection_problem(false, false, true), None);
/// assert!(protection_problem(true, false, true).is_some());
/// ```
pub fn protection_problem(
    in_key: bool,
    masked_and_hashed: bool,
    audited: bool,
) -> Option<&'static str> {
    if in_key {
        Some(
            "it is a primary-key column: every event names its record by the key (`record_id`), \
             so masking or hashing it would not hide it; use a surrogate key, or erase the \
             record's events later with `redact`",
        )
    } else if masked_and_hashed {
        Some("it is both masked and hashed: give it one of the two")
    } else if !audited {
        Some(
            "it is not audited (excluded, or not in `track_only`, and not a `meta` column): its \
             value never reaches the log, so there is nothing to mask or hash",
        )
    } else {
        None
    }
}
