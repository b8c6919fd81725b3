//! Fills the `{{name}}` placeholders of the fixed `.sql` files.
//!
//! Every value handed in is already quoted (by [`super::quote`]); this only places it.

/// Replaces each `{{name}}` with its value. Panics on a placeholder left unfilled: that is a
/// bug in this crate, caught by its tests, never by user input.
pub(crate) fn render(template: &str, vars: &[(&str, String)]) -> String {
    let mut out = template.to_owned();
    for (name, value) in vars {
        out = out.replace(&format!("{{{{{name}}}}}"), value);
    }
    if let Some(pos) = out.find("{{") {
        let end = out[pos..].find("}}").map_or(out.len(), |e| pos + e + 2);
        panic!("unfilled placeholder {} in SQL template", &out[pos..end]);
    }
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
    #[should_panic(expected = "unfilled placeholder {{c}}")]
    fn refuses_unfilled_placeholders() {
        super::render("SELECT {{c}}", &[]);
    }
}
