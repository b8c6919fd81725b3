//! The statements the connection adds — `SET LOCAL <setting> = E'<json>'`, and around a
//! savepoint the outer value kept and put back — and how it tells writes from reads.

use diesel::pg::{Pg, PgQueryBuilder};
use diesel::query_builder::{QueryBuilder, QueryFragment};

use crate::context::ContextError;
use crate::quote;

/// `SET LOCAL <setting> = E'<json>'`, or `= ''` to clear it (the triggers read `''` as no
/// context).
///
/// `SET` takes no bind parameters, so the value is quoted here, the only place a context
/// value enters SQL. The setting name was validated by
/// [`AuditConfig::with_context_setting`](crate::AuditConfig::with_context_setting)
/// (`prefix.name`, letters, digits and `_`).
pub(crate) fn set_local(setting: &str, json: Option<&str>) -> Result<String, ContextError> {
    let value = match json {
        Some(json) => quote::escaped_literal(json).ok_or_else(|| ContextError::Nul {
            key: "(the context text)".to_owned(),
        })?,
        None => "''".to_owned(),
    };
    Ok(format!("SET LOCAL {setting} = {value}"))
}

/// Inside a savepoint of nesting `depth`: keeps the outer value of `setting` in a
/// transaction-local setting of this level, then runs `set` (the level's `SET LOCAL`).
/// After RELEASE, [`restore_outer`] puts it back (ROLLBACK TO restores it by itself).
pub(crate) fn keep_outer(setting: &str, depth: impl std::fmt::Display, set: &str) -> String {
    format!(
        "SELECT set_config({stash}, coalesce(current_setting({name}, true), ''), true);\n{set}",
        stash = stash(setting, depth),
        name = quote::literal(setting),
    )
}

/// Puts back the value [`keep_outer`] kept at nesting `depth`.
pub(crate) fn restore_outer(setting: &str, depth: impl std::fmt::Display) -> String {
    format!(
        "SELECT set_config({name}, current_setting({stash}), true)",
        stash = stash(setting, depth),
        name = quote::literal(setting),
    )
}

/// The setting that holds the outer value at nesting `depth`.
fn stash(setting: &str, depth: impl std::fmt::Display) -> String {
    quote::literal(&format!("{setting}_outer_{depth}"))
}

/// Statements that change rows (or may, through what they call), so that a write issued
/// outside a transaction is wrapped in one to carry the context.
const WRITE_KEYWORDS: &[&str] = &[
    "INSERT", "UPDATE", "DELETE", "MERGE", "WITH", "TRUNCATE", "COPY", "CALL", "DO",
];

/// True when the statement's first keyword is one of [`WRITE_KEYWORDS`].
///
/// Reads (`SELECT`, `SHOW`, `VALUES`) and everything else (DDL, `VACUUM`, transaction
/// control) are sent as they are. A `SELECT` of a function that writes is not recognized:
/// run it inside a transaction.
pub(crate) fn is_write(sql: &str) -> bool {
    words(sql)
        .next()
        .is_some_and(|word| WRITE_KEYWORDS.iter().any(|k| word.eq_ignore_ascii_case(k)))
}

/// [`is_write`] for a Diesel query: builds its SQL (only done outside transactions).
pub(crate) fn query_is_write<T: QueryFragment<Pg>>(source: &T) -> bool {
    let mut builder = PgQueryBuilder::default();
    match source.to_sql(&mut builder, &Pg) {
        Ok(()) => is_write(&builder.finish()),
        // Let the real execution report the error.
        Err(_) => true,
    }
}

/// True when any word of the batch (outside quotes and comments) is a write keyword.
pub(crate) fn batch_writes(sql: &str) -> bool {
    words(sql).any(|word| WRITE_KEYWORDS.iter().any(|k| word.eq_ignore_ascii_case(k)))
}

/// The bare words of `sql`, skipping string literals, quoted identifiers and comments.
fn words(sql: &str) -> impl Iterator<Item = &str> {
    let bytes = sql.as_bytes();
    let mut i = 0;
    std::iter::from_fn(move || {
        while i < bytes.len() {
            let c = bytes[i];
            if c == b'\'' || c == b'"' {
                // Doubled quotes inside are an empty closed literal plus a new one: fine.
                i += 1;
                while i < bytes.len() && bytes[i] != c {
                    i += 1;
                }
                i += 1;
            } else if c == b'-' && bytes.get(i + 1) == Some(&b'-') {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            } else if c == b'/' && bytes.get(i + 1) == Some(&b'*') {
                let mut depth = 0usize;
                while i < bytes.len() {
                    if bytes[i] == b'/' && bytes.get(i + 1) == Some(&b'*') {
                        depth += 1;
                        i += 2;
                    } else if bytes[i] == b'*' && bytes.get(i + 1) == Some(&b'/') {
                        depth -= 1;
                        i += 2;
                        if depth == 0 {
                            break;
                        }
                    } else {
                        i += 1;
                    }
                }
            } else if c.is_ascii_alphabetic() || c == b'_' {
                let start = i;
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                    i += 1;
                }
                return Some(&sql[start..i]);
            } else {
                i += 1;
            }
        }
        None
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_escaped_and_nul_refused() {
        assert_eq!(
            set_local("auditrum.context", Some("it's")).unwrap(),
            "SET LOCAL auditrum.context = E'it\\'s'"
        );
        assert!(set_local("auditrum.context", Some("a\0b")).is_err());
        assert_eq!(
            set_local("auditrum.context", None).unwrap(),
            "SET LOCAL auditrum.context = ''"
        );
    }

    #[test]
    fn writes_are_told_from_reads_by_their_first_keyword() {
        for sql in [
            "INSERT INTO t VALUES (1)",
            "  update t set a = 1",
            "-- note\nDELETE FROM t",
            "/* a /* nested */ comment */ WITH x AS (SELECT 1) UPDATE t SET a = 1",
            "(MERGE INTO t USING s ON true WHEN MATCHED THEN DELETE)",
        ] {
            assert!(is_write(sql), "{sql}");
        }
        for sql in [
            "SELECT * FROM t",
            "select 'update'",
            "VACUUM t",
            "CREATE INDEX CONCURRENTLY i ON t (a)",
            "BEGIN",
            "",
        ] {
            assert!(!is_write(sql), "{sql}");
        }
    }

    #[test]
    fn a_batch_writes_when_any_statement_does() {
        assert!(batch_writes(
            "CREATE TABLE t (a int); INSERT INTO t VALUES (1)"
        ));
        assert!(!batch_writes("CREATE TABLE updates (updated_at int)"));
        assert!(!batch_writes("SELECT 'insert', \"delete\" -- update\n"));
        assert!(!batch_writes("VACUUM t"));
    }
}
