//! The request id: taken from the request's header when it looks sane, made up otherwise.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{SystemTime, UNIX_EPOCH};

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

/// A new random request id in the UUID v4 text format.
///
/// Random enough to be unique (128 bits from the process's random hash keys, a counter and
/// the clock); not meant to be unguessable.
pub(crate) fn generate() -> String {
    static KEYS: OnceLock<(RandomState, RandomState)> = OnceLock::new();
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let (a, b) = KEYS.get_or_init(|| (RandomState::new(), RandomState::new()));
    let count = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let word = |state: &RandomState| {
        let mut hasher = state.build_hasher();
        hasher.write_u64(count);
        hasher.write_u128(nanos);
        hasher.finish()
    };
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&word(a).to_be_bytes());
    bytes[8..].copy_from_slice(&word(b).to_be_bytes());
    bytes[6] = (bytes[6] & 0x0f) | 0x40; // version 4
    bytes[8] = (bytes[8] & 0x3f) | 0x80; // RFC 4122 variant
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
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
