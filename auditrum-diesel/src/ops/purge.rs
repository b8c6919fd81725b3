//! `purge`: retention. Deletes the events older than a cutoff (and the context rows no
//! event points at any more), optionally dropping whole monthly partitions instead of
//! deleting their rows. Never touches an event at or after the cutoff.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text, Timestamptz};
use serde::Serialize;

use super::chain::ChainNames;
use super::partitions;
use crate::quote;
use crate::{AuditConfig, Error};

/// What a purge did (or, in a dry run, would do).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PurgeReport {
    /// Events strictly older than this instant are removed.
    pub cutoff: DateTime<Utc>,
    /// Monthly partitions dropped whole, with their row counts.
    pub dropped_partitions: Vec<(String, i64)>,
    /// Events deleted row by row (outside dropped partitions).
    pub deleted_events: i64,
    /// Context rows deleted because no remaining event points at them.
    pub deleted_contexts: i64,
    /// With the hash chain on: where it was cut, and its new anchor.
    pub chain: Option<ChainCut>,
    /// With the hash chain on, when the cut moved the anchor: the `PURGE` event recording it
    /// (sealed into the chain right after the purge commits).
    pub chain_entry: Option<super::chain::PurgeEntry>,
    /// Whether nothing was changed.
    pub dry_run: bool,
}

/// What to purge.
#[derive(Debug, Clone)]
pub struct PurgeOptions<'a> {
    /// A PostgreSQL interval: `'2 years'`, `'90 days'`. The cutoff is `now() - older_than`,
    /// computed in UTC so the session's time zone does not move it.
    pub older_than: &'a str,
    /// Drop monthly partitions that hold only events older than the cutoff.
    pub drop_partitions: bool,
    /// Count, change nothing.
    pub dry_run: bool,
}

#[derive(QueryableByName)]
struct Instant {
    #[diesel(sql_type = Timestamptz)]
    at: DateTime<Utc>,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Where a purge cuts the hash chain: links before `keep_from_seq` go, with their events.
#[derive(Debug, Clone, PartialEq, Serialize, QueryableByName)]
pub struct ChainCut {
    /// The first link kept: verification starts here.
    #[diesel(sql_type = BigInt)]
    pub keep_from_seq: i64,
    /// The hash the first kept link points at: the new anchor. Keep it with the tip.
    #[diesel(sql_type = Text)]
    pub anchor_hash: String,
    /// Events up to this id predate the chain.
    #[diesel(sql_type = BigInt)]
    #[serde(skip)]
    pub chained_after_id: i64,
    /// The anchor before the cut: its first link…
    #[diesel(sql_type = BigInt)]
    pub from_anchor_seq: i64,
    /// …and the hash that link points at.
    #[diesel(sql_type = Text)]
    pub from_anchor_hash: String,
}

/// Purges in one transaction.
///
/// With the hash chain on, a purge removes whole links from the start of the chain, with
/// their events: the links before the first link whose transaction started at or after the
/// cutoff. Older events in later links, and events not sealed yet, are kept, so the kept
/// chain stays whole; the report names the new anchor (the first kept link and the hash it
/// points at).
#[tracing::instrument(
    name = "auditrum.purge",
    skip_all,
    fields(
        audit_table = %config.qualified_table(),
        older_than = options.older_than,
        drop_partitions = options.drop_partitions,
        dry_run = options.dry_run
    ),
    err
)]
pub fn purge(
    conn: &mut PgConnection,
    config: &AuditConfig,
    options: &PurgeOptions,
) -> Result<PurgeReport, Error> {
    if !options.dry_run {
        super::chain::refuse_cut(conn, config, "purge")?;
    }
    let report = conn.transaction::<_, Error, _>(|conn| {
        let cutoff = cutoff(conn, options.older_than)?;
        let chain = chain_cut(conn, config, cutoff)?;
        // Read before the cut, which may delete the events that record them.
        let earlier_purges = match chain {
            Some(_) => super::chain::purge_history(conn, config)?,
            None => Vec::new(),
        };
        let purgeable = purgeable(config, chain.as_ref());
        let mut dropped_partitions = Vec::new();
        if options.drop_partitions {
            for partition in partitions::list(conn, config)? {
                if partition.is_default || partition.to.is_none_or(|to| to > cutoff) {
                    continue;
                }
                let name = quote::qualified(config.schema(), &partition.name);
                let kept = count(conn, &format!("SELECT count(*) AS n FROM {name} e WHERE NOT ({purgeable})"), cutoff)?;
                if kept > 0 {
                    continue; // holds events the chain keeps: deleted row by row instead
                }
                let rows = count(conn, &format!("SELECT count(*) AS n FROM {name} e WHERE {purgeable}"), cutoff)?;
                if !options.dry_run {
                    diesel::sql_query(format!("DROP TABLE {name}")).execute(conn)?;
                }
                dropped_partitions.push((partition.name, rows));
            }
        }
        let events = config.qualified_table();
        let contexts = config.qualified_context_table();
        let (deleted_events, deleted_contexts) = if options.dry_run {
            let dropped: i64 = dropped_partitions.iter().map(|(_, rows)| rows).sum();
            let old = count(conn, &format!("SELECT count(*) AS n FROM {events} e WHERE {purgeable}"), cutoff)?;
            let orphans = count(
                conn,
                &format!(
                    "SELECT count(*) AS n FROM {contexts} c WHERE c.created_at < $1
                       AND NOT EXISTS (SELECT FROM {events} e WHERE e.txid = c.txid
                                       AND e.context_id = c.id AND NOT ({purgeable}))"
                ),
                cutoff,
            )?;
            (old - dropped, orphans)
        } else {
            let deleted = diesel::sql_query(format!("DELETE FROM {events} e WHERE {purgeable}"))
                .bind::<Timestamptz, _>(cutoff)
                .execute(conn)?;
            let orphans = diesel::sql_query(format!(
                "DELETE FROM {contexts} c WHERE c.created_at < $1
                   AND NOT EXISTS (SELECT FROM {events} e WHERE e.txid = c.txid AND e.context_id = c.id)"
            ))
            .bind::<Timestamptz, _>(cutoff)
            .execute(conn)?;
            if let Some(cut) = &chain {
                cut_chain(conn, config, cut)?;
            }
            (deleted as i64, orphans as i64)
        };
        // A cut that moved the anchor is recorded as a chained event of its own.
        let chain_entry = match &chain {
            Some(cut) if !options.dry_run && cut.keep_from_seq != cut.from_anchor_seq => {
                Some(super::chain::record_purge(
                    conn,
                    config,
                    earlier_purges,
                    &cutoff.to_rfc3339(),
                    (cut.from_anchor_seq, &cut.from_anchor_hash),
                    (cut.keep_from_seq, &cut.anchor_hash),
                )?)
            }
            _ => None,
        };
        Ok(PurgeReport {
            cutoff,
            dropped_partitions,
            deleted_events,
            deleted_contexts,
            chain,
            chain_entry,
            dry_run: options.dry_run,
        })
    })?;
    if report.chain_entry.is_some() {
        super::chain::seal(conn, config)?;
    }
    Ok(report)
}

/// SQL: whether the event `e` goes (`$1` is the cutoff).
fn purgeable(config: &AuditConfig, chain: Option<&ChainCut>) -> String {
    match chain {
        None => "e.changed_at < $1".to_owned(),
        Some(cut) => format!(
            "e.changed_at < $1 AND (e.id <= {after} OR EXISTS (
                 SELECT FROM {links} l WHERE l.txid = e.txid AND l.seq < {keep}))",
            after = cut.chained_after_id,
            keep = cut.keep_from_seq,
            links = ChainNames::new(config).chain_table(),
        ),
    }
}

/// The first link to keep: the first whose transaction started at or after the cutoff.
/// Every link before it started earlier, so all its events are older than the cutoff.
fn chain_cut(
    conn: &mut PgConnection,
    config: &AuditConfig,
    cutoff: DateTime<Utc>,
) -> Result<Option<ChainCut>, Error> {
    let names = ChainNames::new(config);
    let state = names.state_table();
    let links = names.chain_table();
    let exists = count(
        conn,
        &format!(
            "SELECT count(*) AS n FROM pg_class WHERE oid = to_regclass({}) AND $1 IS NOT NULL",
            quote::literal(&state)
        ),
        cutoff,
    )?;
    if exists == 0 {
        return Ok(None);
    }
    // Lock the head: no link is sealed while the chain is cut.
    let cut: ChainCut = diesel::sql_query(format!(
        "WITH head AS (SELECT * FROM {state} FOR UPDATE),
              first_kept AS (SELECT seq, prev_hash FROM {links}
                             WHERE started_at >= $1 ORDER BY seq LIMIT 1)
         SELECT COALESCE((SELECT seq FROM first_kept), head.last_seq + 1) AS keep_from_seq,
                COALESCE((SELECT prev_hash FROM first_kept), head.last_hash) AS anchor_hash,
                head.chained_after_id, head.anchor_seq AS from_anchor_seq,
                head.anchor_hash AS from_anchor_hash
         FROM head"
    ))
    .bind::<Timestamptz, _>(cutoff)
    .get_result(conn)?;
    Ok(Some(cut))
}

/// Removes the links before the cut and records the new anchor.
fn cut_chain(conn: &mut PgConnection, config: &AuditConfig, cut: &ChainCut) -> Result<(), Error> {
    diesel::sql_query(format!(
        "DELETE FROM {} WHERE seq < $1",
        ChainNames::new(config).chain_table()
    ))
    .bind::<BigInt, _>(cut.keep_from_seq)
    .execute(conn)?;
    diesel::sql_query(format!(
        "UPDATE {} SET anchor_seq = $1, anchor_hash = $2",
        ChainNames::new(config).state_table()
    ))
    .bind::<BigInt, _>(cut.keep_from_seq)
    .bind::<Text, _>(&cut.anchor_hash)
    .execute(conn)?;
    super::chain::redactions::forget_removed_events(conn, config)
}

/// `now() - older_than`, in UTC. Refuses an interval that is not in the past.
pub(crate) fn cutoff(conn: &mut PgConnection, older_than: &str) -> Result<DateTime<Utc>, Error> {
    let at: Instant = diesel::sql_query(
        "SELECT (now() AT TIME ZONE 'UTC' - $1::interval) AT TIME ZONE 'UTC' AS at",
    )
    .bind::<Text, _>(older_than)
    .get_result(conn)?;
    let now: Instant = diesel::sql_query("SELECT now() AS at").get_result(conn)?;
    if at.at >= now.at {
        return Err(Error::Refused(format!(
            "--older-than {older_than:?} is not a positive interval: it would purge everything up to {}",
            at.at
        )));
    }
    Ok(at.at)
}

fn count(conn: &mut PgConnection, sql: &str, cutoff: DateTime<Utc>) -> Result<i64, Error> {
    let count: Count = diesel::sql_query(sql)
        .bind::<Timestamptz, _>(cutoff)
        .get_result(conn)?;
    Ok(count.n)
}
