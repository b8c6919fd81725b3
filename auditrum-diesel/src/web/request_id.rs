//! The request id: taken from the request's header when it looks sane, made up otherwise.

use http::HeaderValue;

/// Longest request id accepted from a client; a longer one is replaced.
pub const MAX_REQUEST_ID_LEN: usize = 128;

/// The client's request id when it is 1 to [`MAX_REQUEST_ID_LEN`] visible ASCII
/// characters (no spaces, no control characters), so that it is safe in logs and headers.
pub(crate) fn accepted(value: &HeaderValue) -> Option<String> {
    let bytes = value.as_bytes();
    let sane = !bytes.is_empty()
        && bytes.len() <= MAX_REQUEST_ID_LEN
        && bytes.iter().all(|b| b.is_ascii_graphic());
    sane.then(|| String::from_utf8_lossy(bytes).into_owned())
}

/// A new random request id: a UUID v4 in its hyphenated text form.
pub(crate) fn generate() -> String {
    uuid::Uuid::new_v4().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_look_like_uuids_and_differ() {
        let a = generate();
        let b = generate();
        assert_ne!(a, b);
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "4");
    }

    #[test]
    fn odd_client_ids_are_refused() {
        assert_eq!(
            accepted(&HeaderValue::from_static("req-42")).as_deref(),
            Some("req-42")
        );
        assert_eq!(accepted(&HeaderValue::from_static("")), None);
        assert_eq!(accepted(&HeaderValue::from_static("a b")), None);
        let long = "x".repeat(MAX_REQUEST_ID_LEN + 1);
        assert_eq!(accepted(&HeaderValue::from_str(&long).unwrap()), None);
    }
}
