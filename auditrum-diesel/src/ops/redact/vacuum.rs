//! Gone means gone: an `UPDATE` leaves the old row version (with the erased value) in the
//! table's file until the space is reused, and a plain `VACUUM` marks that space free
//! without overwriting it. `VACUUM (FULL, ANALYZE)` rewrites the relation into a new file,
//! rebuilds its indexes (which hold `record_id` and the context's `user_id`) and refreshes
//! its statistics (whose most common values may hold them too). It cannot run inside a
//! transaction, so it runs after the redaction commits.

use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Text};

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

/// How long [`run`] waits for transactions older than the redaction (and again for those
/// older than its `ANALYZE`s).
const WAIT_FOR_OLDER: Duration = Duration::from_secs(30);

/// The statement rewriting the statistics catalog (the last of [`statements`]).
const STATISTICS: &str = "VACUUM FULL pg_catalog.pg_statistic";

/// Runs them, one at a time, outside any transaction, once no transaction of the server
/// that started before `since` (the redaction's commit) is still running: `VACUUM FULL`
/// keeps the row versions such a transaction may still see. Of the server, not only of
/// this database: `VACUUM FULL`'s own snapshot has the oldest transaction then running in
/// any database as its horizon, and keeps what that one might see. The statistics catalog
/// waits again, for the transactions older than the `ANALYZE`s that replaced its rows.
/// Returns whether it could wait for them all (if not, the old versions a running
/// transaction can see are kept: run the statements again once it ended).
pub(crate) fn run(
    conn: &mut PgConnection,
    statements: &[String],
    since: &str,
) -> Result<bool, Error> {
    let mut complete = wait_for_older(conn, since)?;
    for statement in statements {
        if statement == STATISTICS {
            let analyzed = now(conn)?;
            complete &= wait_for_older(conn, &analyzed)?;
        }
        conn.batch_execute(statement)?;
    }
    Ok(complete)
}

/// Waits (up to [`WAIT_FOR_OLDER`]) until no other transaction of the server that started
/// before `since` holds a snapshot or a transaction id; returns whether none is left.
fn wait_for_older(conn: &mut PgConnection, since: &str) -> Result<bool, Error> {
    #[derive(QueryableByName)]
    struct Older {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let started = Instant::now();
    loop {
        let older: Older = diesel::sql_query(
            "SELECT count(*) AS n FROM pg_stat_activity
             WHERE pid <> pg_backend_pid()
               AND (backend_xmin IS NOT NULL OR backend_xid IS NOT NULL)
               AND xact_start < $1::timestamptz",
        )
        .bind::<Text, _>(since)
        .get_result(conn)?;
        if older.n == 0 {
            return Ok(true);
        }
        if started.elapsed() > WAIT_FOR_OLDER {
            return Ok(false);
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The instant after which a transaction cannot see the erased values: now, once the
/// redaction committed.
pub(crate) fn now(conn: &mut PgConnection) -> Result<String, Error> {
    #[derive(QueryableByName)]
    struct Now {
        #[diesel(sql_type = Text)]
        now: String,
    }
    let now: Now = diesel::sql_query("SELECT clock_timestamp()::text AS now").get_result(conn)?;
    Ok(now.now)
}
