//! The context of an event, typed: the well-known keys as fields, every other key kept.

use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::pg::{Pg, PgValue};
use diesel::sql_types::Jsonb;
use serde::{Serialize, Serializer};
use serde_json::{Map, Value};

use crate::context::keys;

/// The context a transaction stored (`auditlog_context.context`), read back.
///
/// The well-known keys (see [`context::keys`](crate::context::keys)) are fields; a value
/// that is not a string (a `user_id` written as the number `42` by hand) is kept as its JSON
/// text. Every other key is in [`extra`](Self::extra), as stored.
///
/// ```
/// use auditrum_diesel::read::EventContext;
/// use serde_json::json;
///
/// let ctx = EventContext::from_json(json!({
///     "user_id": "alice", "change_reason": "ticket 7", "tenant": "acme"
/// }));
/// assert_eq!(ctx.user_id.as_deref(), Some("alice"));
/// assert_eq!(ctx.change_reasons(), ["ticket 7"]);
/// assert_eq!(ctx.extra["tenant"], "acme");
/// assert_eq!(ctx.who(), Some("alice"));
/// ```
#[derive(Debug, Clone, Default, PartialEq, FromSqlRow)]
#[non_exhaustive]
pub struct EventContext {
    /// `user_id`: who.
    pub user_id: Option<String>,
    /// `username`: the user's display name.
    pub username: Option<String>,
    /// `request_id`: the request that made the change.
    pub request_id: Option<String>,
    /// `source`: what kind of process (`web`, `migration`, `revert`, `cli:import`, …).
    pub source: Option<String>,
    /// `change_reason`: why; nested reasons joined by `"; "`.
    pub change_reason: Option<String>,
    /// `change_reasons`: the nested reasons one by one (empty unless there were two or more).
    pub change_reasons: Vec<String>,
    /// `client_ip`.
    pub client_ip: Option<String>,
    /// `user_agent`.
    pub user_agent: Option<String>,
    /// `method`: the HTTP method.
    pub method: Option<String>,
    /// `path`: the HTTP path.
    pub path: Option<String>,
    /// `trace_id`.
    pub trace_id: Option<String>,
    /// `span_id`.
    pub span_id: Option<String>,
    /// Every other key, as stored (`tenant`, `ticket`, `reverts`, …).
    pub extra: Map<String, Value>,
}

/// The well-known text keys, with the field each fills.
fn text_field<'a>(ctx: &'a mut EventContext, key: &str) -> Option<&'a mut Option<String>> {
    Some(match key {
        keys::USER_ID => &mut ctx.user_id,
        keys::USERNAME => &mut ctx.username,
        keys::REQUEST_ID => &mut ctx.request_id,
        keys::SOURCE => &mut ctx.source,
        keys::CHANGE_REASON => &mut ctx.change_reason,
        keys::CLIENT_IP => &mut ctx.client_ip,
        keys::USER_AGENT => &mut ctx.user_agent,
        keys::METHOD => &mut ctx.method,
        keys::PATH => &mut ctx.path,
        keys::TRACE_ID => &mut ctx.trace_id,
        keys::SPAN_ID => &mut ctx.span_id,
        _ => return None,
    })
}

const TEXT_KEYS: [&str; 11] = [
    keys::USER_ID,
    keys::USERNAME,
    keys::REQUEST_ID,
    keys::SOURCE,
    keys::CHANGE_REASON,
    keys::CLIENT_IP,
    keys::USER_AGENT,
    keys::METHOD,
    keys::PATH,
    keys::TRACE_ID,
    keys::SPAN_ID,
];

impl EventContext {
    /// Reads a stored context. Never fails: a value of an unexpected type under a
    /// well-known key is kept as its JSON text, and a non-object is kept whole in `extra`
    /// under `""`.
    pub fn from_json(value: Value) -> Self {
        let mut ctx = EventContext::default();
        let object = match value {
            Value::Object(object) => object,
            other => {
                ctx.extra.insert(String::new(), other);
                return ctx;
            }
        };
        for (key, value) in object {
            if key == keys::CHANGE_REASONS {
                if let Value::Array(items) = &value {
                    ctx.change_reasons = items.iter().map(plain).collect();
                    continue;
                }
            }
            match text_field(&mut ctx, &key) {
                Some(_) if value.is_null() => {}
                Some(field) => *field = Some(plain(&value)),
                None => {
                    ctx.extra.insert(key, value);
                }
            }
        }
        ctx
    }

    /// The context as the JSON object it was stored as.
    pub fn to_json(&self) -> Value {
        let mut object = Map::new();
        let mut this = self.clone();
        for key in TEXT_KEYS {
            if let Some(Some(value)) = text_field(&mut this, key).map(Option::take) {
                object.insert(key.to_owned(), Value::String(value));
            }
        }
        if !self.change_reasons.is_empty() {
            object.insert(
                keys::CHANGE_REASONS.to_owned(),
                self.change_reasons
                    .iter()
                    .cloned()
                    .map(Value::String)
                    .collect(),
            );
        }
        for (key, value) in &self.extra {
            object.insert(key.clone(), value.clone());
        }
        Value::Object(object)
    }

    /// Every change reason, outermost first: `change_reasons` when present, else
    /// `change_reason` alone.
    pub fn change_reasons(&self) -> Vec<&str> {
        if !self.change_reasons.is_empty() {
            return self.change_reasons.iter().map(String::as_str).collect();
        }
        self.change_reason.iter().map(String::as_str).collect()
    }

    /// Who made the change, for display: the user, or else the source.
    pub fn who(&self) -> Option<&str> {
        self.user_id
            .as_deref()
            .or(self.username.as_deref())
            .or(self.source.as_deref())
    }

    /// The value of any key, well-known or not, as JSON.
    pub fn get(&self, key: &str) -> Option<Value> {
        self.to_json().get(key).cloned()
    }
}

/// A JSON value as text: strings without quotes.
fn plain(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

impl From<Value> for EventContext {
    fn from(value: Value) -> Self {
        EventContext::from_json(value)
    }
}

impl Serialize for EventContext {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_json().serialize(serializer)
    }
}

impl FromSql<Jsonb, Pg> for EventContext {
    fn from_sql(bytes: PgValue<'_>) -> deserialize::Result<Self> {
        let value = <Value as FromSql<Jsonb, Pg>>::from_sql(bytes)?;
        Ok(EventContext::from_json(value))
    }
}

#[cfg(test)]
mod tests {
    use super::EventContext;
    use serde_json::json;

    #[test]
    fn round_trips_well_known_and_custom_keys() {
        let stored = json!({
            "user_id": "42", "request_id": "r-1", "source": "web",
            "change_reason": "a; b", "change_reasons": ["a", "b"],
            "tenant": "acme", "ticket": 7
        });
        let ctx = EventContext::from_json(stored.clone());
        assert_eq!(ctx.change_reasons(), ["a", "b"]);
        assert_eq!(ctx.extra.len(), 2);
        assert_eq!(ctx.to_json(), stored);
    }

    #[test]
    fn a_number_under_a_text_key_is_kept_as_text() {
        let ctx = EventContext::from_json(json!({"user_id": 42, "username": null}));
        assert_eq!(ctx.user_id.as_deref(), Some("42"));
        assert_eq!(ctx.username, None);
    }
}
