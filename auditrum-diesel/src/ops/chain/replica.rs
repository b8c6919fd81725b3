//! A chain received by logical replication: an audit replica (docs/scaling.md).
//!
//! On a replica, the links, the events and the chain state arrive from the primary, which
//! seals. A link sealed here would take a sequence number the primary's next link also takes:
//! the subscription would stop on the duplicate key and the two chains would fork. So where
//! the chain table is a subscription's target, nothing seals: `seal-chain` refuses, and
//! `verify-chain` and `chain-tip` read the chain as it arrived. Commit timestamps there are
//! the replica's own, not the primary's, so the backdating check against them is skipped.

use diesel::prelude::*;
use diesel::sql_types::Text;

use super::ChainNames;
use crate::{AuditConfig, Error};

/// The subscription that fills this database's chain table, if one does.
pub(crate) fn subscription(
    conn: &mut PgConnection,
    names: &ChainNames,
) -> Result<Option<String>, Error> {
    #[derive(QueryableByName)]
    struct Subscription {
        #[diesel(sql_type = Text)]
        name: String,
    }
    let found: Option<Subscription> = diesel::sql_query(
        "SELECT s.subname::text AS name FROM pg_catalog.pg_subscription_rel r
         JOIN pg_catalog.pg_subscription s ON s.oid = r.srsubid
         WHERE r.srrelid = to_regclass($1) LIMIT 1",
    )
    .bind::<Text, _>(names.chain_table())
    .get_result(conn)
    .optional()?;
    Ok(found.map(|s| s.name))
}

/// `Error::Refused` when this database receives its chain from a primary.
pub(crate) fn refuse_sealing(conn: &mut PgConnection, names: &ChainNames) -> Result<(), Error> {
    match subscription(conn, names)? {
        Some(name) => Err(Error::Refused(format!(
            "{} is replicated into this database by the subscription {name:?}: the primary seals \
             the chain; sealing here would fork it. Run seal-chain on the primary",
            names.chain_table()
        ))),
        None => Ok(()),
    }
}

/// Whether `config`'s chain arrives by logical replication (an audit replica).
pub(crate) fn is_replica(conn: &mut PgConnection, config: &AuditConfig) -> Result<bool, Error> {
    Ok(subscription(conn, &ChainNames::new(config))?.is_some())
}

/// `Error::Refused` for `what` (a purge, an archive that drops) on an audit replica: cutting
/// the chain updates the state row the primary also updates.
pub(crate) fn refuse_cut(
    conn: &mut PgConnection,
    config: &AuditConfig,
    what: &str,
) -> Result<(), Error> {
    if is_replica(conn, config)? {
        return Err(Error::Refused(format!(
            "{what} would cut the hash chain of an audit replica (its chain state is replicated \
             from the primary): not supported; keep everything here, or archive with \
             --keep-partition"
        )));
    }
    Ok(())
}
