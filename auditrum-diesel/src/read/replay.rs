//! Rebuilding rows from their events: the fold behind time travel, blame and
//! verify-history.
//!
//! A *lineage* is the chain of events of one row across key changes; a *life* is one
//! stretch of it between an INSERT (or the start of the log, for a row that predates it)
//! and a DELETE (or TRUNCATE). Within a life, the value of a column at an instant is the
//! newest value an event at or before the instant wrote (an INSERT's row, an UPDATE's
//! `new`, a full-storage UPDATE's row), else the oldest value an event after the instant
//! says it had before (an UPDATE's `old`, a DELETE's row), else unknown to the log: an
//! untracked column, which only the live row can supply, and only while the life lasts.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use super::key::key_parts;
use super::AuditEvent;
use crate::Operation;

/// A row as the log knows it at an instant.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Snapshot {
    /// The key the row had at the instant.
    pub key: String,
    /// The values the log knows (tracked columns, and the key columns).
    pub values: Map<String, Value>,
    /// The row's life has not ended: it should be the live row at `live_key`.
    pub current: bool,
    /// The key the row has now (after its last event), when `current`.
    pub live_key: String,
}

/// One life: its events in id order, and whether a DELETE or TRUNCATE ended it.
struct Life<'a> {
    events: Vec<&'a AuditEvent>,
    starts_with_insert: bool,
    ended: bool,
}

impl Life<'_> {
    fn start(&self) -> Option<DateTime<Utc>> {
        self.starts_with_insert.then(|| self.events[0].changed_at)
    }

    fn end(&self) -> Option<DateTime<Utc>> {
        self.ended
            .then(|| self.events.last().expect("a life has events").changed_at)
    }

    fn holds(&self, at: DateTime<Utc>) -> bool {
        self.start().is_none_or(|start| start <= at) && self.end().is_none_or(|end| at < end)
    }
}

/// Splits one lineage's events (id order, with the table's TRUNCATEs merged in) into lives.
fn lives<'a>(events: &[&'a AuditEvent]) -> Vec<Life<'a>> {
    let mut lives: Vec<Life<'a>> = Vec::new();
    for &event in events {
        let open = lives.last().is_some_and(|life| !life.ended);
        match event.operation {
            Operation::Insert => lives.push(Life {
                events: vec![event],
                starts_with_insert: true,
                ended: false,
            }),
            // A TRUNCATE ends the open life, and means nothing to a row not alive then.
            Operation::Truncate if !open => {}
            operation => {
                if !open {
                    // A row the log did not see inserted (it predates the log, or entered a
                    // condition's scope by an UPDATE): its life starts before the log does.
                    lives.push(Life {
                        events: Vec::new(),
                        starts_with_insert: false,
                        ended: false,
                    });
                }
                let life = lives.last_mut().expect("a life is open");
                life.events.push(event);
                life.ended = matches!(operation, Operation::Delete | Operation::Truncate);
            }
        }
    }
    lives
}

/// The row of one lineage at `at`, or `None` when it did not exist then.
pub(crate) fn state_at(
    events: &[&AuditEvent],
    key_columns: &[String],
    at: DateTime<Utc>,
) -> Option<Snapshot> {
    let lives = lives(events);
    let last = lives.len().checked_sub(1)?;
    let (index, life) = lives
        .iter()
        .enumerate()
        .rev()
        .find(|(_, life)| life.holds(at))?;
    let (before, after): (Vec<&AuditEvent>, Vec<&AuditEvent>) =
        life.events.iter().partition(|e| e.changed_at <= at);
    let before: Vec<&AuditEvent> = before
        .into_iter()
        .filter(|e| e.record_id.is_some())
        .collect();
    let after: Vec<&AuditEvent> = after
        .into_iter()
        .filter(|e| e.record_id.is_some())
        .collect();
    let key = match (before.last(), after.first()) {
        (Some(e), _) => e.record_id.clone()?,
        (None, Some(e)) => e.old_record_id.clone().or_else(|| e.record_id.clone())?,
        (None, None) => return None,
    };
    let mut values = Map::new();
    let mut columns: Vec<&str> = Vec::new();
    for event in life.events.iter().filter(|e| e.record_id.is_some()) {
        for column in event_columns(event) {
            if !columns.contains(&column) {
                columns.push(column);
            }
        }
    }
    for column in columns {
        let newest = before.iter().rev().find_map(|e| e.value_after(column));
        let oldest = || after.iter().find_map(|e| e.value_before(column));
        if let Some(value) = newest.or_else(oldest) {
            values.insert(column.to_owned(), value.clone());
        }
    }
    for (column, part) in key_columns.iter().zip(key_parts(&key, key_columns.len())) {
        values.entry(column.clone()).or_insert(part);
    }
    let live_key = life
        .events
        .iter()
        .rev()
        .find_map(|e| e.record_id.clone())
        .unwrap_or_else(|| key.clone());
    Some(Snapshot {
        key,
        values,
        current: index == last && !life.ended,
        live_key,
    })
}

/// The columns an event holds a value of.
fn event_columns(event: &AuditEvent) -> impl Iterator<Item = &str> {
    [&event.diff, &event.new_data, &event.old_data]
        .into_iter()
        .filter_map(|data| data.as_ref()?.as_object())
        .flat_map(|object| object.keys().map(String::as_str))
}

/// Groups events of keys that changed (id order, TRUNCATEs included) into lineages,
/// following each row across key changes. Rows moved in one statement (a swap `1 → 2,
/// 2 → 1`) are told apart: a row moved onto a key still held is set aside until the
/// holder moves away.
pub(crate) fn lineages<'a>(events: &[&'a AuditEvent]) -> Vec<Vec<&'a AuditEvent>> {
    let mut lineages: Vec<Vec<&AuditEvent>> = Vec::new();
    let mut holder: HashMap<&str, usize> = HashMap::new();
    let mut displaced: HashMap<&str, usize> = HashMap::new();
    let new_lineage = |lineages: &mut Vec<Vec<&'a AuditEvent>>| {
        lineages.push(Vec::new());
        lineages.len() - 1
    };
    for &event in events {
        let Some(key) = event.record_id.as_deref() else {
            // TRUNCATE: ends every row held now.
            for &lineage in holder.values().chain(displaced.values()) {
                lineages[lineage].push(event);
            }
            holder.clear();
            displaced.clear();
            continue;
        };
        let lineage = match (event.operation, event.old_record_id.as_deref()) {
            (Operation::Insert, _) => {
                let lineage = new_lineage(&mut lineages);
                if let Some(previous) = holder.insert(key, lineage) {
                    displaced.insert(key, previous);
                }
                lineage
            }
            (Operation::Delete, _) => match displaced.remove(key).or_else(|| holder.remove(key)) {
                Some(lineage) => lineage,
                None => new_lineage(&mut lineages),
            },
            (_, Some(old)) => {
                let lineage = match displaced.remove(old).or_else(|| holder.remove(old)) {
                    Some(lineage) => lineage,
                    None => new_lineage(&mut lineages),
                };
                if let Some(previous) = holder.insert(key, lineage) {
                    displaced.insert(key, previous);
                }
                lineage
            }
            (_, None) => match holder.get(key) {
                Some(&lineage) => lineage,
                None => {
                    let lineage = new_lineage(&mut lineages);
                    holder.insert(key, lineage);
                    lineage
                }
            },
        };
        lineages[lineage].push(event);
    }
    lineages
}

/// Merges the table's TRUNCATE events (id order) into one key's events (id order).
pub(crate) fn with_truncates<'a>(
    events: &'a [AuditEvent],
    truncates: &'a [AuditEvent],
) -> Vec<&'a AuditEvent> {
    let mut merged: Vec<&AuditEvent> = events.iter().chain(truncates).collect();
    merged.sort_by_key(|e| e.id);
    merged
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;
    use serde_json::json;

    fn event(id: i64, minute: u32, operation: Operation, key: &str, data: Value) -> AuditEvent {
        let (diff, old_data, new_data) = match operation {
            Operation::Insert => (None, None, Some(data)),
            Operation::Update => (Some(data), None, None),
            _ => (None, Some(data), None),
        };
        AuditEvent {
            id,
            changed_at: Utc.with_ymd_and_hms(2026, 1, 1, 0, minute, 0).unwrap(),
            operation,
            table_schema: "public".into(),
            table_name: "t".into(),
            record_id: (operation != Operation::Truncate).then(|| key.to_owned()),
            old_record_id: None,
            diff,
            old_data,
            new_data,
            meta: None,
            txid: id,
            context_id: None,
        }
    }

    fn at(minute: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 1, 0, minute, 30).unwrap()
    }

    #[test]
    fn lives_end_at_delete_and_truncate_and_values_fold_forward() {
        let events = [
            event(1, 1, Operation::Insert, "1", json!({"id": 1, "a": "x"})),
            event(
                2,
                2,
                Operation::Update,
                "1",
                json!({"a": {"old": "x", "new": "y"}}),
            ),
            event(3, 3, Operation::Delete, "1", json!({"id": 1, "a": "y"})),
            event(4, 4, Operation::Insert, "1", json!({"id": 1, "a": "z"})),
            event(5, 5, Operation::Truncate, "", json!({})),
        ];
        let refs: Vec<&AuditEvent> = events.iter().collect();
        let key = ["id".to_owned()];
        assert_eq!(state_at(&refs, &key, at(0)), None);
        assert_eq!(state_at(&refs, &key, at(1)).unwrap().values["a"], "x");
        assert_eq!(state_at(&refs, &key, at(2)).unwrap().values["a"], "y");
        assert!(!state_at(&refs, &key, at(2)).unwrap().current);
        assert_eq!(state_at(&refs, &key, at(3)), None);
        assert_eq!(state_at(&refs, &key, at(4)).unwrap().values["a"], "z");
        assert_eq!(state_at(&refs, &key, at(5)), None);
    }

    #[test]
    fn a_row_older_than_the_log_is_read_backwards() {
        let events = [event(
            1,
            5,
            Operation::Update,
            "7",
            json!({"a": {"old": 1, "new": 2}}),
        )];
        let refs: Vec<&AuditEvent> = events.iter().collect();
        let snapshot = state_at(&refs, &["id".to_owned()], at(1)).unwrap();
        assert_eq!(
            snapshot.values,
            *json!({"a": 1, "id": "7"}).as_object().unwrap()
        );
        assert!(snapshot.current);
    }

    #[test]
    fn a_swap_in_one_statement_keeps_each_row_in_its_lineage() {
        let mut events = [
            event(1, 1, Operation::Insert, "1", json!({"v": "one"})),
            event(2, 1, Operation::Insert, "2", json!({"v": "two"})),
            event(3, 2, Operation::Update, "2", json!({})),
            event(4, 2, Operation::Update, "1", json!({})),
        ];
        events[2].old_record_id = Some("1".into());
        events[3].old_record_id = Some("2".into());
        let refs: Vec<&AuditEvent> = events.iter().collect();
        let lineages = lineages(&refs);
        assert_eq!(lineages.len(), 2);
        assert_eq!(lineages[0].iter().map(|e| e.id).collect::<Vec<_>>(), [1, 3]);
        assert_eq!(lineages[1].iter().map(|e| e.id).collect::<Vec<_>>(), [2, 4]);
        let after = state_at(&lineages[0], &["id".to_owned()], at(3)).unwrap();
        assert_eq!(
            (after.key.as_str(), &after.values["v"]),
            ("2", &json!("one"))
        );
    }
}
