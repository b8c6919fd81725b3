//! The only ways a name or a value enters generated SQL.
//!
//! Generated SQL is migration text (no bind parameters), so every identifier goes through
//! [`ident`] and every value through [`literal`] (`escaped_literal`, crate-private, for the one statement
//! sent on a live session, `SET LOCAL`). Nothing else may splice text into SQL.

/// Quotes an identifier for PostgreSQL: `users` → `"users"`, `we"ird` → `"we""ird"`.
pub fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// A schema-qualified name: `"schema"."name"`.
pub fn qualified(schema: &str, name: &str) -> String {
    format!("{}.{}", ident(schema), ident(name))
}

/// Quotes a value as a standard-conforming string literal: `it's` → `'it''s'`.
///
/// Backslashes need no escaping in a standard (non-`E`) literal, which PostgreSQL has
/// used by default since 9.1 (`standard_conforming_strings = on`).
pub fn literal(value: &str) -> String {
    format!("'{}'", value.replace('\'', "''"))
}

/// Text for a `--` comment of generated SQL: control characters (a newline would end the
/// comment and start SQL) are written as escapes, `\n`, `\u{1b}`.
pub fn comment(text: &str) -> String {
    text.chars()
        .map(|c| match c.is_control() {
            true => c.escape_default().to_string(),
            false => c.to_string(),
        })
        .collect()
}

/// Quotes a value as an escape string constant `E'…'` (`\` → `\\`, `'` → `\'`), for SQL
/// sent on a live connection: it means the same whatever `standard_conforming_strings` the
/// session has. `None` when the value holds a NUL character, which cannot be sent at all.
pub(crate) fn escaped_literal(value: &str) -> Option<String> {
    if value.contains('\0') {
        return None;
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
    Some(quoted)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_double_inner_quotes() {
        assert_eq!(ident("users"), "\"users\"");
        assert_eq!(ident("we\"ird"), "\"we\"\"ird\"");
        assert_eq!(qualified("a b", "c"), "\"a b\".\"c\"");
    }

    #[test]
    fn comments_cannot_end_early() {
        assert_eq!(
            comment("a\nDROP TABLE x;\r\u{1b}"),
            "a\\nDROP TABLE x;\\r\\u{1b}"
        );
    }

    #[test]
    fn literals_double_single_quotes() {
        assert_eq!(literal("it's"), "'it''s'");
        assert_eq!(literal(r"C:\x"), r"'C:\x'");
    }

    #[test]
    fn escaped_literals_escape_quotes_and_backslashes_and_refuse_nul() {
        assert_eq!(
            escaped_literal(r#"{"a": "it's \\ ok"}"#).unwrap(),
            r#"E'{"a": "it\'s \\\\ ok"}'"#
        );
        assert_eq!(escaped_literal("naïve 🦀").unwrap(), "E'naïve 🦀'");
        assert!(escaped_literal("a\0b").is_none());
    }
}
