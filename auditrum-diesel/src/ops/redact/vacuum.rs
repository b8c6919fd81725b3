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
/// partitions of its events, the context table (when it erased context keys) and, with the
/// chain, the chain's tables (which held the deleted seeds and salts).
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
    if leaves.iter().any(|l| l.path.starts_with("[\"context\"")) {
        relations.push(config.qualified_context_table());
    }
    if chained {
        relations.extend([
            names.chain_table(),
            names.seed_table(),
            names.redaction_table(),
        ]);
    }
    Ok(relations
        .into_iter()
        .map(|r| format!("VACUUM (FULL, ANALYZE) {r}"))
        .collect())
}

/// How long [`run`] waits for transactions older than the redaction.
const WAIT_FOR_OLDER: Duration = Duration::from_secs(30);

/// Runs them, one at a time, outside any transaction, once no transaction of this database
/// that started before `since` (the redaction's commit) is still running: `VACUUM FULL`
/// keeps the row versions such a transaction may still see. Returns whether it could wait
/// for them all (if not, the old versions a running transaction can see are kept: run the
/// statements again once it ended).
pub(crate) fn run(
    conn: &mut PgConnection,
    statements: &[String],
    since: &str,
) -> Result<bool, Error> {
    #[derive(QueryableByName)]
    struct Older {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let started = Instant::now();
    let complete = loop {
        let older: Older = diesel::sql_query(
            "SELECT count(*) AS n FROM pg_stat_activity
             WHERE datname = current_database() AND pid <> pg_backend_pid()
               AND backend_xmin IS NOT NULL AND xact_start < $1::timestamptz",
        )
        .bind::<Text, _>(since)
        .get_result(conn)?;
        if older.n == 0 {
            break true;
        }
        if started.elapsed() > WAIT_FOR_OLDER {
            break false;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    for statement in statements {
        conn.batch_execute(statement)?;
    }
    Ok(complete)
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
