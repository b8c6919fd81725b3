//! The canonical payload of the hash chain (version 1; links sealed since version 2 hash
//! salted per-value digests instead: see `leaves`): one definition, used by the sealing trigger,
//! by the server-side verification (PostgreSQL's `sha256()`) and by the client-side
//! verification (Rust's `sha2`).
//!
//! - **event payload**: the text PostgreSQL prints for
//!   `jsonb_build_array(id, changed_at in microseconds since the Unix epoch, operation,
//!   table_schema, table_name, record_id, old_record_id, diff, old_data, new_data, meta, txid,
//!   context)`, encoded as UTF-8; `context` is the JSON object of the event's context (its own
//!   `context` column, else its context row's), or `null`.
//! - **events hash** of a transaction: lowercase hex SHA-256 of the concatenation, in event
//!   id order, of each event's lowercase hex SHA-256 followed by `\n`.
//! - **link hash**: lowercase hex SHA-256 of
//!   `prev_hash|seq|txid|event_count|events_hash` (decimal numbers, `|` separators). The first
//!   link's `prev_hash` is 64 zeros (or, after a purge, the anchor recorded in the chain state).

use sha2::{Digest, Sha256};

/// SQL: the payload of the event aliased `e` joined to its context row `c` (the context is
/// the event's own when it carries one, as for a statement of one row).
pub(crate) const EVENT_PAYLOAD_SQL: &str = "jsonb_build_array(e.id, \
     (extract(epoch FROM e.changed_at) * 1000000)::bigint, e.operation::text, e.table_schema, \
     e.table_name, e.record_id, e.old_record_id, e.diff, e.old_data, e.new_data, e.meta, \
     e.txid, COALESCE(e.context, c.context))::text";

/// SQL: the events hash of the rows of a query over `e` and `c`, as an aggregate, with
/// the version 1 payload.
pub(crate) fn events_hash_sql() -> String {
    events_hash_of(EVENT_PAYLOAD_SQL)
}

/// SQL: the events hash of the rows of a query over `e` and `c`, as an aggregate, each
/// event's payload being the SQL `payload`.
pub(crate) fn events_hash_of(payload: &str) -> String {
    format!(
        "encode(sha256(convert_to(COALESCE(string_agg(encode(sha256(convert_to({payload}, 'UTF8')), 'hex') || E'\\n', '' ORDER BY e.id), ''), 'UTF8')), 'hex')"
    )
}

/// SQL: the link hash from `head.last_hash`, `head.last_seq`, `events.txid`, `events.n`
/// and `events.hash` (the names the sealing function uses, after advancing `last_seq`).
pub(crate) fn seal_link_hash_sql() -> String {
    link_hash_sql(
        "head.last_hash",
        "head.last_seq",
        "events.txid",
        "events.n",
        "events.hash",
    )
}

/// SQL: a link hash from five SQL expressions.
pub(crate) fn link_hash_sql(
    prev: &str,
    seq: &str,
    txid: &str,
    count: &str,
    events: &str,
) -> String {
    format!(
        "encode(sha256(convert_to({prev} || '|' || ({seq})::text || '|' || ({txid})::text || '|' || ({count})::text || '|' || {events}, 'UTF8')), 'hex')"
    )
}

/// Hex SHA-256 of bytes.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// A transaction's events hash, fed event payloads in id order.
#[derive(Debug, Default)]
pub(crate) struct EventsHasher {
    hasher: Sha256,
    pub count: i64,
}

impl EventsHasher {
    /// Adds the next event's payload.
    pub fn add(&mut self, payload: &str) {
        self.hasher
            .update(sha256_hex(payload.as_bytes()).as_bytes());
        self.hasher.update(b"\n");
        self.count += 1;
    }

    /// The events hash.
    pub fn finish(self) -> String {
        hex::encode(self.hasher.finalize())
    }
}

/// A link hash, as the sealing trigger computes it.
pub(crate) fn link_hash(prev: &str, seq: i64, txid: i64, count: i64, events_hash: &str) -> String {
    sha256_hex(format!("{prev}|{seq}|{txid}|{count}|{events_hash}").as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_events_hash_is_the_hash_of_nothing() {
        assert_eq!(EventsHasher::default().finish(), sha256_hex(b""));
    }

    #[test]
    fn events_hash_chains_hex_digests_with_newlines() {
        let mut h = EventsHasher::default();
        h.add("[1]");
        h.add("[2]");
        let expected =
            sha256_hex(format!("{}\n{}\n", sha256_hex(b"[1]"), sha256_hex(b"[2]")).as_bytes());
        assert_eq!(h.finish(), expected);
    }
}
