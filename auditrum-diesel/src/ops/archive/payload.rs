//! The chain's canonical event payload rebuilt from archived rows, byte for byte what
//! PostgreSQL prints for `jsonb_build_array(…)::text` (see `ops::chain::canonical`).
//!
//! The JSON columns are archived as PostgreSQL's own `jsonb` text, which is also how it
//! prints them nested in an array, so they are copied verbatim; only the scalars are
//! printed here: numbers in decimal, strings escaped as PostgreSQL's `escape_json` does,
//! elements separated by `", "`.

use std::collections::BTreeMap;

use serde_json::value::RawValue;

use super::rows::EventRow;
use crate::ops::chain::leaves::{self, Leaf, JSON_COLUMNS};

/// The payload of `event`, whose context row holds `context` (its `jsonb` text).
pub(crate) fn event_payload(event: &EventRow, context: Option<&str>) -> String {
    let mut out = String::with_capacity(256);
    out.push('[');
    let mut first = true;
    let mut element = |out: &mut String, value: &str| {
        if !first {
            out.push_str(", ");
        }
        first = false;
        out.push_str(value);
    };
    element(&mut out, &event.id.to_string());
    element(&mut out, &event.changed_at_us.to_string());
    element(&mut out, &json_string(&event.operation));
    element(&mut out, &json_string(&event.table_schema));
    element(&mut out, &json_string(&event.table_name));
    element(&mut out, &opt_string(event.record_id.as_deref()));
    element(&mut out, &opt_string(event.old_record_id.as_deref()));
    for json in [&event.diff, &event.old_data, &event.new_data, &event.meta] {
        element(&mut out, json.as_deref().unwrap_or("null"));
    }
    element(&mut out, &event.txid.to_string());
    element(&mut out, context.unwrap_or("null"));
    out.push(']');
    out
}

/// The payload version 2 of `event` (see `ops::chain::leaves`): its header, and each
/// value's digest from the archived seed or salts. The JSON columns are split into their
/// top-level values as archived (PostgreSQL's text of each, verbatim).
pub(crate) fn event_payload_v2(event: &EventRow, context: Option<&str>) -> String {
    let header = format!(
        "[{}, {}, {}, {}, {}, {}]",
        event.id,
        event.changed_at_us,
        json_string(&event.operation),
        json_string(&event.table_schema),
        json_string(&event.table_name),
        event.txid
    );
    #[derive(serde::Deserialize)]
    struct Stored {
        salt: Option<String>,
        digest: Option<String>,
    }
    let stored: BTreeMap<String, Stored> = event
        .chain_salts
        .as_deref()
        .and_then(|s| serde_json::from_str(s).ok())
        .unwrap_or_default();
    let mut values: Vec<(String, String)> = vec![
        (
            r#"["record_id"]"#.to_owned(),
            opt_string(event.record_id.as_deref()),
        ),
        (
            r#"["old_record_id"]"#.to_owned(),
            opt_string(event.old_record_id.as_deref()),
        ),
    ];
    let columns = [&event.diff, &event.old_data, &event.new_data, &event.meta];
    for (name, text) in JSON_COLUMNS
        .iter()
        .zip(columns.into_iter().map(Option::as_deref).chain([context]))
    {
        let text = text.unwrap_or("null");
        match serde_json::from_str::<BTreeMap<String, Box<RawValue>>>(text) {
            Ok(object) => values.extend(object.into_iter().map(|(key, value)| {
                (
                    format!("[{}, {}]", json_string(name), json_string(&key)),
                    value.get().to_owned(),
                )
            })),
            Err(_) => values.push((format!("[{}]", json_string(name)), text.to_owned())),
        }
    }
    let mut leaves: Vec<Leaf> = values
        .into_iter()
        .map(|(path, value)| {
            let kept = stored.get(&path);
            Leaf {
                salt: kept.and_then(|s| s.salt.clone()),
                digest: kept.and_then(|s| s.digest.clone()),
                path,
                value,
            }
        })
        .collect();
    leaves::event_payload(&header, &mut leaves, event.chain_seed.as_deref())
        .unwrap_or_else(|| format!("{header}\nunverifiable"))
}

fn opt_string(value: Option<&str>) -> String {
    value.map_or_else(|| "null".to_owned(), json_string)
}

/// A JSON string as PostgreSQL's `escape_json` writes it: `\b \f \n \r \t \" \\` by name,
/// other control characters as `\u00xx` (lowercase), everything else as is.
fn json_string(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_escaped_like_postgresql() {
        assert_eq!(json_string("a\"b\\c\n\u{1}é"), r#""a\"b\\c\n\u0001é""#);
    }
}
