//! Events kept outside the live log (an archive written by `archive`, feature `archive`),
//! for the readers that can look there too: [`record_history_with`](super::record_history_with)
//! and [`as_of_json_with`](super::as_of_json_with).

use super::{EventWithContext, ReadError};

/// A source of archived events. Each method returns the matching events of the table
/// `schema.table` with their context, in any order; the readers merge them with the live
/// log's in id order (an event in both, a month exported with `--keep-partition`, counts
/// once).
pub trait ArchivedEvents {
    /// The events of the record `key` (as its key, or as the key an UPDATE moved it away
    /// from), and the table's `DDL` events.
    fn record(
        &self,
        schema: &str,
        table: &str,
        key: &str,
    ) -> Result<Vec<EventWithContext>, ReadError>;

    /// The table's events that changed a key (`old_record_id` set) and its `TRUNCATE`s.
    fn key_changes_and_truncates(
        &self,
        schema: &str,
        table: &str,
    ) -> Result<Vec<EventWithContext>, ReadError>;

    /// The table's events under any of `keys` (as the key, or as the key an UPDATE moved
    /// away from).
    fn of_keys(
        &self,
        schema: &str,
        table: &str,
        keys: &[String],
    ) -> Result<Vec<EventWithContext>, ReadError>;
}

/// `live` and `archived` in id order, each id once (the live copy wins).
pub(crate) fn merge(
    live: Vec<EventWithContext>,
    archived: Vec<EventWithContext>,
) -> Vec<EventWithContext> {
    let mut all = live;
    let known: std::collections::HashSet<i64> = all.iter().map(|e| e.event.id).collect();
    all.extend(
        archived
            .into_iter()
            .filter(|e| !known.contains(&e.event.id)),
    );
    all.sort_by_key(|e| e.event.id);
    all
}
