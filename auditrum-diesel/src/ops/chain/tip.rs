//! `chain-tip`: the last link, to keep somewhere safe and compare with later.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text, Timestamptz};
use serde::{Deserialize, Serialize};

use super::ChainNames;
use crate::{AuditConfig, Error};

/// The head of the chain.
#[derive(Debug, Clone, PartialEq, Eq, QueryableByName, Serialize, Deserialize)]
pub struct ChainTip {
    /// Sequence number of the last link (0 when there is none yet).
    #[diesel(sql_type = BigInt)]
    pub seq: i64,
    /// Its hash.
    #[diesel(sql_type = Text)]
    pub link_hash: String,
    /// When it was sealed.
    #[diesel(sql_type = Nullable<Timestamptz>)]
    #[serde(default)]
    pub sealed_at: Option<DateTime<Utc>>,
}

/// Seals what has committed, then returns the tip; `Error::Refused` when the chain is not
/// enabled.
pub fn tip(conn: &mut PgConnection, config: &AuditConfig) -> Result<ChainTip, Error> {
    super::seal(conn, config)?;
    head(conn, config)
}

/// The head as it stands, without sealing first (read-only); `Error::Refused` when the
/// chain is not enabled.
pub fn head(conn: &mut PgConnection, config: &AuditConfig) -> Result<ChainTip, Error> {
    let names = ChainNames::new(config);
    super::verify::require_enabled(conn, &names)?;
    Ok(diesel::sql_query(format!(
        "SELECT s.last_seq AS seq, s.last_hash AS link_hash, l.sealed_at
         FROM {state} s LEFT JOIN {chain} l ON l.seq = s.last_seq",
        state = names.state_table(),
        chain = names.chain_table(),
    ))
    .get_result(conn)?)
}
