//! Backdated events: an event whose `changed_at` cannot belong to its transaction.
//!
//! The seal links whatever committed, so a role that can insert into the log (admin,
//! superuser) can write an event claiming an earlier time before the next seal. What such a
//! role cannot set is what PostgreSQL stamps itself:
//!
//! - every event the triggers write, and the transaction's context row, carry `now()`, which
//!   is the same instant for a whole transaction. An event whose `changed_at` differs from
//!   its transaction's other events or from its context row's `created_at` (or that points
//!   at another transaction's context row) was not written by the triggers as it stands;
//! - with `track_commit_timestamp = on`, PostgreSQL records when each transaction
//!   committed. A transaction claiming to have started after its commit, or longer before it
//!   than any transaction runs (`max_transaction_duration`), was backdated.
//!
//! The first check needs nothing and catches a forged event mixed into a real transaction
//! or written with a context; a forger's transaction of its own with no context passes it.
//! The second catches that one too, but only with commit timestamps on (a server restart to
//! turn on), and only as far as the server keeps them.

use std::time::Duration;

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Double, Nullable, Timestamptz};

use super::verify::Break;
use super::ChainNames;
use crate::{AuditConfig, Error};

/// Events of chained transactions whose time disagrees with their transaction's;
/// `own_commits`: the transaction ids are this server's (not on an audit replica, whose
/// commit timestamps say nothing about the primary's transactions).
pub(crate) fn find(
    conn: &mut PgConnection,
    config: &AuditConfig,
    names: &ChainNames,
    max_transaction_duration: Duration,
    own_commits: bool,
) -> Result<Vec<Break>, Error> {
    let mut breaks = within_transactions(conn, config, names)?;
    if own_commits && commit_timestamps_on(conn)? {
        breaks.extend(against_commit(
            conn,
            config,
            names,
            max_transaction_duration,
        )?);
    }
    Ok(breaks)
}

/// Whether PostgreSQL records commit timestamps.
pub(crate) fn commit_timestamps_on(conn: &mut PgConnection) -> Result<bool, Error> {
    #[derive(QueryableByName)]
    struct On {
        #[diesel(sql_type = Bool)]
        on: bool,
    }
    let on: On = diesel::sql_query("SELECT current_setting('track_commit_timestamp') = 'on' AS on")
        .get_result(conn)?;
    Ok(on.on)
}

#[derive(QueryableByName)]
struct Odd {
    #[diesel(sql_type = BigInt)]
    seq: i64,
    #[diesel(sql_type = BigInt)]
    txid: i64,
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Timestamptz)]
    changed_at: DateTime<Utc>,
    #[diesel(sql_type = Timestamptz)]
    first_at: DateTime<Utc>,
    #[diesel(sql_type = Timestamptz)]
    last_at: DateTime<Utc>,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    context_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = Nullable<BigInt>)]
    context_txid: Option<i64>,
}

/// Events whose `changed_at` differs within their transaction or from their context row.
fn within_transactions(
    conn: &mut PgConnection,
    config: &AuditConfig,
    names: &ChainNames,
) -> Result<Vec<Break>, Error> {
    let odd: Vec<Odd> = diesel::sql_query(format!(
        "SELECT * FROM (
             SELECT l.seq, e.txid, e.id, e.changed_at,
                    min(e.changed_at) OVER w AS first_at, max(e.changed_at) OVER w AS last_at,
                    c.created_at AS context_at, c.txid AS context_txid
             FROM {chain} l JOIN {events} e ON e.txid = l.txid
             LEFT JOIN {contexts} c ON c.id = e.context_id
             WINDOW w AS (PARTITION BY e.txid)) x
         WHERE first_at <> last_at OR context_at <> changed_at OR context_txid <> txid
         ORDER BY seq, id",
        chain = names.chain_table(),
        events = config.qualified_table(),
        contexts = config.qualified_context_table(),
    ))
    .load(conn)?;
    Ok(odd
        .into_iter()
        .map(|o| {
            let (problem, expected) = if o.context_txid.is_some_and(|t| t != o.txid) {
                (
                    "points at the context row of another transaction (forged?)",
                    format!("a context row of transaction {}", o.txid),
                )
            } else if let Some(context_at) = o.context_at.filter(|at| *at != o.changed_at) {
                (
                    "has a changed_at that is not its transaction's start, which its context row records (backdated?)",
                    context_at.to_rfc3339(),
                )
            } else {
                (
                    "has a changed_at that differs from its transaction's other events (all carry the transaction's start; backdated?)",
                    if o.changed_at == o.first_at { o.last_at } else { o.first_at }.to_rfc3339(),
                )
            };
            Break {
                seq: Some(o.seq),
                txid: Some(o.txid),
                problem: format!("event {} {problem}", o.id),
                expected,
                found: o.changed_at.to_rfc3339(),
                found_by: Vec::new(),
            }
        })
        .collect())
}

/// Transactions whose claimed start is after their commit, or too long before it.
fn against_commit(
    conn: &mut PgConnection,
    config: &AuditConfig,
    names: &ChainNames,
    max_transaction_duration: Duration,
) -> Result<Vec<Break>, Error> {
    #[derive(QueryableByName)]
    struct Late {
        #[diesel(sql_type = BigInt)]
        seq: i64,
        #[diesel(sql_type = BigInt)]
        txid: i64,
        #[diesel(sql_type = Timestamptz)]
        started: DateTime<Utc>,
        #[diesel(sql_type = Timestamptz)]
        committed: DateTime<Utc>,
    }
    // `txid_status` is NULL once the transaction is too old for the commit log: then its
    // 32-bit xid may name another transaction, so it is not looked up.
    let late: Vec<Late> = diesel::sql_query(format!(
        "SELECT * FROM (
             SELECT l.seq, l.txid, min(e.changed_at) AS started,
                    pg_xact_commit_timestamp((l.txid % 4294967296)::text::xid) AS committed
             FROM {chain} l JOIN {events} e ON e.txid = l.txid
             WHERE txid_status(l.txid) = 'committed'
             GROUP BY l.seq, l.txid) x
         WHERE committed IS NOT NULL
           AND (committed < started OR committed - started > make_interval(secs => $1))
         ORDER BY seq",
        chain = names.chain_table(),
        events = config.qualified_table(),
    ))
    .bind::<Double, _>(max_transaction_duration.as_secs_f64())
    .load(conn)?;
    Ok(late
        .into_iter()
        .map(|l| {
            let problem = if l.committed < l.started {
                "the transaction's events claim to have started after it committed (forward-dated)".to_owned()
            } else {
                format!(
                    "the transaction's events claim to have started {} s before it committed, longer than --max-transaction-duration {} s (backdated?)",
                    (l.committed - l.started).num_seconds(),
                    max_transaction_duration.as_secs()
                )
            };
            Break {
                seq: Some(l.seq),
                txid: Some(l.txid),
                problem,
                expected: format!("started at most {} s before its commit at {}", max_transaction_duration.as_secs(), l.committed.to_rfc3339()),
                found: l.started.to_rfc3339(),
                found_by: Vec::new(),
            }
        })
        .collect())
}
