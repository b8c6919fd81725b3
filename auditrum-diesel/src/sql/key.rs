//! The SQL fragments about record keys that several readers and the triggers must write
//! identically: the stored key of a row, and a row matched to a key.

use crate::quote;

/// The record key of the row `alias`, exactly as the triggers store it in `record_id`: the
/// key column's text, or `jsonb_build_array(…)::text` for a composite key.
pub(crate) fn record_id(alias: &str, key_columns: &[String]) -> String {
    match key_columns {
        [single] => format!("{alias}.{}::text", quote::ident(single)),
        columns => {
            let items: Vec<String> = columns
                .iter()
                .map(|c| format!("{alias}.{}", quote::ident(c)))
                .collect();
            format!("jsonb_build_array({})::text", items.join(", "))
        }
    }
}

/// `row."a" = key."a" AND row."b" = key."b"`: the row `row` has the key held by the row
/// `key` (typically `jsonb_populate_record(NULL::table, $1)`).
pub(crate) fn key_match(row: &str, key: &str, key_columns: &[String]) -> String {
    key_columns
        .iter()
        .map(|c| format!("{row}.{c} = {key}.{c}", c = quote::ident(c)))
        .collect::<Vec<_>>()
        .join(" AND ")
}

#[cfg(test)]
mod tests {
    #[test]
    fn single_and_composite_keys() {
        let one = ["id".to_owned()];
        let two = ["a".to_owned(), "b".to_owned()];
        assert_eq!(super::record_id("n", &one), r#"n."id"::text"#);
        assert_eq!(
            super::record_id("n", &two),
            r#"jsonb_build_array(n."a", n."b")::text"#
        );
        assert_eq!(
            super::key_match("t", "k", &two),
            r#"t."a" = k."a" AND t."b" = k."b""#
        );
    }
}
