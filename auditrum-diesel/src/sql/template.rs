//! Fills the `{{name}}` placeholders of the fixed `.sql` files.
//!
//! Every value handed in is already quoted (by [`crate::quote`]); this only places it.

/// Replaces each `{{name}}` with its value, in one pass over the template: a value is never
/// scanned again, so a `{{…}}` inside a value (a table name, a role name) stays literal text.
/// Panics on a placeholder left unfilled: that is a bug in this crate, caught by its tests,
/// never by user input.
pub(crate) fn render(template: &str, vars: &[(&str, String)]) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after.find("}}");
        let name = end.map(|end| &after[..end]);
        match name.and_then(|name| vars.iter().find(|(n, _)| *n == name)) {
            Some((name, value)) => {
                out.push_str(value);
                rest = &after[name.len() + 2..];
            }
            None => panic!(
                "unfilled placeholder {{{{{}}}}} in SQL template",
                name.unwrap_or(after)
            ),
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn fills_every_placeholder() {
        let sql = super::render(
            "SELECT {{a}}, {{a}}, {{b}}",
            &[("a", "1".into()), ("b", "2".into())],
        );
        assert_eq!(sql, "SELECT 1, 1, 2");
    }

    #[test]
    fn values_are_not_expanded_again() {
        let sql = super::render(
            "SELECT {{a}}, {{b}}",
            &[("a", "'{{b}}'".into()), ("b", "'{{x}}'".into())],
        );
        assert_eq!(sql, "SELECT '{{b}}', '{{x}}'");
    }

    #[test]
    #[should_panic(expected = "unfilled placeholder {{c}}")]
    fn refuses_unfilled_placeholders() {
        super::render("SELECT {{c}}", &[]);
    }
}
