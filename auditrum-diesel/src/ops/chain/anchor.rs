//! The anchor: where verification starts, and the recorded purges that moved it.
//!
//! The first link points at 64 zeros. A purge removes whole links from the start of the chain
//! and moves the anchor (first kept link, the hash it points at) in the chain state; it also
//! writes a `PURGE` event into the log, which the next seal links like any event. That event
//! carries every earlier purge too, so the newest one alone is the whole history of the
//! anchor, even after later purges removed the older ones' links.
//!
//! Without a tip, verification checks that the state's anchor is where the last recorded
//! purge left it: moving the anchor by hand (after deleting the oldest links) is found. With a
//! tip saved earlier (`chain-tip`), it also checks that the tip's anchor and purges are a
//! prefix of today's history, and that a tip link that is gone was removed by a recorded
//! purge.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text};
use serde::{Deserialize, Serialize};

use super::verify::Break;
use super::{ChainNames, ChainTip};
use crate::{AuditConfig, Error};

/// The anchor of a chain no purge has cut: link 1 points at 64 zeros.
pub(crate) fn initial() -> (i64, String) {
    (1, "0".repeat(64))
}

/// A retention cut, as the `PURGE` event records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PurgeEntry {
    /// When the purge ran (its transaction's start, in the database's clock).
    pub at: String,
    /// The database role that ran it (`session_user`).
    pub by: String,
    /// Events older than this instant were removed.
    pub cutoff: String,
    /// The anchor before the cut: its sequence number…
    pub from_anchor_seq: i64,
    /// …and the hash the link at that sequence number pointed at.
    pub from_anchor_hash: String,
    /// The anchor after the cut: the first link kept…
    pub anchor_seq: i64,
    /// …and the hash it points at.
    pub anchor_hash: String,
    /// The `PURGE` event's id (absent in the entries it carries for earlier purges).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_id: Option<i64>,
}

impl PurgeEntry {
    /// The move it records: (from seq, from hash, to seq, to hash).
    fn cut(&self) -> (i64, &str, i64, &str) {
        (
            self.from_anchor_seq,
            &self.from_anchor_hash,
            self.anchor_seq,
            &self.anchor_hash,
        )
    }
}

/// The `new_data` of a `PURGE` event: this purge, and every earlier one.
#[derive(Debug, Serialize, Deserialize)]
struct PurgeRecord {
    #[serde(flatten)]
    entry: PurgeEntry,
    #[serde(default)]
    earlier: Vec<PurgeEntry>,
}

/// Every purge recorded in the chain, oldest first: the history the newest sealed `PURGE`
/// event of this audit log carries. Only sealed events count: an unsealed one could be forged.
pub(crate) fn history(
    conn: &mut PgConnection,
    config: &AuditConfig,
    names: &ChainNames,
) -> Result<Vec<PurgeEntry>, Error> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = BigInt)]
        id: i64,
        #[diesel(sql_type = Nullable<Text>)]
        data: Option<String>,
    }
    // `operation::text`: a log made before `PURGE` existed has no such enum value.
    let row: Option<Row> = diesel::sql_query(format!(
        "SELECT e.id, e.new_data::text AS data FROM {events} e
         WHERE e.operation::text = 'PURGE' AND e.table_schema = $1 AND e.table_name = $2
           AND EXISTS (SELECT FROM {chain} l WHERE l.txid = e.txid)
         ORDER BY e.id DESC LIMIT 1",
        events = config.qualified_table(),
        chain = names.chain_table(),
    ))
    .bind::<Text, _>(config.schema())
    .bind::<Text, _>(config.table())
    .get_result(conn)
    .optional()?;
    let Some(row) = row else {
        return Ok(Vec::new());
    };
    let record: PurgeRecord =
        serde_json::from_str(row.data.as_deref().unwrap_or("null")).map_err(|e| {
            Error::Refused(format!(
                "the PURGE event {} does not hold a purge record ({e})",
                row.id
            ))
        })?;
    let mut entries = record.earlier;
    entries.push(PurgeEntry {
        event_id: Some(row.id),
        ..record.entry
    });
    Ok(entries)
}

/// The recorded purges of `config`'s audit log (see [`history`]).
pub(crate) fn purge_history(
    conn: &mut PgConnection,
    config: &AuditConfig,
) -> Result<Vec<PurgeEntry>, Error> {
    history(conn, config, &ChainNames::new(config))
}

/// Writes the `PURGE` event of a cut in the purge's transaction and returns its entry; it
/// carries `earlier` (read before the cut, which may remove their events). The next seal
/// links it (`purge` seals right after committing).
pub(crate) fn record_purge(
    conn: &mut PgConnection,
    config: &AuditConfig,
    earlier: Vec<PurgeEntry>,
    cutoff: &str,
    from: (i64, &str),
    to: (i64, &str),
) -> Result<PurgeEntry, Error> {
    #[derive(QueryableByName)]
    struct Who {
        #[diesel(sql_type = Text)]
        at: String,
        #[diesel(sql_type = Text)]
        by: String,
    }
    let earlier = earlier
        .into_iter()
        .map(|e| PurgeEntry {
            event_id: None,
            ..e
        })
        .collect();
    let who: Who = diesel::sql_query(
        "SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') AS at, session_user::text AS by",
    )
    .get_result(conn)?;
    let record = PurgeRecord {
        entry: PurgeEntry {
            at: who.at,
            by: who.by,
            cutoff: cutoff.to_owned(),
            from_anchor_seq: from.0,
            from_anchor_hash: from.1.to_owned(),
            anchor_seq: to.0,
            anchor_hash: to.1.to_owned(),
            event_id: None,
        },
        earlier,
    };
    let data = serde_json::to_string(&record).expect("a purge record serializes");
    #[derive(QueryableByName)]
    struct Id {
        #[diesel(sql_type = BigInt)]
        id: i64,
    }
    let id: Id = diesel::sql_query(format!(
        "INSERT INTO {events} (operation, table_schema, table_name, new_data, txid, context_id)
         VALUES ('PURGE', $1, $2, $3::jsonb, txid_current(), {context}())
         RETURNING id",
        events = config.qualified_table(),
        context = config.object("_context_id"),
    ))
    .bind::<Text, _>(config.schema())
    .bind::<Text, _>(config.table())
    .bind::<Text, _>(data)
    .get_result(conn)?;
    Ok(PurgeEntry {
        event_id: Some(id.id),
        ..record.entry
    })
}

/// The anchors the chain went through: the initial one, then where each purge left it.
fn anchors(history: &[PurgeEntry]) -> Vec<(i64, String)> {
    std::iter::once(initial())
        .chain(
            history
                .iter()
                .map(|e| (e.anchor_seq, e.anchor_hash.clone())),
        )
        .collect()
}

/// Breaks of the anchor: moved without a recorded purge, purges that do not follow each
/// other, and (with tips) a tip's anchor or purges that today's history does not contain.
pub(crate) fn check(anchor: (i64, &str), history: &[PurgeEntry], tips: &[ChainTip]) -> Vec<Break> {
    let mut breaks = Vec::new();
    let mut at = |problem: String, expected: String, found: String| {
        breaks.push(Break {
            seq: None,
            txid: None,
            problem,
            expected,
            found,
            found_by: Vec::new(),
        })
    };
    let mut previous = initial();
    for entry in history {
        if (entry.from_anchor_seq, entry.from_anchor_hash.as_str())
            != (previous.0, previous.1.as_str())
        {
            at(
                format!(
                    "the recorded purge of {} does not start where the previous one left the anchor (a purge record was forged or lost)",
                    entry.at
                ),
                format!("{} {}", previous.0, previous.1),
                format!("{} {}", entry.from_anchor_seq, entry.from_anchor_hash),
            );
        }
        previous = (entry.anchor_seq, entry.anchor_hash.clone());
    }
    if (anchor.0, anchor.1) != (previous.0, previous.1.as_str()) {
        at(
            "the chain's anchor was moved without a recorded purge (its oldest links were deleted, or the chain state edited)".to_owned(),
            format!("{} {}", previous.0, previous.1),
            format!("{} {}", anchor.0, anchor.1),
        );
    }
    let went_through = anchors(history);
    for tip in tips {
        if let (Some(seq), Some(hash)) = (tip.anchor_seq, tip.anchor_hash.as_deref()) {
            if !went_through
                .iter()
                .any(|(s, h)| (*s, h.as_str()) == (seq, hash))
            {
                at(
                    format!(
                        "the anchor of the tip at link {} is not one the chain's recorded purges went through (the anchor was moved)",
                        tip.seq
                    ),
                    format!("{seq} {hash}"),
                    format!("today {} {}", anchor.0, anchor.1),
                );
            }
        }
        let known: Vec<_> = tip.purges.iter().map(PurgeEntry::cut).collect();
        let today: Vec<_> = history.iter().map(PurgeEntry::cut).collect();
        if !today.starts_with(&known) {
            at(
                format!(
                    "the tip at link {} knows {} purge(s) that today's purge history does not begin with (a purge record was removed or rewritten)",
                    tip.seq,
                    known.len()
                ),
                format!("{} purge(s) as recorded in the tip", known.len()),
                format!("{} purge(s) recorded today", today.len()),
            );
        }
    }
    breaks
}

/// Where the walk over the links starts: the state's anchor, or, when links from before it
/// are still there (an audit replica keeps what the primary purged), an earlier anchor the
/// recorded purges went through, if the first link present starts exactly there. Links
/// forged before a real anchor cannot pass: the first kept real link points at the hash of
/// the link before it.
pub(crate) fn start(
    anchor: (i64, &str),
    history: &[PurgeEntry],
    first_link: Option<(i64, &str)>,
) -> (i64, String) {
    match first_link {
        Some((seq, prev)) if seq < anchor.0 => anchors(history)
            .into_iter()
            .find(|(s, h)| (*s, h.as_str()) == (seq, prev))
            .unwrap_or_else(|| (anchor.0, anchor.1.to_owned())),
        _ => (anchor.0, anchor.1.to_owned()),
    }
}

/// Whether a recorded purge removed link `seq`: some purge moved the anchor past it.
pub(crate) fn purged(seq: i64, history: &[PurgeEntry]) -> bool {
    history.iter().any(|e| e.anchor_seq > seq)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn purge(from: (i64, &str), to: (i64, &str)) -> PurgeEntry {
        PurgeEntry {
            at: "2026-11-29T00:00:00Z".into(),
            by: "admin".into(),
            cutoff: "2026-11-01T00:00:00Z".into(),
            from_anchor_seq: from.0,
            from_anchor_hash: from.1.into(),
            anchor_seq: to.0,
            anchor_hash: to.1.into(),
            event_id: None,
        }
    }

    #[test]
    fn the_walk_starts_at_the_state_anchor_unless_earlier_links_start_at_a_recorded_one() {
        let zeros = "0".repeat(64);
        let history = [purge((1, &zeros), (40, "h39"))];
        // The primary: the purged links are gone, the first link is the anchor.
        assert_eq!(
            start((40, "h39"), &history, Some((40, "h39"))),
            (40, "h39".into())
        );
        // A replica keeping every link: the walk starts at link 1, the initial anchor.
        assert_eq!(
            start((40, "h39"), &history, Some((1, &zeros))),
            (1, zeros.clone())
        );
        // Links before the anchor that start nowhere recorded: the state's anchor stands,
        // and the walk reports them as out of order.
        assert_eq!(
            start((40, "h39"), &history, Some((7, "forged"))),
            (40, "h39".into())
        );
        // The chain's own start is always a valid one (an anchor moved by hand without a
        // purge is reported by `check`, not here).
        assert_eq!(
            start((40, "h39"), &[], Some((1, &zeros))),
            (1, zeros.clone())
        );
        assert_eq!(start((1, &zeros), &[], None), (1, zeros));
    }
}
