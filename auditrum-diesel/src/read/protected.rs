//! Values the log holds in place of the real ones: masked at write, hashed at write, or
//! erased later by `redact`. Readers show them as such (‹masked›, ‹hmac›, ‹redacted›),
//! never as the marker's raw JSON.
//!
//! The markers, as stored in `old_data`, `new_data`, `diff` old/new, `meta` and context
//! values:
//!
//! | how | stored JSON |
//! |---|---|
//! | masked at write (`mask(...)`) | `{"$auditrum": "masked"}` |
//! | erased by `redact` | `{"$auditrum": "redacted"}` |
//! | hashed at write (`hash(...)`) | `"hmac-sha256:<64 lowercase hex>"` |

use serde_json::{json, Map, Value};

/// The key of the marker objects.
const MARKER_KEY: &str = "$auditrum";
/// The prefix of a hashed value.
const HMAC_PREFIX: &str = "hmac-sha256:";

/// A value the log holds in place of the real one.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Protected {
    /// Masked at write: the event says the column changed, not from what to what.
    Masked,
    /// Erased by `redact`.
    Redacted,
    /// Hashed at write: the 64 lowercase hex digits of HMAC-SHA256 of the value's text.
    Hashed(String),
}

impl Protected {
    /// `{"$auditrum": "masked"}`.
    pub fn masked_json() -> Value {
        json!({ MARKER_KEY: "masked" })
    }

    /// `{"$auditrum": "redacted"}`.
    pub fn redacted_json() -> Value {
        json!({ MARKER_KEY: "redacted" })
    }

    /// `"hmac-sha256:<hex>"`.
    pub fn hashed_json(hex: &str) -> Value {
        Value::String(format!("{HMAC_PREFIX}{hex}"))
    }

    /// The marker as stored.
    pub fn to_json(&self) -> Value {
        match self {
            Protected::Masked => Self::masked_json(),
            Protected::Redacted => Self::redacted_json(),
            Protected::Hashed(hex) => Self::hashed_json(hex),
        }
    }

    /// How readers show it: `‹masked›`, `‹redacted›`, `‹hmac›`.
    pub fn label(&self) -> &'static str {
        match self {
            Protected::Masked => "‹masked›",
            Protected::Redacted => "‹redacted›",
            Protected::Hashed(_) => "‹hmac›",
        }
    }
}

/// The marker `value` is, if it is one.
///
/// ```
/// use auditrum_diesel::read::protected::{protected, Protected};
/// assert_eq!(protected(&Protected::masked_json()), Some(Protected::Masked));
/// assert_eq!(protected(&serde_json::json!("a@example.com")), None);
/// ```
pub fn protected(value: &Value) -> Option<Protected> {
    match value {
        Value::Object(map) if map.len() == 1 => match map.get(MARKER_KEY)?.as_str()? {
            "masked" => Some(Protected::Masked),
            "redacted" => Some(Protected::Redacted),
            _ => None,
        },
        Value::String(text) => {
            let hex = text.strip_prefix(HMAC_PREFIX)?;
            let is_digest = hex.len() == 64
                && hex
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
            is_digest.then(|| Protected::Hashed(hex.to_owned()))
        }
        _ => None,
    }
}

/// A value as text for people: a marker as its label (`‹masked›`), anything else as JSON
/// with the markers inside it labelled.
pub fn display(value: &Value) -> String {
    match protected(value) {
        Some(marker) => marker.label().to_owned(),
        None => shown(value).to_string(),
    }
}

/// `value` with every marker in it (at any depth: a row, a diff) replaced by its label, for
/// display. Other values are kept as they are.
pub fn shown(value: &Value) -> Value {
    if let Some(marker) = protected(value) {
        return Value::String(marker.label().to_owned());
    }
    match value {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), shown(v)))
                .collect::<Map<_, _>>(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(shown).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_read_back_and_show_as_labels() {
        let hex = "ab".repeat(32);
        for marker in [
            Protected::Masked,
            Protected::Redacted,
            Protected::Hashed(hex.clone()),
        ] {
            assert_eq!(protected(&marker.to_json()), Some(marker));
        }
        assert_eq!(protected(&json!("hmac-sha256:xyz")), None);
        assert_eq!(protected(&json!({"$auditrum": "masked", "x": 1})), None);
        let row = json!({"email": Protected::hashed_json(&hex), "note": Protected::masked_json(), "n": 1});
        assert_eq!(display(&Protected::masked_json()), "‹masked›");
        assert_eq!(display(&json!("x")), "\"x\"");
        assert_eq!(
            shown(&row),
            json!({"email": "‹hmac›", "note": "‹masked›", "n": 1})
        );
    }

    #[test]
    fn the_triggers_write_the_masked_marker() {
        let written: Value = serde_json::from_str(crate::sql::MASKED_MARKER).unwrap();
        assert_eq!(protected(&written), Some(Protected::Masked));
    }
}
