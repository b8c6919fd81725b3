//! The one statement the connection adds, `SET LOCAL <setting> = E'<json>'`, and how it
//! tells writes from reads.

use diesel::pg::{Pg, PgQueryBuilder};
use diesel::query_builder::{QueryBuilder, QueryFragment};

use crate::context::ContextError;

/// `SET LOCAL <setting> = E'<json>'`, or `= ''` to clear it (the triggers read `''` as no
/// context).
///
/// `SET` takes no bind parameters, so the value is quoted here, the only place a context
/// value enters SQL. The setting name was validated by
/// [`AuditConfig::with_context_setting`](crate::AuditConfig::with_context_setting)
/// (`prefix.name`, letters, digits and `_`).
pub(crate) fn set_local(setting: &str, json: Option<&str>) -> Result<String, ContextError> {
    let value = match json {
        Some(json) => escaped_literal(json)?,
        None => "''".to_owned(),
    };
    Ok(format!("SET LOCAL {setting} = {value}"))
}

/// An escape string constant `E'…'`: `\` → `\\`, `'` → `\'`. Means the same whatever
/// `standard_conforming_strings` is. A NUL character cannot be sent at all.
pub(crate) fn escaped_literal(value: &str) -> Result<String, ContextError> {
    if value.contains('\0') {
        return Err(ContextError::Nul {
            key: "(the context text)".to_owned(),
        });
    }
    let mut quoted = String::with_capacity(value.len() + 4);
    quoted.push_str("E'");
    for c in value.chars() {
        match c {
            '\\' => quoted.push_str("\\\\"),
            '\'' => quoted.push_str("\\'"),
            c => quoted.push(c),
        }
    }
    quoted.push('\'');
    Ok(quoted)
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
            escaped_literal(r#"{"a": "it's \\ ok"}"#).unwrap(),
            r#"E'{"a": "it\'s \\\\ ok"}'"#
        );
        assert_eq!(escaped_literal("naïve 🦀").unwrap(), "E'naïve 🦀'");
        assert!(escaped_literal("a\0b").is_err());
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
