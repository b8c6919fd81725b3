//! Gone means gone: an `UPDATE` leaves the old row version (with the erased value) in the
//! table's file until the space is reused, and a plain `VACUUM` marks that space free
//! without overwriting it. `VACUUM (FULL, ANALYZE)` rewrites the relation into a new file,
//! rebuilds its indexes (which hold `record_id` and the context's `user_id`) and refreshes
//! its statistics (whose most common values may hold them too). It cannot run inside a
//! transaction, so it runs after the redaction commits.

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

/// Runs them, one at a time, outside any transaction.
pub(crate) fn run(conn: &mut PgConnection, statements: &[String]) -> Result<(), Error> {
    for statement in statements {
        conn.batch_execute(statement)?;
    }
    Ok(())
}
