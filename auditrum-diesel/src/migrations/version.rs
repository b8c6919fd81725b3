//! Diesel migration versions: `YYYY-MM-DD-HHMMSS`, the part of a folder name before the
//! first `_`.

use chrono::{NaiveDateTime, TimeDelta};

const FORMAT: &str = "%Y-%m-%d-%H%M%S";

/// Diesel's version of a folder: the name up to the first `_`, without dashes.
pub(crate) fn of_folder(name: &str) -> String {
    name.split('_').next().unwrap_or_default().replace('-', "")
}

/// The timestamp of a folder named `YYYY-MM-DD-HHMMSS_…`, `YYYYMMDDHHMMSS_…`, or
/// `YYYY-MM-DD-HHMMSS-NNNN_…` (what `diesel migration generate` writes since diesel 2.3).
pub(crate) fn parse(name: &str) -> Option<NaiveDateTime> {
    let version = of_folder(name);
    if !matches!(version.len(), 14 | 18) || !version.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    NaiveDateTime::parse_from_str(&version[..14], "%Y%m%d%H%M%S").ok()
}

/// `count` versions from `now`, one second apart, all later than `latest`.
pub(crate) fn next(now: NaiveDateTime, latest: Option<NaiveDateTime>, count: usize) -> Vec<String> {
    let second = TimeDelta::seconds(1);
    // Drop sub-second precision: versions have whole seconds.
    let now = now.and_utc().timestamp();
    let now = chrono::DateTime::from_timestamp(now, 0)
        .expect("a whole-second timestamp of a valid time")
        .naive_utc();
    let first = match latest {
        Some(latest) if latest >= now => latest + second,
        _ => now,
    };
    (0..count)
        .map(|i| (first + second * i as i32).format(FORMAT).to_string())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(text, FORMAT).unwrap()
    }

    #[test]
    fn versions_follow_diesel() {
        assert_eq!(
            of_folder("2024-01-02-030405_auditrum_core"),
            "20240102030405"
        );
        assert_eq!(parse("2024-01-02-030405_x"), Some(at("2024-01-02-030405")));
        assert_eq!(parse("20240102030405_x"), Some(at("2024-01-02-030405")));
        assert_eq!(
            parse("2026-11-28-013652-0000_create_users"),
            Some(at("2026-11-28-013652"))
        );
        assert_eq!(parse("00000000000000_diesel_initial_setup"), None);
        assert_eq!(parse("create_users"), None);
    }

    #[test]
    fn new_versions_are_distinct_increasing_and_after_the_latest() {
        let now = at("2024-05-01-120000");
        assert_eq!(
            next(now, None, 2),
            ["2024-05-01-120000", "2024-05-01-120001"]
        );
        assert_eq!(
            next(now, Some(at("2024-05-01-120000")), 1),
            ["2024-05-01-120001"]
        );
        assert_eq!(
            next(now, Some(at("2024-04-01-000000")), 1),
            ["2024-05-01-120000"]
        );
    }
}
