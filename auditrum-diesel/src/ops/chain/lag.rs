//! The seal lag: how long the oldest committed transaction not sealed yet has waited. An
//! event is tamper-evident only once sealed, so this is the window in which a role that can
//! write the log could change it unnoticed.

use diesel::prelude::*;
use diesel::sql_types::{Double, Nullable};

use super::ChainNames;
use crate::{AuditConfig, Error};

/// Seconds since the oldest committed, unsealed transaction committed (since it started
/// when `track_commit_timestamp` is off: then an upper bound); `0.0` when every committed
/// transaction is sealed; `None` when the chain is not enabled or its state row is missing.
/// Read-only: it does not seal.
pub fn seal_lag(conn: &mut PgConnection, config: &AuditConfig) -> Result<Option<f64>, Error> {
    #[derive(QueryableByName)]
    struct Lag {
        #[diesel(sql_type = Nullable<Double>)]
        lag: Option<f64>,
    }
    let names = ChainNames::new(config);
    if super::verify::require_enabled(conn, &names).is_err() {
        return Ok(None);
    }
    // Events this statement sees are committed; those at or above the horizon of the last
    // seal that no link holds are the unsealed ones (found through the txid index).
    let lag: Option<Lag> = diesel::sql_query(format!(
        "SELECT COALESCE((
             SELECT extract(epoch FROM now() - min(COALESCE(
                      CASE WHEN current_setting('track_commit_timestamp') = 'on'
                           THEN pg_xact_commit_timestamp((e.txid % 4294967296)::text::xid) END,
                      e.changed_at)))::float8
             FROM {events} e
             WHERE e.txid >= s.sealed_below_txid AND e.id > s.chained_after_id
               AND NOT EXISTS (SELECT FROM {chain} l WHERE l.txid = e.txid)), 0) AS lag
         FROM {state} s",
        state = names.state_table(),
        chain = names.chain_table(),
        events = config.qualified_table(),
    ))
    .get_result(conn)
    .optional()?;
    Ok(lag.and_then(|l| l.lag).map(|l| l.max(0.0)))
}
