//! `chain-tip`: the last link, with the anchor and the purges so far, to keep somewhere safe
//! and compare with later.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text, Timestamptz};
use serde::{Deserialize, Serialize};

use super::anchor::{self, PurgeEntry};
use super::ChainNames;
use crate::{AuditConfig, Error};

/// The head of the chain, and where it starts.
///
/// Tips saved by earlier versions hold only `seq`, `link_hash` and `sealed_at`: they still
/// verify, without the anchor checks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainTip {
    /// Sequence number of the last link (0 when there is none yet).
    pub seq: i64,
    /// Its hash.
    pub link_hash: String,
    /// When it was sealed.
    #[serde(default)]
    pub sealed_at: Option<DateTime<Utc>>,
    /// The anchor: the first link verification starts from…
    #[serde(default)]
    pub anchor_seq: Option<i64>,
    /// …and the hash it points at (64 zeros until a purge cuts the chain).
    #[serde(default)]
    pub anchor_hash: Option<String>,
    /// The purges recorded so far, oldest first: each moved the anchor.
    #[serde(default)]
    pub purges: Vec<PurgeEntry>,
}

/// The state row as `head` reads it.
#[derive(QueryableByName)]
struct Head {
    #[diesel(sql_type = BigInt)]
    seq: i64,
    #[diesel(sql_type = Text)]
    link_hash: String,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    sealed_at: Option<DateTime<Utc>>,
    #[diesel(sql_type = BigInt)]
    anchor_seq: i64,
    #[diesel(sql_type = Text)]
    anchor_hash: String,
}

/// Seals what has committed (not on an audit replica: the primary seals), then returns the
/// tip; `Error::Refused` when the chain is not enabled or its state row is missing.
pub fn tip(conn: &mut PgConnection, config: &AuditConfig) -> Result<ChainTip, Error> {
    let names = ChainNames::new(config);
    super::verify::require_enabled(conn, &names)?;
    if super::replica::subscription(conn, &names)?.is_none() {
        super::seal(conn, config)?;
    }
    head(conn, config)
}

/// The head as it stands, without sealing first (read-only); `Error::Refused` when the
/// chain is not enabled or its state row is missing.
pub fn head(conn: &mut PgConnection, config: &AuditConfig) -> Result<ChainTip, Error> {
    let names = ChainNames::new(config);
    super::verify::require_enabled(conn, &names)?;
    let head: Option<Head> = diesel::sql_query(format!(
        "SELECT s.last_seq AS seq, s.last_hash AS link_hash, l.sealed_at, s.anchor_seq, s.anchor_hash
         FROM {state} s LEFT JOIN {chain} l ON l.seq = s.last_seq",
        state = names.state_table(),
        chain = names.chain_table(),
    ))
    .get_result(conn)
    .optional()?;
    let head = head.ok_or_else(|| Error::Refused(missing_state(&names)))?;
    Ok(ChainTip {
        seq: head.seq,
        link_hash: head.link_hash,
        sealed_at: head.sealed_at,
        anchor_seq: Some(head.anchor_seq),
        anchor_hash: Some(head.anchor_hash),
        purges: anchor::history(conn, config, &names)?,
    })
}

/// The message for a chain whose state row was deleted.
pub(crate) fn missing_state(names: &ChainNames) -> String {
    format!(
        "the hash chain's state row ({}) is missing: it was deleted, so the head and the anchor are unknown; restore it from a backup and run `auditrum-diesel verify-chain --expected-tip`",
        names.state_table()
    )
}

/// What is wrong with the chain's state, for `status`: `Some` when the chain is enabled but
/// its state row is missing.
pub(crate) fn state_problem(
    conn: &mut PgConnection,
    config: &AuditConfig,
) -> Result<Option<String>, Error> {
    match head(conn, config) {
        Ok(_) => Ok(None),
        Err(Error::Refused(_)) => {
            let names = ChainNames::new(config);
            if super::verify::require_enabled(conn, &names).is_ok() {
                Ok(Some(missing_state(&names)))
            } else {
                Ok(None) // not enabled
            }
        }
        Err(e) => Err(e),
    }
}
