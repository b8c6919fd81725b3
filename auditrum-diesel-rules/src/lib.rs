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
