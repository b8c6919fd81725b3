//! Where the viewer is mounted, so that its links work under any prefix.

use axum::extract::{FromRequestParts, OriginalUri};
use axum::http::request::Parts;

/// The path the viewer's router is mounted at (`""` at the root, `"/admin/audit"` when
/// nested there), and the link builders that use it.
#[derive(Debug, Clone)]
pub(crate) struct Base(pub String);

impl<S: Send + Sync> FromRequestParts<S> for Base {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let inner = parts.uri.path().to_owned();
        let original = match parts.extensions.get::<OriginalUri>() {
            Some(OriginalUri(uri)) => uri.path().to_owned(),
            None => inner.clone(),
        };
        Ok(Base(prefix(&original, &inner)))
    }
}

/// `original` minus the part the nested router saw.
fn prefix(original: &str, inner: &str) -> String {
    let prefix = match original.strip_suffix(inner) {
        Some(prefix) => prefix,
        // Nested at `/audit`, a request for `/audit` reaches the router as `/`.
        None if inner == "/" => original,
        None => "",
    };
    prefix.trim_end_matches('/').to_owned()
}

impl Base {
    /// A link to `path` (starting with `/`; `/` is the list) with the query `params` (empty values left out).
    pub fn link(&self, path: &str, params: &[(&str, &str)]) -> String {
        let params: Vec<(&str, &str)> = params
            .iter()
            .filter(|(_, v)| !v.is_empty())
            .copied()
            .collect();
        let query = serde_urlencoded::to_string(&params).unwrap_or_default();
        // The list is the mount path itself: axum's `nest("/audit", …)` answers `/audit`,
        // not `/audit/`.
        let path = match (path, self.0.is_empty()) {
            ("/", false) => "",
            _ => path,
        };
        match query.is_empty() {
            true => format!("{}{path}", self.0),
            false => format!("{}{path}?{query}", self.0),
        }
    }

    pub fn record(&self, schema: &str, table: &str, key: &str) -> String {
        self.link(
            "/record",
            &[("table", &table_name(schema, table)), ("key", key)],
        )
    }

    pub fn transaction(&self, txid: i64) -> String {
        self.link("/transaction", &[("txid", &txid.to_string())])
    }

    pub fn request(&self, request_id: &str) -> String {
        self.link("/request", &[("id", request_id)])
    }
}

/// `table` for `public`, `schema.table` otherwise.
pub(crate) fn table_name(schema: &str, table: &str) -> String {
    match schema {
        "public" => table.to_owned(),
        _ => format!("{schema}.{table}"),
    }
}

#[cfg(test)]
mod tests {
    use super::prefix;

    #[test]
    fn prefix_of_a_nested_router() {
        assert_eq!(prefix("/", "/"), "");
        assert_eq!(prefix("/record", "/record"), "");
        assert_eq!(prefix("/admin/audit/record", "/record"), "/admin/audit");
        assert_eq!(prefix("/admin/audit", "/"), "/admin/audit");
        assert_eq!(prefix("/admin/audit/", "/"), "/admin/audit");
    }
}
