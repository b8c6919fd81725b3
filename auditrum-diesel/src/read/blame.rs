//! Blame: who changed a record, when and why — one line per event, or the value timeline
//! of one field — built on [`record_history`](super::record_history).

use std::fmt;

use chrono::{DateTime, Utc};
use diesel::PgConnection;
use serde::Serialize;
use serde_json::{Map, Value};

use super::{record_history, EventContext, EventWithContext, ReadError};
use crate::{AuditConfig, Operation, TableName};

/// One event of a record, for blame: who, when, why, and what it changed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BlameLine {
    /// Event id.
    pub id: i64,
    /// Start time of the writing transaction.
    pub changed_at: DateTime<Utc>,
    /// What the event did.
    pub operation: Operation,
    /// The record's key after the event.
    pub record_id: Option<String>,
    /// The key before, when the event changed it.
    pub old_record_id: Option<String>,
    /// The writing transaction.
    pub txid: i64,
    /// The transaction's context, whole (`null` when it set none).
    pub context: Option<Value>,
    /// Each column the event wrote: `{"old": …, "new": …}`; an INSERT has no `old`, a
    /// DELETE no `new`.
    pub changes: Map<String, Value>,
}

/// One step of a field's value timeline.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldChange {
    /// Event id.
    pub id: i64,
    /// Start time of the writing transaction.
    pub changed_at: DateTime<Utc>,
    /// `INSERT`, `UPDATE` or `DELETE`.
    pub operation: Operation,
    /// The field.
    pub field: String,
    /// Its value before (`None` for an INSERT; left out of the JSON then).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old: Option<Value>,
    /// Its value after (`None` for a DELETE; left out of the JSON then).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new: Option<Value>,
    /// The writing transaction.
    pub txid: i64,
    /// The transaction's context, whole.
    pub context: Option<Value>,
}

impl BlameLine {
    fn from_event(EventWithContext { event, context }: EventWithContext) -> Self {
        let mut changes = Map::new();
        let pair = |old: Option<&Value>, new: Option<&Value>| {
            let mut change = Map::new();
            if let Some(old) = old {
                change.insert("old".into(), old.clone());
            }
            if let Some(new) = new {
                change.insert("new".into(), new.clone());
            }
            Value::Object(change)
        };
        let object = |data: &Option<Value>| data.as_ref().and_then(Value::as_object).cloned();
        match event.operation {
            Operation::Update => {
                for (column, change) in object(&event.diff).unwrap_or_default() {
                    changes.insert(column, pair(change.get("old"), change.get("new")));
                }
            }
            Operation::Insert => {
                for (column, value) in object(&event.new_data).unwrap_or_default() {
                    changes.insert(column, pair(None, Some(&value)));
                }
            }
            Operation::Delete => {
                for (column, value) in object(&event.old_data).unwrap_or_default() {
                    changes.insert(column, pair(Some(&value), None));
                }
            }
            // A table-wide event, or one the log wrote about itself: no field of the row.
            Operation::Truncate | Operation::Ddl | Operation::Purge | Operation::Redact => {}
        }
        BlameLine {
            id: event.id,
            changed_at: event.changed_at,
            operation: event.operation,
            record_id: event.record_id,
            old_record_id: event.old_record_id,
            txid: event.txid,
            context: context.map(|c| c.to_json()),
            changes,
        }
    }

    /// The context, typed.
    pub fn context(&self) -> Option<EventContext> {
        self.context.clone().map(EventContext::from_json)
    }
}

/// The events of the record `key` of `table` (`table` or `schema.table`), oldest first,
/// with what each changed; `last` keeps only the newest `last` of them.
pub fn blame(
    conn: &mut PgConnection,
    config: &AuditConfig,
    table: &str,
    key: &str,
    last: Option<usize>,
) -> Result<Vec<BlameLine>, ReadError> {
    let table = TableName::parse(table)?;
    let events = record_history(conn, config, table.schema(), table.table(), key)?;
    let mut lines: Vec<BlameLine> = events.into_iter().map(BlameLine::from_event).collect();
    keep_last(&mut lines, last);
    Ok(lines)
}

/// The value timeline of `field` of the record `key`: every event that wrote it, oldest
/// first, with the value before and after; `last` keeps the newest `last` steps.
///
/// Empty when the field is not tracked (its values are not in the log).
pub fn field_history(
    conn: &mut PgConnection,
    config: &AuditConfig,
    table: &str,
    key: &str,
    field: &str,
    last: Option<usize>,
) -> Result<Vec<FieldChange>, ReadError> {
    let mut steps: Vec<FieldChange> = blame(conn, config, table, key, None)?
        .into_iter()
        .filter_map(|line| {
            let change = line.changes.get(field)?;
            Some(FieldChange {
                id: line.id,
                changed_at: line.changed_at,
                operation: line.operation,
                field: field.to_owned(),
                old: change.get("old").cloned(),
                new: change.get("new").cloned(),
                txid: line.txid,
                context: line.context,
            })
        })
        .collect();
    keep_last(&mut steps, last);
    Ok(steps)
}

fn keep_last<T>(items: &mut Vec<T>, last: Option<usize>) {
    if let Some(n) = last {
        let cut = items.len().saturating_sub(n);
        items.drain(..cut);
    }
}

/// Widest a cell of the text table may be, in characters.
const WHO: usize = 16;
const REASON: usize = 28;
const REQUEST: usize = 14;
const VALUE: usize = 24;
const CHANGES: usize = 72;

/// `text` cut to `width` characters, ending with `…` when cut.
pub(crate) fn cut(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(width.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// Rows of cells printed as aligned columns (the last one not padded).
fn table(rows: &[Vec<String>], f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let columns = rows.first().map_or(0, Vec::len);
    let widths: Vec<usize> = (0..columns)
        .map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
        .collect();
    for row in rows {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            if i + 1 == columns {
                line.push_str(cell);
            } else {
                let pad = widths[i] - cell.chars().count();
                line.push_str(cell);
                line.push_str(&" ".repeat(pad + 2));
            }
        }
        writeln!(f, "{}", line.trim_end())?;
    }
    Ok(())
}

/// The cells every blame row starts with: id, time, operation, who, reason, request.
fn lead(id: i64, at: DateTime<Utc>, operation: Operation, context: &Option<Value>) -> Vec<String> {
    let ctx = context
        .clone()
        .map(EventContext::from_json)
        .unwrap_or_default();
    vec![
        format!("#{id}"),
        at.format("%Y-%m-%d %H:%M:%S").to_string(),
        operation.as_str().to_owned(),
        cut(ctx.who().unwrap_or("-"), WHO),
        cut(ctx.change_reason.as_deref().unwrap_or("-"), REASON),
        cut(ctx.request_id.as_deref().unwrap_or("-"), REQUEST),
    ]
}

fn value(value: Option<&Value>) -> String {
    match value {
        // Masked, hashed and redacted values show as such, not as marker JSON.
        Some(v) => cut(&super::protected::display(v), VALUE),
        None => "∅".to_owned(),
    }
}

const HEADER: [&str; 6] = ["EVENT", "WHEN (UTC)", "OP", "WHO", "REASON", "REQUEST"];

/// Blame lines as an aligned table for a terminal, long values cut.
#[derive(Debug)]
pub struct BlameText<'a>(pub &'a [BlameLine]);

impl fmt::Display for BlameText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rows = vec![HEADER
            .iter()
            .map(|h| h.to_string())
            .chain(["CHANGES".into()])
            .collect()];
        for line in self.0 {
            let mut row = lead(line.id, line.changed_at, line.operation, &line.context);
            let changes: Vec<String> = line
                .changes
                .iter()
                .map(|(column, change)| match line.operation {
                    Operation::Update => format!(
                        "{column}: {} → {}",
                        value(change.get("old")),
                        value(change.get("new"))
                    ),
                    Operation::Insert => format!("{column}={}", value(change.get("new"))),
                    _ => format!("{column}={}", value(change.get("old"))),
                })
                .collect();
            let mut text = changes.join(", ");
            if let Some(old) = &line.old_record_id {
                text = format!(
                    "[key {old} → {}] {text}",
                    line.record_id.as_deref().unwrap_or("-")
                );
            }
            row.push(cut(text.trim_end(), CHANGES));
            rows.push(row);
        }
        table(&rows, f)
    }
}

/// A field's timeline as an aligned table for a terminal, long values cut.
#[derive(Debug)]
pub struct FieldText<'a>(pub &'a [FieldChange]);

impl fmt::Display for FieldText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let field = self.0.first().map_or("VALUE", |c| c.field.as_str());
        let mut rows = vec![HEADER
            .iter()
            .map(|h| h.to_string())
            .chain([field.to_uppercase()])
            .collect()];
        for step in self.0 {
            let mut row = lead(step.id, step.changed_at, step.operation, &step.context);
            row.push(format!(
                "{} → {}",
                value(step.old.as_ref()),
                value(step.new.as_ref())
            ));
            rows.push(row);
        }
        table(&rows, f)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn long_values_are_cut_with_an_ellipsis() {
        assert_eq!(super::cut("abcdef", 4), "abc…");
        assert_eq!(super::cut("abc", 4), "abc");
        assert_eq!(super::cut("äöüßé", 3), "äö…");
    }
}
