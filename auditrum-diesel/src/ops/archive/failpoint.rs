//! Failpoints for testing that an interrupted archive is finished by a rerun: when the
//! environment variable `AUDITRUM_FAILPOINT` names a point, the process aborts there, as if
//! killed. Unset (always, outside tests), they do nothing.

/// Aborts the process when `AUDITRUM_FAILPOINT` is `name`.
pub fn hit(name: &str) {
    if std::env::var("AUDITRUM_FAILPOINT").is_ok_and(|v| v == name) {
        eprintln!("auditrum-diesel: failpoint {name}: aborting");
        std::process::abort();
    }
}
