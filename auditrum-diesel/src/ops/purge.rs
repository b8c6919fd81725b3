//! `purge`: retention. Deletes the events older than a cutoff (and the context rows no
//! event points at any more), optionally dropping whole monthly partitions instead of
//! deleting their rows. Never touches an event at or after the cutoff.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text, Timestamptz};
use serde::Serialize;

use super::partitions;
use crate::sql::quote;
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

/// Purges in one transaction.
pub fn purge(
    conn: &mut PgConnection,
    config: &AuditConfig,
    options: &PurgeOptions,
) -> Result<PurgeReport, Error> {
    conn.transaction(|conn| {
        let cutoff = cutoff(conn, options.older_than)?;
        let mut dropped_partitions = Vec::new();
        if options.drop_partitions {
            for partition in partitions::list(conn, config)? {
                if partition.is_default || partition.to.is_none_or(|to| to > cutoff) {
                    continue;
                }
                let name = quote::qualified(config.schema(), &partition.name);
                let rows = count(conn, &format!("SELECT count(*) AS n FROM {name} WHERE changed_at < $1"), cutoff)?;
                if !options.dry_run {
                    diesel::sql_query(format!("DROP TABLE {name}")).execute(conn)?;
                }
                dropped_partitions.push((partition.name, rows));
            }
        }
        let events = config.qualified_table();
        let contexts = config.qualified_context_table();
        let old_events = format!("FROM {events} WHERE changed_at < $1");
        let orphan_contexts = format!(
            "FROM {contexts} c WHERE c.created_at < $1
               AND NOT EXISTS (SELECT FROM {events} e WHERE e.txid = c.txid AND e.context_id = c.id)"
        );
        let (deleted_events, deleted_contexts) = if options.dry_run {
            let dropped: i64 = dropped_partitions.iter().map(|(_, rows)| rows).sum();
            let old = count(conn, &format!("SELECT count(*) AS n {old_events}"), cutoff)?;
            let orphans = count(
                conn,
                &format!(
                    "SELECT count(*) AS n FROM {contexts} c WHERE c.created_at < $1
                       AND NOT EXISTS (SELECT FROM {events} e WHERE e.txid = c.txid
                                       AND e.context_id = c.id AND e.changed_at >= $1)"
                ),
                cutoff,
            )?;
            (old - dropped, orphans)
        } else {
            let deleted = diesel::sql_query(format!("DELETE {old_events}"))
                .bind::<Timestamptz, _>(cutoff)
                .execute(conn)?;
            let orphans = diesel::sql_query(format!("DELETE {orphan_contexts}"))
                .bind::<Timestamptz, _>(cutoff)
                .execute(conn)?;
            (deleted as i64, orphans as i64)
        };
        Ok(PurgeReport {
            cutoff,
            dropped_partitions,
            deleted_events,
            deleted_contexts,
            dry_run: options.dry_run,
        })
    })
}

/// `now() - older_than`, in UTC. Refuses an interval that is not in the past.
fn cutoff(conn: &mut PgConnection, older_than: &str) -> Result<DateTime<Utc>, Error> {
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
