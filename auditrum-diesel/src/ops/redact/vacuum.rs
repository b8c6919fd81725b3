//! Gone means gone: an `UPDATE` leaves the old row version (with the erased value) in the
//! table's file until the space is reused, and a plain `VACUUM` marks that space free
//! without overwriting it. `VACUUM (FULL, ANALYZE)` rewrites the relation into a new file,
//! rebuilds its indexes (which hold `record_id` and the context's `user_id`) and refreshes
//! its statistics (whose most common values may hold them too). It cannot run inside a
//! transaction, so it runs after the redaction commits.

use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Bool, Text};

use super::select::Leaf;
use crate::ops::chain::ChainNames;
use crate::{AuditConfig, Error};

/// The `VACUUM (FULL, ANALYZE)` statements for every relation the redaction changed: the
/// partitions of its events (with the contexts they carry), the context table (when it
/// erased keys of context rows) and, with the chain, the chain's tables (which held the
/// deleted seeds and salts); then the statistics catalog.
pub(crate) fn statements(
    conn: &mut PgConnection,
    config: &AuditConfig,
    names: &ChainNames,
    leaves: &[Leaf],
    chained: bool,
) -> Result<Vec<String>, Error> {
    #[derive(QueryableByName)]
    struct Relation {
        #[diesel(sql_type = Text)]
        name: String,
    }
    let events: Vec<i64> = leaves.iter().map(|l| l.event_id).collect();
    // regclass prints each name quoted where needed, qualified when off the search path.
    let partitions: Vec<Relation> = diesel::sql_query(format!(
        "SELECT DISTINCT e.tableoid::regclass::text AS name FROM {} e WHERE e.id = ANY($1) ORDER BY 1",
        config.qualified_table()
    ))
    .bind::<Array<BigInt>, _>(&events)
    .load(conn)?;
    let mut relations: Vec<String> = partitions.into_iter().map(|r| r.name).collect();
    // A context key erased on an event (core schema 3) is in the event's partition, listed
    // above; one erased in a context row, in the context table.
    if leaves
        .iter()
        .any(|l| l.path.starts_with("[\"context\"") && l.context_id.is_some())
    {
        relations.push(config.qualified_context_table());
    }
    if chained {
        relations.extend([
            names.chain_table(),
            names.seed_table(),
            names.redaction_table(),
        ]);
    }
    let mut statements: Vec<String> = relations
        .into_iter()
        .map(|r| format!("VACUUM (FULL, ANALYZE) {r}"))
        .collect();
    // Each ANALYZE above (and any autovacuum before the redaction) replaced statistics rows
    // whose most common values may hold the erased values (a context's `user_id`, through
    // its expression index); the replaced versions stay in pg_statistic's file until it is
    // rewritten. Only the database owner or a superuser may: PostgreSQL skips it with a
    // warning for anyone else (docs/personal-data.md).
    statements.push(STATISTICS.to_owned());
    Ok(statements)
}

/// The statement rewriting the statistics catalog (the last of [`statements`]).
const STATISTICS: &str = "VACUUM FULL pg_catalog.pg_statistic";

/// How long [`run`] waits for transactions older than the redaction (and again for those
/// older than its `ANALYZE`s).
const WAIT_FOR_OLDER: Duration = Duration::from_secs(30);

/// Whether a row version the redaction (transaction `$1`) deleted may still be visible to
/// some snapshot, so that `VACUUM FULL` would copy it into the new file:
/// - a transaction older than the redaction still runs, in *any* database of the cluster:
///   every snapshot taken meanwhile, `VACUUM FULL`'s own included, has it as its xmin;
/// - another session of this database holds a snapshot from before the redaction committed;
/// - a replication slot holds an xmin from before it.
///
/// The first test needs no privilege; the other two see other roles' sessions only for a
/// superuser or a member of `pg_read_all_stats`.
const OLDER_SNAPSHOTS: &str = "
    SELECT pg_snapshot_xmin(pg_current_snapshot()) <= $1::xid8
        OR EXISTS (SELECT FROM pg_stat_activity
                   WHERE datname = current_database() AND pid <> pg_backend_pid()
                     AND age(backend_xmin) >= age($1::xid8::xid))
        OR EXISTS (SELECT FROM pg_replication_slots
                   WHERE age(xmin) >= age($1::xid8::xid)) AS waiting";

/// Runs them, one at a time, outside any transaction, once no snapshot can see what the
/// redaction (transaction `redaction_xid`) erased ([`OLDER_SNAPSHOTS`]): `VACUUM FULL` keeps
/// the row versions such a snapshot may still see. The statistics catalog waits again, for
/// the snapshots older than the `ANALYZE`s that replaced its rows. Returns whether it could
/// wait for them all (if not, those row versions are kept: run the statements again once
/// they ended).
pub(crate) fn run(
    conn: &mut PgConnection,
    statements: &[String],
    redaction_xid: &str,
) -> Result<bool, Error> {
    let mut complete = wait_for_older(conn, redaction_xid)?;
    for statement in statements {
        if statement == STATISTICS {
            let analyzed = last_assigned_xid(conn)?;
            complete &= wait_for_older(conn, &analyzed)?;
        }
        conn.batch_execute(statement)?;
    }
    Ok(complete)
}

/// Waits (up to [`WAIT_FOR_OLDER`]) until no snapshot can see what transaction `xid`
/// deleted; returns whether none is left.
fn wait_for_older(conn: &mut PgConnection, xid: &str) -> Result<bool, Error> {
    #[derive(QueryableByName)]
    struct Older {
        #[diesel(sql_type = Bool)]
        waiting: bool,
    }
    let started = Instant::now();
    loop {
        let older: Older = diesel::sql_query(OLDER_SNAPSHOTS)
            .bind::<Text, _>(xid)
            .get_result(conn)?;
        if !older.waiting {
            return Ok(true);
        }
        if started.elapsed() > WAIT_FOR_OLDER {
            return Ok(false);
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The last transaction id assigned so far (the `ANALYZE`s' are at or below it), as `xid8`
/// text.
fn last_assigned_xid(conn: &mut PgConnection) -> Result<String, Error> {
    #[derive(QueryableByName)]
    struct Xid {
        #[diesel(sql_type = Text)]
        xid: String,
    }
    let xid: Xid = diesel::sql_query(
        "SELECT (pg_snapshot_xmax(pg_current_snapshot())::text::bigint - 1)::text AS xid",
    )
    .get_result(conn)?;
    Ok(xid.xid)
}

/// The id of the current (the redaction's) transaction, as `xid8` text.
pub(crate) fn transaction_id(conn: &mut PgConnection) -> Result<String, Error> {
    #[derive(QueryableByName)]
    struct Xid {
        #[diesel(sql_type = Text)]
        xid: String,
    }
    let xid: Xid =
        diesel::sql_query("SELECT pg_current_xact_id()::text AS xid").get_result(conn)?;
    Ok(xid.xid)
}
