//! Record keys as the log stores them (`record_id`): a single key's text, or a composite
//! key as a JSON array in jsonb's text form (`[7, 1]`, `[7, "a"]`).

use diesel::prelude::*;
use diesel::sql_types::Text;
use serde_json::Value;

/// A value that names one record of an audited table: what the triggers store in
/// `record_id`.
///
/// Implemented for integers, strings and tuples of them (composite keys). For a key type
/// of your own, give its text as PostgreSQL prints it ([`RecordId::text`]) or, for a
/// composite key, its parts as JSON ([`RecordId::composite`]).
///
/// ```
/// use auditrum_diesel::read::RecordKey;
///
/// assert_eq!(7.record_id(), "7");
/// assert_eq!("a@b".record_id(), "a@b");
/// assert_eq!((7, 1).record_id(), "[7, 1]");
/// assert_eq!((7, "x").record_id(), r#"[7, "x"]"#);
/// ```
pub trait RecordKey {
    /// The key as stored in `record_id`.
    fn record_id(&self) -> String;
}

/// A key already in the log's form.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RecordId(String);

impl RecordId {
    /// A single-column key, as PostgreSQL prints it (`value::text`): `42`,
    /// `'6f1c…-…'` for a uuid, `2024-05-01` for a date.
    pub fn text(text: impl Into<String>) -> Self {
        RecordId(text.into())
    }

    /// A composite key from its parts, in key-column order.
    pub fn composite(parts: impl IntoIterator<Item = Value>) -> Self {
        RecordId(jsonb_text(&Value::Array(parts.into_iter().collect())))
    }

    /// The stored form.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for RecordId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl RecordKey for RecordId {
    fn record_id(&self) -> String {
        self.0.clone()
    }
}

impl<K: RecordKey + ?Sized> RecordKey for &K {
    fn record_id(&self) -> String {
        (**self).record_id()
    }
}

impl RecordKey for str {
    fn record_id(&self) -> String {
        self.to_owned()
    }
}

impl RecordKey for String {
    fn record_id(&self) -> String {
        self.clone()
    }
}

/// One part of a composite key, as JSON.
pub trait KeyPart {
    /// The part as `jsonb_build_array` stores it.
    fn to_json(&self) -> Value;
}

macro_rules! integer_keys {
    ($($t:ty),*) => {$(
        impl RecordKey for $t {
            fn record_id(&self) -> String {
                self.to_string()
            }
        }
        impl KeyPart for $t {
            fn to_json(&self) -> Value {
                Value::from(*self)
            }
        }
    )*};
}
integer_keys!(i16, i32, i64, u16, u32, u64);

impl KeyPart for bool {
    fn to_json(&self) -> Value {
        Value::Bool(*self)
    }
}

impl KeyPart for str {
    fn to_json(&self) -> Value {
        Value::String(self.to_owned())
    }
}

impl KeyPart for String {
    fn to_json(&self) -> Value {
        Value::String(self.clone())
    }
}

impl<P: KeyPart + ?Sized> KeyPart for &P {
    fn to_json(&self) -> Value {
        (**self).to_json()
    }
}

macro_rules! tuple_keys {
    ($(($($name:ident),+)),*) => {$(
        impl<$($name: KeyPart),+> RecordKey for ($($name,)+) {
            #[allow(non_snake_case)] // the tuple's parts, named after their types
            fn record_id(&self) -> String {
                let ($($name,)+) = self;
                RecordId::composite([$($name.to_json()),+]).0
            }
        }
    )*};
}
tuple_keys!((A, B), (A, B, C), (A, B, C, D));

/// A JSON value in jsonb's text form: `", "` between items, `": "` after keys, object keys
/// in jsonb's order (shorter first, then bytewise).
pub(crate) fn jsonb_text(value: &Value) -> String {
    let mut out = String::new();
    write_jsonb(value, &mut out);
    out
}

fn write_jsonb(value: &Value, out: &mut String) {
    match value {
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_jsonb(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut entries: Vec<_> = map.iter().collect();
            entries.sort_by(|(a, _), (b, _)| a.len().cmp(&b.len()).then(a.cmp(b)));
            out.push('{');
            for (i, (key, item)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push_str(": ");
                write_jsonb(item, out);
            }
            out.push('}');
        }
        scalar => out.push_str(&scalar.to_string()),
    }
}

/// A key as the log stores it, however it was spelled: a composite key (`[7,1]`) in
/// jsonb's text form (`[7, 1]`), anything else as given.
pub(crate) fn normalize_key(conn: &mut PgConnection, key: &str) -> QueryResult<String> {
    if !key.trim_start().starts_with('[') {
        return Ok(key.to_owned());
    }
    #[derive(QueryableByName)]
    struct Normalized {
        #[diesel(sql_type = Text)]
        key: String,
    }
    let row: Normalized = diesel::sql_query("SELECT $1::jsonb::text AS key")
        .bind::<Text, _>(key)
        .get_result(conn)?;
    Ok(row.key)
}

/// The parts of a stored key, one per key column: the text itself for a single key, the
/// array's items for a composite one.
pub(crate) fn key_parts(record_id: &str, columns: usize) -> Vec<Value> {
    if columns == 1 {
        return vec![Value::String(record_id.to_owned())];
    }
    match serde_json::from_str::<Value>(record_id) {
        Ok(Value::Array(items)) => items,
        _ => vec![Value::String(record_id.to_owned())],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn composite_keys_take_jsonb_text_form() {
        assert_eq!((1, "a\"b", true).record_id(), r#"[1, "a\"b", true]"#);
        assert_eq!(
            jsonb_text(&json!({"bb": 1, "a": [1, 2], "c": null})),
            r#"{"a": [1, 2], "c": null, "bb": 1}"#
        );
    }
}
