//! Bypass detection: did anything change the audited tables while their triggers were
//! off?
//!
//! For each record, the events must chain — every value an UPDATE or DELETE says a column
//! had before must be the value the previous event left — and the row the events end with
//! must be the live row: alive with the same tracked values, or gone. A break means a write
//! the triggers did not see (`ALTER TABLE … DISABLE TRIGGER`, `session_replication_role =
//! replica`, a restore, …). Live rows the log never saw at all are reported too, unless
//! allowed (tables tracked after they had rows).
//!
//! Tables with a `condition` are skipped: changes of rows outside it are not recorded, so
//! their chains break by design.

use std::collections::BTreeMap;

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Jsonb, Text};
use serde::Serialize;
use serde_json::{Map, Value};

use super::materialize::key_object;
use super::{installed_spec, load, AuditEvent, ReadError};
use crate::quote;
use crate::sql;
use crate::{AuditConfig, Operation, TrackSpec};

/// One sign of a write the triggers did not see.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    /// `schema.table`.
    pub table: String,
    /// The record's key.
    pub key: String,
    /// What is wrong, in words.
    pub problem: String,
    /// The event where the break shows (`None` when only the live row tells).
    pub event: Option<i64>,
    /// The column, when one column tells.
    pub column: Option<String>,
    /// What the log says the value was (`null` when it says nothing).
    pub expected: Option<Value>,
    /// What was found instead (the event's old value, or the live row's).
    pub found: Option<Value>,
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.table, self.key, self.problem)?;
        if let Some(event) = self.event {
            write!(f, " (at event #{event})")?;
        }
        if let Some(column) = &self.column {
            let show = |v: &Option<Value>| v.as_ref().map_or("-".to_owned(), Value::to_string);
            write!(
                f,
                ": {column} expected {} found {}",
                show(&self.expected),
                show(&self.found)
            )?;
        }
        Ok(())
    }
}

/// What was checked in one table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TableCheck {
    /// `schema.table`.
    pub table: String,
    /// Records (lineages) checked.
    pub records: u64,
    /// Events checked.
    pub events: u64,
    /// Why the table was not checked, if it was not.
    pub skipped: Option<String>,
}

/// The result of [`verify_history`]: clean when `findings` is empty.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HistoryReport {
    /// Each table checked.
    pub tables: Vec<TableCheck>,
    /// Every break found.
    pub findings: Vec<Finding>,
}

/// Options of [`verify_history`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VerifyOptions {
    /// Only this table (`table` or `schema.table`); every tracked table otherwise.
    pub table: Option<String>,
    /// Do not report live rows the log has no event of (for tables tracked after they
    /// already had rows).
    pub allow_unlogged: bool,
}

/// Checks the history of every tracked table (or one) for writes the triggers did not see.
///
/// For each record the events must chain — every value an UPDATE or DELETE says a column
/// had before is the value the previous event left — and end in the live row: alive with
/// the same tracked values, or gone. Live rows without any event are reported unless
/// [`allow_unlogged`](VerifyOptions::allow_unlogged). Tables with a `condition` are
/// skipped. Memory stays flat: events are read a batch at a time, by key.
pub fn verify_history(
    conn: &mut PgConnection,
    config: &AuditConfig,
    options: &VerifyOptions,
) -> Result<HistoryReport, ReadError> {
    let tables = match &options.table {
        Some(table) => vec![table.clone()],
        None => tracked_tables(conn, config)?,
    };
    let mut report = HistoryReport {
        tables: Vec::new(),
        findings: Vec::new(),
    };
    for table in tables {
        let spec = installed_spec(conn, config, &table)?;
        let mut check = TableCheck {
            table: spec.display_name(),
            records: 0,
            events: 0,
            skipped: None,
        };
        if spec.condition().is_some() {
            check.skipped = Some("it has a condition: rows outside it change unrecorded".into());
            report.tables.push(check);
            continue;
        }
        let findings = conn.transaction::<_, ReadError, _>(|conn| {
            verify_table(conn, config, &spec, options, &mut check)
        })?;
        report.findings.extend(findings);
        report.tables.push(check);
    }
    Ok(report)
}

#[derive(QueryableByName)]
struct Name {
    #[diesel(sql_type = Text)]
    name: String,
}

fn tracked_tables(conn: &mut PgConnection, config: &AuditConfig) -> QueryResult<Vec<String>> {
    let sql = format!(
        "SELECT table_schema || '.' || table_name AS name FROM {} ORDER BY 1",
        config.qualified_registry_table()
    );
    Ok(diesel::sql_query(sql)
        .load::<Name>(conn)?
        .into_iter()
        .map(|n| n.name)
        .collect())
}

/// How a record's events end.
enum End {
    /// Alive at `key`, with these tracked values (as far as the log knows them).
    Alive(String, Map<String, Value>),
    /// Deleted (or truncated) last at `key`.
    Gone(String),
}

fn verify_table(
    conn: &mut PgConnection,
    config: &AuditConfig,
    spec: &TrackSpec,
    options: &VerifyOptions,
    check: &mut TableCheck,
) -> Result<Vec<Finding>, ReadError> {
    let table = spec.display_name();
    // Masked and hashed columns are not compared: the log does not hold their values.
    let tracked: Vec<String> = spec
        .tracked_columns()
        .into_iter()
        .map(|c| c.name)
        .filter(|c| spec.protection(c).is_none())
        .collect();
    let mut findings = Vec::new();
    load::each_lineage_batch::<ReadError>(conn, config, spec, &mut |conn, lineages| {
        let mut ends = Vec::new();
        for lineage in lineages {
            check.records += 1;
            check.events += lineage.iter().filter(|e| e.record_id.is_some()).count() as u64;
            if let Some(end) = chain(lineage, &table, &mut findings) {
                ends.push(end);
            }
        }
        let keys: Vec<String> = ends
            .iter()
            .map(|end| match end {
                End::Alive(key, _) | End::Gone(key) => key.clone(),
            })
            .collect();
        let live = live_rows(conn, spec, &keys)?;
        for (end, live) in ends.into_iter().zip(live) {
            match (end, live) {
                (End::Alive(key, _), None) => findings.push(Finding {
                    table: table.clone(),
                    key,
                    problem: "the log shows the row alive, but it is gone: deleted with the triggers off".into(),
                    event: None,
                    column: None,
                    expected: None,
                    found: None,
                }),
                (End::Alive(key, state), Some(row)) => {
                    for column in tracked.iter().filter(|c| state.contains_key(*c)) {
                        let (expected, found) = (state.get(column), row.get(column));
                        if expected != found {
                            findings.push(Finding {
                                table: table.clone(),
                                key: key.clone(),
                                problem: "the live row differs from the log: changed with the triggers off".into(),
                                event: None,
                                column: Some(column.clone()),
                                expected: expected.cloned(),
                                found: found.cloned(),
                            });
                        }
                    }
                }
                (End::Gone(key), Some(_)) => findings.push(Finding {
                    table: table.clone(),
                    key,
                    problem: "the log shows the row deleted, but it exists: inserted with the triggers off".into(),
                    event: None,
                    column: None,
                    expected: None,
                    found: None,
                }),
                (End::Gone(_), None) => {}
            }
        }
        Ok(())
    })?;
    if !options.allow_unlogged {
        for key in unlogged_keys(conn, config, spec)? {
            findings.push(Finding {
                table: table.clone(),
                key,
                problem: "the log has no event of this row: inserted with the triggers off \
                          (or before the table was tracked: see --allow-unlogged)"
                    .into(),
                event: None,
                column: None,
                expected: None,
                found: None,
            });
        }
    }
    Ok(findings)
}

/// Walks one record's events, reporting each break of the chain; returns how it ends.
fn chain(lineage: &[&AuditEvent], table: &str, findings: &mut Vec<Finding>) -> Option<End> {
    // `None`: no row (before the first INSERT, or after a DELETE); the map: the values the
    // log knows. A record whose first event is not an INSERT predates the log: its values
    // become known as events tell them.
    let mut state: Option<Map<String, Value>> = None;
    let mut started = false;
    let mut key: Option<String> = None;
    let mut finding =
        |event: &AuditEvent, problem: &str, column: Option<(&str, &Value, &Value)>| {
            findings.push(Finding {
                table: table.to_owned(),
                key: event.record_id.clone().unwrap_or_default(),
                problem: problem.to_owned(),
                event: Some(event.id),
                column: column.map(|(c, _, _)| c.to_owned()),
                expected: column.map(|(_, expected, _)| expected.clone()),
                found: column.map(|(_, _, found)| found.clone()),
            });
        };
    for &event in lineage {
        if event.operation == Operation::Truncate {
            if state.is_some() {
                state = None;
            }
            continue;
        }
        key = event.record_id.clone();
        match event.operation {
            Operation::Insert => {
                if state.is_some() {
                    finding(event, "inserted while the log shows the row alive: it was deleted with the triggers off", None);
                }
                state = Some(object(&event.new_data));
            }
            operation => {
                let known = match (&mut state, started) {
                    (Some(known), _) => known,
                    (None, false) => state.insert(Map::new()),
                    (None, true) => {
                        finding(event, "written while the log shows the row deleted: it was re-inserted with the triggers off", None);
                        state.insert(Map::new())
                    }
                };
                let before: Vec<(String, Value)> = match operation {
                    Operation::Delete => object(&event.old_data).into_iter().collect(),
                    _ => {
                        let mut before: BTreeMap<String, Value> =
                            object(&event.old_data).into_iter().collect();
                        for (column, old, _) in event.changes() {
                            before.insert(column.to_owned(), old.clone());
                        }
                        before.into_iter().collect()
                    }
                };
                for (column, old) in &before {
                    if let Some(expected) = known.get(column) {
                        if expected != old {
                            finding(
                                event,
                                "the value before this event is not the one the log last recorded: changed with the triggers off",
                                Some((column, expected, old)),
                            );
                        }
                    }
                }
                if operation == Operation::Delete {
                    state = None;
                } else {
                    let known = state.as_mut().expect("set above");
                    for (column, _, new) in event.changes() {
                        known.insert(column.to_owned(), new.clone());
                    }
                    for (column, value) in object(&event.new_data) {
                        known.insert(column, value);
                    }
                }
            }
        }
        started = true;
    }
    let key = key?;
    Some(match state {
        Some(values) => End::Alive(key, values),
        None => End::Gone(key),
    })
}

fn object(data: &Option<Value>) -> Map<String, Value> {
    data.as_ref()
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default()
}

#[derive(QueryableByName)]
struct LiveRow {
    #[diesel(sql_type = BigInt)]
    n: i64,
    #[diesel(sql_type = Jsonb)]
    row: Value,
}

/// The live rows at `keys` (stored form), as JSON, in the order of `keys`.
fn live_rows(
    conn: &mut PgConnection,
    spec: &TrackSpec,
    keys: &[String],
) -> QueryResult<Vec<Option<Map<String, Value>>>> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let table = quote::qualified(spec.schema(), spec.table());
    let sql = format!(
        "SELECT i.n, to_jsonb(l) AS row FROM jsonb_array_elements($1) WITH ORDINALITY AS i(key, n) \
         CROSS JOIN LATERAL jsonb_populate_record(NULL::{table}, i.key) AS k \
         JOIN {table} AS l ON {}",
        sql::key::key_match("l", "k", spec.key())
    );
    let objects: Value = keys.iter().map(|k| key_object(spec.key(), k)).collect();
    let found: Vec<LiveRow> = diesel::sql_query(sql)
        .bind::<Jsonb, _>(&objects)
        .load(conn)?;
    let mut rows: Vec<Option<Map<String, Value>>> = vec![None; keys.len()];
    for live in found {
        if let Value::Object(row) = live.row {
            rows[(live.n - 1) as usize] = Some(row);
        }
    }
    Ok(rows)
}

/// Keys of the live rows the log has no event of.
fn unlogged_keys(
    conn: &mut PgConnection,
    config: &AuditConfig,
    spec: &TrackSpec,
) -> QueryResult<Vec<String>> {
    let key = sql::key::record_id("r", spec.key());
    let sql = format!(
        "SELECT {key} AS name FROM {table} AS r WHERE \
         NOT EXISTS (SELECT FROM {log} e WHERE e.table_name = $1 AND e.table_schema = $2 AND e.record_id = {key}) \
         AND NOT EXISTS (SELECT FROM {log} e WHERE e.table_name = $1 AND e.table_schema = $2 AND e.old_record_id = {key}) \
         ORDER BY 1",
        table = quote::qualified(spec.schema(), spec.table()),
        log = config.qualified_table(),
    );
    Ok(diesel::sql_query(sql)
        .bind::<Text, _>(spec.table())
        .bind::<Text, _>(spec.schema())
        .load::<Name>(conn)?
        .into_iter()
        .map(|n| n.name)
        .collect())
}
