//! The context of a transaction: one JSON object, stored once per transaction.

use serde_json::{Map, Value};

use super::ContextError;

/// The names of the well-known context keys.
///
/// Any other key is kept as given ([`AuditContext::insert`]).
pub mod keys {
    /// Who made the change: text, so integers, UUIDs and emails all fit.
    pub const USER_ID: &str = "user_id";
    /// A display name of the user.
    pub const USERNAME: &str = "username";
    /// The request that made the change (the web layer takes it from `X-Request-Id`).
    pub const REQUEST_ID: &str = "request_id";
    /// What kind of process made the change: `web`, `migration`, `cli:import`, ….
    pub const SOURCE: &str = "source";
    /// Why: the reasons of all enclosing scopes, outermost first, joined by `"; "`.
    pub const CHANGE_REASON: &str = "change_reason";
    /// The same reasons as a JSON array, present only when scopes nest two or more reasons.
    pub const CHANGE_REASONS: &str = "change_reasons";
    /// The client's IP address.
    pub const CLIENT_IP: &str = "client_ip";
    /// The client's `User-Agent`.
    pub const USER_AGENT: &str = "user_agent";
    /// The HTTP method of the request.
    pub const METHOD: &str = "method";
    /// The path of the request (without the query string).
    pub const PATH: &str = "path";
    /// A distributed trace id (e.g. W3C `traceparent`'s trace id).
    pub const TRACE_ID: &str = "trace_id";
    /// A span id within that trace.
    pub const SPAN_ID: &str = "span_id";
}

/// Separator of nested change reasons in [`keys::CHANGE_REASON`].
pub const REASON_SEPARATOR: &str = "; ";

/// Who, why and from where: the JSON object the triggers store with every transaction.
///
/// Build it with the typed setters for the well-known [`keys`], add your own keys with
/// [`insert`](Self::insert), and make it active with a scope
/// ([`with_context`](super::with_context)) or pass it to
/// [`audited_transaction`](crate::connection::AuditedTransactionExt::audited_transaction).
///
/// ```
/// use auditrum_diesel::context::AuditContext;
/// use serde_json::json;
///
/// let ctx = AuditContext::new()
///     .user_id(42) // stored as the text "42": UUIDs and emails work the same way
///     .source("web")
///     .change_reason("support ticket 7")
///     .insert("tenant", "acme");
/// assert_eq!(
///     ctx.to_json(),
///     json!({"user_id": "42", "source": "web", "change_reason": "support ticket 7", "tenant": "acme"})
/// );
/// ```
///
/// ## Merging
///
/// Scopes nest: the context of an inner scope is merged over the outer one
/// ([`merge`](Self::merge)). Inner keys win, with one exception: change reasons add up.
/// `change_reason` holds every reason, outermost first, joined by `"; "` (a reason equal to
/// the one just before it is not repeated), and when there is more than one, the array
/// `change_reasons` holds them one by one:
///
/// ```
/// use auditrum_diesel::context::AuditContext;
/// use serde_json::json;
///
/// let outer = AuditContext::new().user_id("alice").change_reason("quarterly cleanup");
/// let inner = AuditContext::new().user_id("bob").change_reason("merge duplicates");
/// assert_eq!(
///     outer.merge(&inner).to_json(),
///     json!({
///         "user_id": "bob",
///         "change_reason": "quarterly cleanup; merge duplicates",
///         "change_reasons": ["quarterly cleanup", "merge duplicates"],
///     })
/// );
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AuditContext {
    keys: Map<String, Value>,
    reasons: Vec<String>,
}

impl AuditContext {
    /// An empty context. An empty context is no context: nothing is sent for it.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `user_id`, as text: `42`, a UUID and `"alice@example.com"` all work.
    pub fn user_id(self, user_id: impl ToString) -> Self {
        self.insert(keys::USER_ID, user_id.to_string())
    }

    /// Sets `username`.
    pub fn username(self, username: impl Into<String>) -> Self {
        self.insert(keys::USERNAME, username.into())
    }

    /// Sets `request_id`.
    pub fn request_id(self, request_id: impl Into<String>) -> Self {
        self.insert(keys::REQUEST_ID, request_id.into())
    }

    /// Sets `source`: what kind of process made the change (`web`, `cli:import`, …).
    pub fn source(self, source: impl Into<String>) -> Self {
        self.insert(keys::SOURCE, source.into())
    }

    /// Sets this context's change reason (replacing one set on this same value before).
    ///
    /// Reasons of nested scopes add up; see [Merging](Self#merging).
    pub fn change_reason(mut self, reason: impl Into<String>) -> Self {
        self.reasons = vec![reason.into()];
        self
    }

    /// Sets `client_ip` (an [`IpAddr`](std::net::IpAddr) or any text).
    pub fn client_ip(self, client_ip: impl ToString) -> Self {
        self.insert(keys::CLIENT_IP, client_ip.to_string())
    }

    /// Sets `user_agent`.
    pub fn user_agent(self, user_agent: impl Into<String>) -> Self {
        self.insert(keys::USER_AGENT, user_agent.into())
    }

    /// Sets `method` (HTTP method).
    pub fn method(self, method: impl Into<String>) -> Self {
        self.insert(keys::METHOD, method.into())
    }

    /// Sets `path` (request path).
    pub fn path(self, path: impl Into<String>) -> Self {
        self.insert(keys::PATH, path.into())
    }

    /// Sets `trace_id`.
    pub fn trace_id(self, trace_id: impl Into<String>) -> Self {
        self.insert(keys::TRACE_ID, trace_id.into())
    }

    /// Sets `span_id`.
    pub fn span_id(self, span_id: impl Into<String>) -> Self {
        self.insert(keys::SPAN_ID, span_id.into())
    }

    /// Sets any key to any JSON value (builder form of [`set`](Self::set)).
    pub fn insert(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.set(key, value);
        self
    }

    /// Sets any key to any JSON value, in place.
    ///
    /// `change_reason` takes a string (as [`change_reason`](Self::change_reason) does) and
    /// `change_reasons` an array of strings; other values for these two keys are stored as
    /// their JSON text.
    pub fn set(&mut self, key: impl Into<String>, value: impl Into<Value>) {
        let key = key.into();
        let value = value.into();
        match key.as_str() {
            keys::CHANGE_REASON => self.reasons = vec![as_text(value)],
            keys::CHANGE_REASONS => {
                self.reasons = match value {
                    Value::Array(items) => items.into_iter().map(as_text).collect(),
                    other => vec![as_text(other)],
                }
            }
            _ => {
                self.keys.insert(key, value);
            }
        }
    }

    /// Removes a key (for `change_reason` / `change_reasons`: all reasons of this value).
    pub fn remove(&mut self, key: &str) {
        match key {
            keys::CHANGE_REASON | keys::CHANGE_REASONS => self.reasons.clear(),
            _ => {
                self.keys.remove(key);
            }
        }
    }

    /// The value of a key other than the change reasons (see
    /// [`change_reasons`](Self::change_reasons)).
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.keys.get(key)
    }

    /// The change reasons, outermost first.
    pub fn change_reasons(&self) -> &[String] {
        &self.reasons
    }

    /// True when the context has no key and no reason: nothing would be stored.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty() && self.reasons.is_empty()
    }

    /// This context with `inner` merged over it: `inner`'s keys win, reasons add up
    /// (see [Merging](Self#merging)).
    pub fn merge(&self, inner: &AuditContext) -> AuditContext {
        let mut merged = self.clone();
        for (key, value) in &inner.keys {
            merged.keys.insert(key.clone(), value.clone());
        }
        for reason in &inner.reasons {
            if merged.reasons.last() != Some(reason) {
                merged.reasons.push(reason.clone());
            }
        }
        merged
    }

    /// The JSON object the triggers store.
    pub fn to_json(&self) -> Value {
        let mut object = self.keys.clone();
        if !self.reasons.is_empty() {
            object.insert(
                keys::CHANGE_REASON.into(),
                Value::String(self.reasons.join(REASON_SEPARATOR)),
            );
        }
        if self.reasons.len() > 1 {
            object.insert(
                keys::CHANGE_REASONS.into(),
                Value::Array(self.reasons.iter().cloned().map(Value::String).collect()),
            );
        }
        Value::Object(object)
    }

    /// The JSON text sent to the database, after checking that no key or string value
    /// holds a NUL character (PostgreSQL cannot store one in `jsonb`).
    pub fn to_json_string(&self) -> Result<String, ContextError> {
        if let Some(key) = self.find_nul() {
            return Err(ContextError::Nul { key });
        }
        Ok(self.to_json().to_string())
    }

    /// The key whose name or value contains a NUL character, if any.
    fn find_nul(&self) -> Option<String> {
        for (key, value) in &self.keys {
            if key.contains('\0') || contains_nul(value) {
                return Some(key.clone());
            }
        }
        self.reasons
            .iter()
            .any(|reason| reason.contains('\0'))
            .then(|| keys::CHANGE_REASON.to_owned())
    }
}

impl From<AuditContext> for Value {
    fn from(context: AuditContext) -> Value {
        context.to_json()
    }
}

fn as_text(value: Value) -> String {
    match value {
        Value::String(text) => text,
        other => other.to_string(),
    }
}

fn contains_nul(value: &Value) -> bool {
    match value {
        Value::String(text) => text.contains('\0'),
        Value::Array(items) => items.iter().any(contains_nul),
        Value::Object(map) => map
            .iter()
            .any(|(key, value)| key.contains('\0') || contains_nul(value)),
        Value::Null | Value::Bool(_) | Value::Number(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn user_ids_are_text() {
        assert_eq!(
            AuditContext::new().user_id(7).get("user_id"),
            Some(&json!("7"))
        );
        assert_eq!(
            AuditContext::new().user_id("a@b.c").get("user_id"),
            Some(&json!("a@b.c"))
        );
    }

    #[test]
    fn inner_keys_win_and_reasons_add_up_without_repeats() {
        let outer = AuditContext::new().source("cli").change_reason("a");
        let inner = AuditContext::new().source("job").change_reason("a");
        let inner2 = AuditContext::new().change_reason("b");
        let merged = outer.merge(&inner).merge(&inner2);
        assert_eq!(
            merged.to_json(),
            json!({"source": "job", "change_reason": "a; b", "change_reasons": ["a", "b"]})
        );
    }

    #[test]
    fn reasons_set_as_keys_behave_like_the_setter() {
        let ctx = AuditContext::new()
            .insert("change_reasons", json!(["x", "y"]))
            .insert("n", 1);
        assert_eq!(ctx.change_reasons(), ["x", "y"]);
        let mut ctx = ctx.insert("change_reason", "z");
        assert_eq!(ctx.to_json(), json!({"n": 1, "change_reason": "z"}));
        ctx.remove("change_reason");
        ctx.remove("n");
        assert!(ctx.is_empty());
    }

    #[test]
    fn nul_is_found_in_keys_values_nested_values_and_reasons() {
        assert!(AuditContext::new().user_id("a").to_json_string().is_ok());
        for ctx in [
            AuditContext::new().user_id("a\0"),
            AuditContext::new().insert("k\0", 1),
            AuditContext::new().insert("deep", json!({"x": ["ok", "n\0"]})),
            AuditContext::new().change_reason("\0"),
        ] {
            assert!(
                matches!(ctx.to_json_string(), Err(ContextError::Nul { .. })),
                "{ctx:?}"
            );
        }
    }
}
