//! Revert: undo one event, a whole transaction or a whole request, through the audited
//! path, so the revert is itself in the log.
//!
//! Each reverted event is undone by the opposite write, newest first: an INSERT by a
//! DELETE, a DELETE by re-inserting the row it stored, an UPDATE by setting the columns it
//! changed (and its key, when it changed the key) back. A later event outside the revert
//! that touched the same row and columns is a *conflict*: the revert refuses
//! ([`ReadError::Conflicts`], nothing written) unless forced. The writes run in one
//! transaction with the context `source = "revert"`, a change reason naming what is
//! reverted and `reverts` (`{"event": 12}`, `{"transaction": 4711}` or
//! `{"request_id": "r-1"}`), merged over the context in force.
//!
//! Only what the log holds can be put back: a re-inserted row gets its tracked columns from
//! the DELETE event, and its untracked (excluded) columns their defaults.

use std::collections::{BTreeSet, HashMap};
use std::fmt;

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Jsonb, Text};
use serde::Serialize;
use serde_json::{json, Map, Value};

use super::materialize::key_object;
use super::revert_guard::{audited_spec, check_columns};
use super::{load, AuditEvent, ReadError};
use crate::connection::AuditedTransactionExt;
use crate::context::AuditContext;
use crate::quote;
use crate::sql;
use crate::{AuditConfig, Operation, TrackSpec};

/// What to revert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RevertTarget {
    /// One event, by id.
    Event(i64),
    /// Every event of one transaction, by its id (`txid`).
    Transaction(i64),
    /// Every event written under one request id.
    Request(String),
}

impl RevertTarget {
    /// The target as the context's `reverts` records it.
    fn to_json(&self) -> Value {
        match self {
            RevertTarget::Event(id) => json!({"event": id}),
            RevertTarget::Transaction(txid) => json!({"transaction": txid}),
            RevertTarget::Request(id) => json!({"request_id": id}),
        }
    }
}

impl fmt::Display for RevertTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RevertTarget::Event(id) => write!(f, "event #{id}"),
            RevertTarget::Transaction(txid) => write!(f, "transaction {txid}"),
            RevertTarget::Request(id) => write!(f, "request {id}"),
        }
    }
}

/// How to revert.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RevertOptions {
    /// Plan and check only; write nothing.
    pub dry_run: bool,
    /// Revert despite conflicts, overwriting the later changes; a step whose row is gone
    /// (or, for a re-insert, already back) is skipped.
    pub force: bool,
}

/// A later event that changed what a revert would undo.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Conflict {
    /// The event being reverted.
    pub reverted: i64,
    /// The later event.
    pub later: i64,
    /// `schema.table`.
    pub table: String,
    /// The record's key.
    pub key: String,
    /// What the later event did: `changed email, name`, `deleted the row`, ….
    pub what: String,
}

impl fmt::Display for Conflict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}: #{} {} after #{}",
            self.table, self.key, self.later, self.what, self.reverted
        )
    }
}

/// One write of a revert.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RevertStep {
    /// The event this write undoes.
    pub undoes: i64,
    /// `INSERT`, `UPDATE` or `DELETE`: the write.
    pub operation: Operation,
    /// `schema.table`.
    pub table: String,
    /// The key of the row written (for an UPDATE, before it).
    pub key: String,
    /// The values written: the row re-inserted, or the columns set back.
    pub values: Map<String, Value>,
    /// Whether it wrote a row (`false` in a dry run, or when forced and the row was gone).
    pub applied: bool,
}

impl fmt::Display for RevertStep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {}", self.operation, self.table, self.key)?;
        if !self.values.is_empty() {
            let values: Vec<String> = self
                .values
                .iter()
                .map(|(c, v)| format!("{c} = {v}"))
                .collect();
            write!(f, " SET {}", values.join(", "))?;
        }
        write!(f, " (undoes #{})", self.undoes)
    }
}

/// What a revert did (or, in a dry run, would do).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RevertReport {
    /// What was reverted, e.g. `event #12`.
    pub target: String,
    /// The events undone, in id order.
    pub events: Vec<i64>,
    /// The writes, in the order made (newest event first).
    pub steps: Vec<RevertStep>,
    /// Later events that changed the same rows and columns.
    pub conflicts: Vec<Conflict>,
    /// Nothing was written.
    pub dry_run: bool,
    /// The transaction that wrote the revert (its events are in the log under this txid).
    pub txid: Option<i64>,
}

/// Reverts `target` in the audit log `config` names.
///
/// Each event is undone by the opposite write, newest first: an INSERT by a DELETE, a
/// DELETE by re-inserting the row it stored (untracked columns get their defaults), an
/// UPDATE by setting the columns it changed (and its key, when it changed it) back. A later
/// event outside the revert that touched the same row and columns is a [`Conflict`]: the
/// revert then writes nothing and returns [`ReadError::Conflicts`], unless
/// [`force`](RevertOptions::force). The writes run in one transaction through
/// [`audited_transaction`](crate::connection::AuditedTransactionExt::audited_transaction)
/// with `source = "revert"`, the change reason `revert of <target>` and `reverts`
/// (`{"event": 12}`, `{"transaction": 4711}`, `{"request_id": "r-1"}`), merged over the
/// context in force; so the revert is itself audited. A dry run plans and checks only.
///
/// ```no_run
/// use auditrum_diesel::read::{revert, ReadError, RevertOptions, RevertTarget};
/// use auditrum_diesel::context::{with_context, AuditContext};
/// use auditrum_diesel::AuditConfig;
/// use diesel::prelude::*;
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let mut conn = PgConnection::establish("postgres://localhost/app")?;
/// let target = RevertTarget::Request("r-42".into());
/// let config = AuditConfig::default();
/// // Who reverts, and why: merged under the revert's own context.
/// let admin = AuditContext::new().user_id("admin@example.com").change_reason("ticket 99");
/// match with_context(admin, || revert(&mut conn, &config, &target, RevertOptions::default())) {
///     Ok(report) => println!("reverted {} event(s)", report.events.len()),
///     Err(ReadError::Conflicts(conflicts)) => {
///         for conflict in conflicts {
///             eprintln!("{conflict}");
///         }
///     }
///     Err(e) => return Err(e.into()),
/// }
/// # Ok(())
/// # }
/// ```
pub fn revert(
    conn: &mut PgConnection,
    config: &AuditConfig,
    target: &RevertTarget,
    options: RevertOptions,
) -> Result<RevertReport, ReadError> {
    if options.dry_run {
        let plan = plan(conn, config, target)?;
        return Ok(plan.report(target, true, None));
    }
    let context = AuditContext::new()
        .source("revert")
        .change_reason(format!("revert of {target}"))
        .insert("reverts", target.to_json());
    conn.audited_transaction_with_config(config, context, |conn| {
        let mut plan = plan(conn, config, target)?;
        if !plan.conflicts.is_empty() && !options.force {
            return Err(ReadError::Conflicts(plan.conflicts.clone()));
        }
        for (step, write) in plan.steps.iter_mut().zip(&plan.writes) {
            let rows = write.execute(conn, options.force)?;
            if rows == 0 && !options.force {
                return Err(ReadError::CannotRevert(format!(
                    "{step}: no row written (the row is not as the log says)"
                )));
            }
            step.applied = rows > 0;
        }
        let txid = current_txid(conn)?;
        Ok(plan.report(target, false, Some(txid)))
    })
}

/// A revert worked out: the steps and their SQL, and the conflicts.
struct Plan {
    events: Vec<i64>,
    steps: Vec<RevertStep>,
    writes: Vec<Write>,
    conflicts: Vec<Conflict>,
}

impl Plan {
    fn report(self, target: &RevertTarget, dry_run: bool, txid: Option<i64>) -> RevertReport {
        RevertReport {
            target: target.to_string(),
            events: self.events,
            steps: self.steps,
            conflicts: self.conflicts,
            dry_run,
            txid,
        }
    }
}

/// One write, as SQL with its two JSON parameters (the values, the key).
struct Write {
    operation: Operation,
    sql: String,
    values: Value,
    key: Value,
}

impl Write {
    fn execute(&self, conn: &mut PgConnection, force: bool) -> Result<usize, ReadError> {
        let sql = match force && self.operation == Operation::Insert {
            true => format!("{} ON CONFLICT DO NOTHING", self.sql),
            false => self.sql.clone(),
        };
        Ok(diesel::sql_query(sql)
            .bind::<Jsonb, _>(&self.values)
            .bind::<Jsonb, _>(&self.key)
            .execute(conn)?)
    }
}

fn current_txid(conn: &mut PgConnection) -> QueryResult<i64> {
    #[derive(QueryableByName)]
    struct Txid {
        #[diesel(sql_type = BigInt)]
        txid: i64,
    }
    Ok(diesel::sql_query("SELECT txid_current() AS txid")
        .get_result::<Txid>(conn)?
        .txid)
}

/// The events `target` names, in id order.
fn target_events(
    conn: &mut PgConnection,
    config: &AuditConfig,
    target: &RevertTarget,
) -> Result<Vec<AuditEvent>, ReadError> {
    let select = |condition: &str| {
        format!(
            "SELECT {EVENT} FROM {log} e WHERE {condition} ORDER BY e.id",
            EVENT = load::EVENT,
            log = config.qualified_table()
        )
    };
    let events: Vec<AuditEvent> = match target {
        RevertTarget::Event(id) => diesel::sql_query(select("e.id = $1"))
            .bind::<BigInt, _>(id)
            .load(conn)?,
        RevertTarget::Transaction(txid) => diesel::sql_query(select("e.txid = $1"))
            .bind::<BigInt, _>(txid)
            .load(conn)?,
        // Through the request indexes (of the context table, and of the events that carry
        // their context), then their transactions' events.
        RevertTarget::Request(request) => diesel::sql_query(select(&format!(
            "e.txid = ANY (ARRAY(SELECT c.txid FROM {contexts} c WHERE c.context ->> 'request_id' = $1 \
                        UNION ALL SELECT i.txid FROM {log} i WHERE i.context IS NOT NULL AND i.context ->> 'request_id' = $1)) \
             AND (e.context_id = ANY (ARRAY(SELECT c.id FROM {contexts} c WHERE c.context ->> 'request_id' = $1)) \
                  OR e.context ->> 'request_id' = $1)",
            contexts = config.qualified_context_table(),
            log = config.qualified_table(),
        )))
        .bind::<Text, _>(request)
        .load(conn)?,
    };
    if events.is_empty() {
        return Err(match target {
            RevertTarget::Event(id) => ReadError::NoSuchEvent(*id),
            other => ReadError::NothingToRevert(other.to_string()),
        });
    }
    if let Some(truncate) = events.iter().find(|e| e.operation == Operation::Truncate) {
        return Err(ReadError::CannotRevert(format!(
            "event #{} is a TRUNCATE of {}.{}: the log holds no rows to put back",
            truncate.id, truncate.table_schema, truncate.table_name
        )));
    }
    Ok(events)
}

fn plan(
    conn: &mut PgConnection,
    config: &AuditConfig,
    target: &RevertTarget,
) -> Result<Plan, ReadError> {
    let events = target_events(conn, config, target)?;
    let reverted: BTreeSet<i64> = events.iter().map(|e| e.id).collect();
    let mut specs: HashMap<String, TrackSpec> = HashMap::new();
    let mut plan = Plan {
        events: reverted.iter().copied().collect(),
        steps: Vec::new(),
        writes: Vec::new(),
        conflicts: Vec::new(),
    };
    for event in events.iter().rev() {
        let table = format!("{}.{}", event.table_schema, event.table_name);
        if !specs.contains_key(&table) {
            specs.insert(table.clone(), audited_spec(conn, config, &table)?);
        }
        let spec = &specs[&table];
        check_columns(event, spec)?;
        let key = event.record_id.clone().unwrap_or_default();
        let later: Vec<AuditEvent> =
            load::events_of_keys(conn, config, spec, std::slice::from_ref(&key))?
                .into_iter()
                .filter(|e| e.id > event.id && !reverted.contains(&e.id))
                .collect();
        plan.conflicts
            .extend(conflicts(event, &table, &key, &later));
        let (step, write) = undo(event, spec, &table, &key);
        plan.steps.push(step);
        plan.writes.push(write);
    }
    plan.conflicts.sort_by_key(|c| (c.reverted, c.later));
    Ok(plan)
}

/// The later events (of the same key, after `event`, outside the revert) that changed what
/// undoing `event` would write.
fn conflicts(event: &AuditEvent, table: &str, key: &str, later: &[AuditEvent]) -> Vec<Conflict> {
    let undone: BTreeSet<&str> = event.changes().iter().map(|(c, _, _)| *c).collect();
    let conflict = |later: &AuditEvent, what: String| Conflict {
        reverted: event.id,
        later: later.id,
        table: table.to_owned(),
        key: key.to_owned(),
        what,
    };
    if event.operation == Operation::Delete {
        // Undoing a DELETE re-inserts: only a row holding the key now stands in the way.
        let mut holder: Option<&AuditEvent> = None;
        for other in later {
            match (other.operation, other.record_id.as_deref() == Some(key)) {
                (Operation::Delete, true) => holder = None,
                (Operation::Insert | Operation::Update, true) => holder = Some(other),
                (Operation::Update, false) if other.old_record_id.as_deref() == Some(key) => {
                    holder = None
                }
                _ => {}
            }
        }
        return holder
            .map(|other| {
                let what = match other.operation {
                    Operation::Insert => "re-created the row".to_owned(),
                    _ => "moved another row to its key".to_owned(),
                };
                conflict(other, what)
            })
            .into_iter()
            .collect();
    }
    let mut found = Vec::new();
    for other in later {
        let moved_away = other.old_record_id.as_deref() == Some(key);
        let what = match (event.operation, other.operation) {
            (_, Operation::Delete) => Some("deleted the row".to_owned()),
            (_, Operation::Update) if moved_away => Some(format!(
                "moved the row to key {}",
                other.record_id.as_deref().unwrap_or("-")
            )),
            // Undoing an INSERT deletes the row: any later change would be lost with it.
            (Operation::Insert, Operation::Update) => {
                let changed: Vec<&str> = other.changes().iter().map(|(c, _, _)| *c).collect();
                Some(format!("changed {}", changed.join(", ")))
            }
            (Operation::Update, Operation::Update) => {
                let overlap: Vec<&str> = other
                    .changes()
                    .iter()
                    .map(|(c, _, _)| *c)
                    .filter(|c| undone.contains(c))
                    .collect();
                (!overlap.is_empty()).then(|| format!("changed {}", overlap.join(", ")))
            }
            _ => None,
        };
        found.extend(what.map(|what| conflict(other, what)));
    }
    found
}

/// The write that undoes `event`.
fn undo(event: &AuditEvent, spec: &TrackSpec, table: &str, key: &str) -> (RevertStep, Write) {
    let target = quote::qualified(spec.schema(), spec.table());
    let key_columns = spec.key();
    let matches = sql::key::key_match("t", "k", key_columns);
    let object = |data: &Option<Value>| {
        data.as_ref()
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default()
    };
    let (operation, values, sql) = match event.operation {
        Operation::Insert => (
            Operation::Delete,
            Map::new(),
            format!(
                "DELETE FROM {target} AS t USING jsonb_populate_record(NULL::{target}, $2) AS k \
                 WHERE $1 IS NOT NULL AND {matches}"
            ),
        ),
        Operation::Delete => {
            let mut row = object(&event.old_data);
            for (column, part) in key_object(key_columns, key)
                .as_object()
                .into_iter()
                .flatten()
            {
                row.entry(column.clone()).or_insert(part.clone());
            }
            let columns: Vec<String> = row.keys().map(|c| quote::ident(c)).collect();
            let sql = format!(
                "INSERT INTO {target} ({list}) OVERRIDING SYSTEM VALUE \
                 SELECT {selected} FROM jsonb_populate_record(NULL::{target}, $1) AS r \
                 WHERE $2 IS NOT NULL",
                list = columns.join(", "),
                selected = columns
                    .iter()
                    .map(|c| format!("r.{c}"))
                    .collect::<Vec<_>>()
                    .join(", "),
            );
            (Operation::Insert, row, sql)
        }
        _ => {
            let mut set: Map<String, Value> = event
                .changes()
                .into_iter()
                .map(|(column, old, _)| (column.to_owned(), old.clone()))
                .collect();
            // A key change goes back too, also when the key columns are not tracked.
            if let Some(old_key) = &event.old_record_id {
                for (column, part) in key_object(key_columns, old_key)
                    .as_object()
                    .into_iter()
                    .flatten()
                {
                    set.entry(column.clone()).or_insert(part.clone());
                }
            }
            let assignments: Vec<String> = set
                .keys()
                .map(|c| format!("{c} = r.{c}", c = quote::ident(c)))
                .collect();
            let sql = format!(
                "UPDATE {target} AS t SET {assignments} \
                 FROM jsonb_populate_record(NULL::{target}, $1) AS r, \
                      jsonb_populate_record(NULL::{target}, $2) AS k WHERE {matches}",
                assignments = assignments.join(", "),
            );
            (Operation::Update, set, sql)
        }
    };
    let step = RevertStep {
        undoes: event.id,
        operation,
        table: table.to_owned(),
        key: key.to_owned(),
        values: values.clone(),
        applied: false,
    };
    let write = Write {
        operation,
        sql,
        values: Value::Object(values),
        key: key_object(key_columns, key),
    };
    (step, write)
}
