//! Redactions as the chain sees them: the `REDACT` events `redact` writes (chained like any
//! event), and their checks at verification.
//!
//! A `REDACT` event's `new_data` says who, when, why, which events and which of their
//! values (paths, never values) were erased, and which version 1 links it re-hashed as
//! version 2 (with both hashes). Verification accepts an erased value only when a *sealed*
//! `REDACT` event lists it, and only while the marker stands in its place.

use std::collections::{BTreeMap, HashMap, HashSet};

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text};
use serde::{Deserialize, Serialize};

use super::leaves::{self, REDACTED_VALUE_TEXTS};
use super::verify::Break;
use super::ChainNames;
use crate::{AuditConfig, Error};

/// The `new_data` of a `REDACT` event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RedactRecord {
    /// When (the redacting transaction's start, UTC).
    pub at: String,
    /// The database role that ran it (`session_user`).
    pub by: String,
    /// Why, as the operator gave it.
    pub reason: String,
    /// What was asked: `record` (a table's record) or `user` (a user's contexts), the table
    /// and the fields asked for. Never the key or the user id (they may be personal).
    pub request: RedactRequest,
    /// The values erased: per event, the paths of its erased values.
    pub erased: Vec<ErasedValues>,
    /// Version 1 links this redaction re-hashed as version 2.
    #[serde(default)]
    pub rehashed: Vec<Rehash>,
}

/// What a redaction was asked to erase.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RedactRequest {
    /// `record` or `user`.
    pub kind: String,
    /// The audited table (`schema.table`), for `record`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub table: Option<String>,
    /// The fields asked for (empty: every field).
    #[serde(default)]
    pub fields: Vec<String>,
}

/// The erased values of one event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErasedValues {
    /// The event.
    pub event_id: i64,
    /// The leaves erased (`["new_data", "email"]`, as PostgreSQL prints the array).
    pub paths: Vec<String>,
}

/// A version 1 link re-hashed as version 2 before its first redaction: its stored events
/// hash (version 1, which its link hash covers) was verified, then its events hashed anew.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rehash {
    /// The link.
    pub seq: i64,
    /// Its events hash, version 1 (stored in the link).
    pub v1_events_hash: String,
    /// Its events hash, version 2 (what verification recomputes from now on).
    pub v2_events_hash: String,
}

/// The redactions verification found in force, per `REDACT` event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RedactionSummary {
    /// The `REDACT` event.
    pub event_id: i64,
    /// When and by whom.
    pub at: String,
    /// The role that ran it.
    pub by: String,
    /// Why.
    pub reason: String,
    /// How many values it erased.
    pub values: i64,
}

/// Every sealed `REDACT` event of this log, by id.
pub(crate) fn sealed(
    conn: &mut PgConnection,
    config: &AuditConfig,
    names: &ChainNames,
) -> Result<BTreeMap<i64, RedactRecord>, Error> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = BigInt)]
        id: i64,
        #[diesel(sql_type = Nullable<Text>)]
        data: Option<String>,
    }
    // `operation::text`: a log made before `REDACT` existed has no such enum value.
    let rows: Vec<Row> = diesel::sql_query(format!(
        "SELECT e.id, e.new_data::text AS data FROM {events} e
         WHERE e.operation::text = 'REDACT' AND e.table_schema = $1 AND e.table_name = $2
           AND EXISTS (SELECT FROM {chain} l WHERE l.txid = e.txid)
         ORDER BY e.id",
        events = config.qualified_table(),
        chain = names.chain_table(),
    ))
    .bind::<Text, _>(config.schema())
    .bind::<Text, _>(config.table())
    .load(conn)?;
    rows.into_iter()
        .map(|row| {
            let record =
                serde_json::from_str(row.data.as_deref().unwrap_or("null")).map_err(|e| {
                    Error::Refused(format!(
                        "the REDACT event {} does not hold a redaction record ({e})",
                        row.id
                    ))
                })?;
            Ok((row.id, record))
        })
        .collect()
}

/// The version 2 events hash each re-hashed link must have, by link: `(v1, v2)`.
pub(crate) fn rehashed(entries: &BTreeMap<i64, RedactRecord>) -> HashMap<i64, (String, String)> {
    entries
        .values()
        .flat_map(|r| &r.rehashed)
        .map(|h| (h.seq, (h.v1_events_hash.clone(), h.v2_events_hash.clone())))
        .collect()
}

/// Checks the stored digests of erased values: each must be listed by the sealed `REDACT`
/// event it names, and the marker must stand in its value's place. Returns the breaks and
/// the redactions in force.
pub(crate) fn check(
    conn: &mut PgConnection,
    config: &AuditConfig,
    names: &ChainNames,
    entries: &BTreeMap<i64, RedactRecord>,
) -> Result<(Vec<Break>, Vec<RedactionSummary>), Error> {
    #[derive(QueryableByName)]
    struct Erased {
        #[diesel(sql_type = BigInt)]
        event_id: i64,
        #[diesel(sql_type = Text)]
        path: String,
        #[diesel(sql_type = BigInt)]
        redaction_id: i64,
        #[diesel(sql_type = Nullable<BigInt>)]
        txid: Option<i64>,
        #[diesel(sql_type = Nullable<Text>)]
        value: Option<String>,
    }
    let rows: Vec<Erased> = diesel::sql_query(format!(
        "SELECT r.event_id, r.path, r.redaction_id, e.txid,
                (SELECT p.value FROM {leaves} p WHERE p.path = r.path) AS value
         FROM {redaction} r
         LEFT JOIN {events} e ON e.id = r.event_id
         LEFT JOIN {contexts} c ON c.id = e.context_id
         WHERE r.digest IS NOT NULL
         ORDER BY r.event_id, r.path",
        leaves = leaves::leaves_sql(),
        redaction = names.redaction_table(),
        events = config.qualified_table(),
        contexts = config.qualified_context_table(),
    ))
    .load(conn)?;
    let listed: HashSet<(i64, i64, &str)> = entries
        .iter()
        .flat_map(|(id, r)| {
            r.erased
                .iter()
                .flat_map(move |e| e.paths.iter().map(move |p| (*id, e.event_id, p.as_str())))
        })
        .collect();
    let mut breaks = Vec::new();
    let mut per_entry: BTreeMap<i64, i64> = BTreeMap::new();
    for row in &rows {
        let mut problem = |problem: String, expected: String, found: String| {
            breaks.push(Break {
                seq: None,
                txid: row.txid,
                problem,
                expected,
                found,
                found_by: Vec::new(),
            })
        };
        if !listed.contains(&(row.redaction_id, row.event_id, row.path.as_str())) {
            problem(
                format!(
                    "value {} of event {} is marked erased by REDACT event {}, which is not a sealed redaction listing it (a forged redaction)",
                    row.path, row.event_id, row.redaction_id
                ),
                "a sealed REDACT event listing the value".to_owned(),
                "none".to_owned(),
            );
            continue;
        }
        match &row.value {
            Some(v) if REDACTED_VALUE_TEXTS.contains(&v.as_str()) => {
                *per_entry.entry(row.redaction_id).or_default() += 1;
            }
            found => problem(
                format!(
                    "value {} of event {} was erased by REDACT event {}, but something else stands in its place (edited after the redaction)",
                    row.path, row.event_id, row.redaction_id
                ),
                leaves::REDACTED_JSON.to_owned(),
                found.clone().unwrap_or_else(|| "no such value".to_owned()),
            ),
        }
    }
    let summaries = per_entry
        .into_iter()
        .map(|(id, values)| {
            let r = &entries[&id];
            RedactionSummary {
                event_id: id,
                at: r.at.clone(),
                by: r.by.clone(),
                reason: r.reason.clone(),
                values,
            }
        })
        .collect();
    Ok((breaks, summaries))
}

/// Deletes the seeds, salts and digests of events that are gone (purged, archived): called
/// by the operations that remove events, in their transaction. A chain enabled by an older
/// version has no such tables: nothing to do.
pub(crate) fn forget_removed_events(
    conn: &mut PgConnection,
    config: &AuditConfig,
) -> Result<(), Error> {
    let names = ChainNames::new(config);
    if super::require_upgraded(conn, &names).is_err() {
        return Ok(());
    }
    for table in [names.seed_table(), names.redaction_table()] {
        diesel::sql_query(format!(
            "DELETE FROM {table} r WHERE NOT EXISTS (SELECT FROM {events} e WHERE e.id = r.event_id)",
            events = config.qualified_table()
        ))
        .execute(conn)?;
    }
    Ok(())
}
