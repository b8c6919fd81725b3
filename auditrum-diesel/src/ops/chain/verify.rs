//! `verify-chain`: recompute every link twice — in PostgreSQL and in Rust — and report each
//! place the stored chain disagrees with the events.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use diesel::pg::PgRowByRowLoadingMode;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Nullable, Text};
use serde::Serialize;

use super::anchor::{self, PurgeEntry};
use super::canonical::{self, EventsHasher, EVENT_PAYLOAD_SQL};
use super::leaves::{self, Leaf};
use super::redactions::{self, RedactionSummary};
use super::{backdate, ChainNames, ChainTip};
use crate::{AuditConfig, Error};

/// One place where the chain is broken.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Break {
    /// The link's sequence number, when the break is at a link.
    pub seq: Option<i64>,
    /// The transaction concerned, when known.
    pub txid: Option<i64>,
    /// What is wrong, in words.
    pub problem: String,
    /// What the chain says.
    pub expected: String,
    /// What the data says.
    pub found: String,
    /// Which verification found it: `server` (PostgreSQL's sha256), `client` (Rust's sha2),
    /// or both.
    pub found_by: Vec<&'static str>,
}

/// The outcome of a verification.
#[derive(Debug, Clone, Serialize)]
pub struct ChainReport {
    /// Links checked.
    pub links: i64,
    /// Events covered by those links.
    pub chained_events: i64,
    /// Events written before the chain was enabled: not covered, not broken.
    pub unchained_before: i64,
    /// Events of transactions still running when the chain was sealed: linked by a later
    /// seal, not broken.
    pub unsealed: i64,
    /// The head as the chain state records it.
    pub tip: ChainTip,
    /// Whether PostgreSQL records commit timestamps (`track_commit_timestamp`), so that
    /// backdated transactions of their own were looked for too.
    pub commit_timestamps: bool,
    /// Values erased by `redact`, in force (listed by a sealed `REDACT` event, the marker
    /// in their place): verified through the digests kept in their place.
    pub redacted_values: i64,
    /// The `REDACT` events those values were erased by, with how many each.
    pub redactions: Vec<RedactionSummary>,
    /// Everything broken; empty when the chain verifies.
    pub breaks: Vec<Break>,
}

/// What to verify against, beyond the chain itself.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct VerifyOptions {
    /// Tips saved earlier (`chain-tip`, a witness file): each must be a prefix of today's
    /// chain, and its anchor and purges a prefix of today's.
    pub tips: Vec<ChainTip>,
    /// With commit timestamps on: a transaction whose events claim to have started longer
    /// than this before its commit is reported as backdated. Default: one hour.
    pub max_transaction_duration: Duration,
}

impl Default for VerifyOptions {
    fn default() -> Self {
        VerifyOptions {
            tips: Vec::new(),
            max_transaction_duration: Duration::from_secs(3600),
        }
    }
}

impl VerifyOptions {
    /// Also checks against these tips.
    pub fn with_tips(mut self, tips: impl IntoIterator<Item = ChainTip>) -> Self {
        self.tips.extend(tips);
        self
    }

    /// Sets the longest transaction duration believed (see the field).
    pub fn with_max_transaction_duration(mut self, duration: Duration) -> Self {
        self.max_transaction_duration = duration;
        self
    }
}

impl ChainReport {
    /// Whether the chain verifies.
    pub fn is_intact(&self) -> bool {
        self.breaks.is_empty()
    }
}

/// The state row.
#[derive(QueryableByName, Clone)]
struct State {
    #[diesel(sql_type = BigInt)]
    chained_after_id: i64,
    #[diesel(sql_type = BigInt)]
    sealed_below_txid: i64,
    #[diesel(sql_type = BigInt)]
    anchor_seq: i64,
    #[diesel(sql_type = Text)]
    anchor_hash: String,
    #[diesel(sql_type = BigInt)]
    last_seq: i64,
    #[diesel(sql_type = Text)]
    last_hash: String,
}

/// A sealed link, with what one side recomputed for it.
#[derive(QueryableByName, Clone)]
struct Link {
    #[diesel(sql_type = BigInt)]
    seq: i64,
    #[diesel(sql_type = BigInt)]
    txid: i64,
    #[diesel(sql_type = Nullable<BigInt>)]
    event_count: Option<i64>,
    #[diesel(sql_type = Nullable<Text>)]
    events_hash: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    prev_hash: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    link_hash: Option<String>,
    /// 1, 2, or 3 (version 1 re-hashed as 2 by a redaction).
    #[diesel(sql_type = diesel::sql_types::SmallInt)]
    payload_version: i16,
    /// Server side only: the recomputed count and events hash.
    #[diesel(sql_type = Nullable<BigInt>)]
    found_count: Option<i64>,
    #[diesel(sql_type = Nullable<Text>)]
    found_events_hash: Option<String>,
}

/// What one side recomputed: the events of a transaction.
struct Recomputed {
    count: i64,
    events_hash: String,
}

/// Seals what has committed, then verifies the chain of `config`'s audit log, server-side and
/// client-side; `expected_tip` (saved earlier with `chain-tip`) also catches a deleted tail
/// and a moved anchor. [`verify_with`] takes several tips and the backdating tolerance.
pub fn verify(
    conn: &mut PgConnection,
    config: &AuditConfig,
    expected_tip: Option<&ChainTip>,
) -> Result<ChainReport, Error> {
    let options = VerifyOptions::default().with_tips(expected_tip.cloned());
    verify_with(conn, config, &options)
}

/// [`verify`] against every tip of `options` (a witness file holds many).
#[tracing::instrument(name = "auditrum.chain.verify", skip_all, fields(audit_table = %config.qualified_table()), err)]
pub fn verify_with(
    conn: &mut PgConnection,
    config: &AuditConfig,
    options: &VerifyOptions,
) -> Result<ChainReport, Error> {
    let names = ChainNames::new(config);
    if let Err(refused) = require_enabled(conn, &names) {
        // A tip proves a chain existed: its tables being gone is a break, not a refusal.
        return match options.tips.iter().max_by_key(|t| t.seq) {
            Some(tip) => Ok(tables_gone(&names, tip)),
            None => Err(refused),
        };
    }
    require_upgraded(conn, &names)?;
    let has_state = count(
        conn,
        &format!("SELECT count(*) AS n FROM {}", names.state_table()),
    )? > 0;
    // On an audit replica the primary seals (see `replica`).
    let replicated = super::replica::subscription(conn, &names)?.is_some();
    if has_state && !replicated {
        super::seal(conn, config)?;
    }
    let expected_tip = &options.tips;
    // One snapshot for every query: writers may go on meanwhile.
    conn.build_transaction()
        .repeatable_read()
        .read_only()
        .run(|conn| {
            let mut breaks = BTreeMap::new();
            let state: Option<State> = diesel::sql_query(format!(
                "SELECT chained_after_id, sealed_below_txid, anchor_seq, anchor_hash, last_seq, last_hash FROM {}",
                names.state_table()
            ))
            .get_result(conn)
            .optional()?;
            let server = server_links(conn, config, &names)?;
            let client = client_recompute(conn, config, &names)?;
            let both = ["server", "client"];
            let entries = redactions::sealed(conn, config, &names)?;
            let rehashed = redactions::rehashed(&entries);
            let (redaction_breaks, redaction_summaries) =
                redactions::check(conn, config, &names, &entries)?;
            for side in both {
                record(&mut breaks, side, redaction_breaks.clone());
            }
            let (state, history) = match state {
                Some(state) => {
                    let history = anchor::history(conn, config, &names)?;
                    let found = anchor::check(
                        (state.anchor_seq, &state.anchor_hash),
                        &history,
                        expected_tip,
                    );
                    for side in both {
                        record(&mut breaks, side, found.clone());
                    }
                    (state, history)
                }
                None => {
                    let missing = Break {
                        seq: None,
                        txid: None,
                        problem: super::tip::missing_state(&names),
                        expected: "one state row (head and anchor)".to_owned(),
                        found: "none".to_owned(),
                        found_by: Vec::new(),
                    };
                    for side in both {
                        record(&mut breaks, side, vec![missing.clone()]);
                    }
                    (State::from_links(&server), Vec::new())
                }
            };
            let server_found: Vec<(Link, Recomputed)> = server
                .iter()
                .map(|l| {
                    let found = Recomputed {
                        count: l.found_count.unwrap_or(0),
                        events_hash: l
                            .found_events_hash
                            .clone()
                            .unwrap_or_else(|| EventsHasher::default().finish()),
                    };
                    (l.clone(), found)
                })
                .collect();
            record(
                &mut breaks,
                "server",
                check_links(&state, &server_found, expected_tip, &history, &rehashed),
            );
            let client_found: Vec<(Link, Recomputed)> = server
                .iter()
                .map(|l| {
                    let found = client.get(&l.txid).map_or_else(
                        || Recomputed {
                            count: 0,
                            events_hash: EventsHasher::default().finish(),
                        },
                        |(count, hash)| Recomputed {
                            count: *count,
                            events_hash: hash.clone(),
                        },
                    );
                    (l.clone(), found)
                })
                .collect();
            record(
                &mut breaks,
                "client",
                check_links(&state, &client_found, expected_tip, &history, &rehashed),
            );
            let strays = if has_state {
                unchained_after(conn, config, &names, &state)?
            } else {
                Vec::new() // the chain's start is unknown
            };
            let backdated = backdate::find(
                conn,
                config,
                &names,
                options.max_transaction_duration,
                !replicated,
            )?;
            for side in both {
                record(&mut breaks, side, strays.clone());
                record(&mut breaks, side, backdated.clone());
            }
            let unchained_before = count(
                conn,
                &format!(
                    "SELECT count(*) AS n FROM {} WHERE id <= {}",
                    config.qualified_table(),
                    state.chained_after_id
                ),
            )?;
            let unsealed = count(
                conn,
                &format!(
                    "SELECT count(*) AS n FROM {} e WHERE e.id > {} AND e.txid >= {}
                       AND NOT EXISTS (SELECT FROM {} l WHERE l.txid = e.txid)",
                    config.qualified_table(),
                    state.chained_after_id,
                    state.sealed_below_txid,
                    names.chain_table(),
                ),
            )?;
            Ok(ChainReport {
                unsealed,
                links: server.len() as i64,
                chained_events: server_found.iter().map(|(_, f)| f.count).sum(),
                unchained_before,
                tip: ChainTip {
                    seq: state.last_seq,
                    link_hash: state.last_hash.clone(),
                    sealed_at: None,
                    anchor_seq: Some(state.anchor_seq),
                    anchor_hash: Some(state.anchor_hash.clone()),
                    purges: history,
                },
                commit_timestamps: !replicated && backdate::commit_timestamps_on(conn)?,
                redacted_values: redaction_summaries.iter().map(|r| r.values).sum(),
                redactions: redaction_summaries,
                breaks: breaks.into_values().collect(),
            })
        })
}

impl State {
    /// Stands in for a deleted state row: the chain as its links say it is.
    fn from_links(links: &[Link]) -> State {
        let (anchor_seq, anchor_hash) = links.first().map_or_else(anchor::initial, |l| {
            (l.seq, l.prev_hash.clone().unwrap_or_default())
        });
        let (last_seq, last_hash) = links.last().map_or_else(
            || (anchor_seq - 1, anchor_hash.clone()),
            |l| (l.seq, l.link_hash.clone().unwrap_or_default()),
        );
        State {
            chained_after_id: 0,
            sealed_below_txid: 0,
            anchor_seq,
            anchor_hash,
            last_seq,
            last_hash,
        }
    }
}

/// The report when the chain's tables are gone although `tip` shows it existed.
fn tables_gone(names: &ChainNames, tip: &ChainTip) -> ChainReport {
    ChainReport {
        links: 0,
        chained_events: 0,
        unchained_before: 0,
        unsealed: 0,
        tip: ChainTip {
            seq: 0,
            link_hash: String::new(),
            sealed_at: None,
            anchor_seq: None,
            anchor_hash: None,
            purges: Vec::new(),
        },
        commit_timestamps: false,
        redacted_values: 0,
        redactions: Vec::new(),
        breaks: vec![Break {
            seq: None,
            txid: None,
            problem: format!(
                "the hash chain's tables ({}, {}) are gone (dropped), though an expected tip shows a chain of {} link(s)",
                names.chain_table(),
                names.state_table(),
                tip.seq
            ),
            expected: format!("{} {}", tip.seq, tip.link_hash),
            found: "no chain".to_owned(),
            found_by: vec!["server", "client"],
        }],
    }
}

/// Refuses when the chain was never enabled.
pub(crate) fn require_enabled(conn: &mut PgConnection, names: &ChainNames) -> Result<(), Error> {
    #[derive(QueryableByName)]
    struct Enabled {
        #[diesel(sql_type = Bool)]
        enabled: bool,
    }
    let enabled: Enabled =
        diesel::sql_query(format!("SELECT {} AS enabled", names.exists_sql())).get_result(conn)?;
    if !enabled.enabled {
        return Err(Error::Refused(
            "the hash chain is not enabled on this audit log: run `auditrum-diesel enable-hash-chain`".into(),
        ));
    }
    Ok(())
}

/// Refuses when the chain was enabled by a version before payload version 2: its tables
/// lack what verification and redaction read. Running `enable-hash-chain` again upgrades it.
pub(crate) fn require_upgraded(conn: &mut PgConnection, names: &ChainNames) -> Result<(), Error> {
    #[derive(QueryableByName)]
    struct Upgraded {
        #[diesel(sql_type = Bool)]
        upgraded: bool,
    }
    let upgraded: Upgraded = diesel::sql_query(format!(
        "SELECT to_regclass({}) IS NOT NULL AND EXISTS (
             SELECT FROM pg_attribute WHERE attrelid = to_regclass({}) AND attname = 'payload_version' AND NOT attisdropped) AS upgraded",
        crate::quote::literal(&names.redaction_table()),
        crate::quote::literal(&names.chain_table()),
    ))
    .get_result(conn)?;
    if !upgraded.upgraded {
        return Err(Error::Refused(
            "the hash chain was enabled by an older version of auditrum: run `auditrum-diesel enable-hash-chain` once to upgrade it (links sealed before keep verifying)".into(),
        ));
    }
    Ok(())
}

/// The sealed links in order, each with its events recomputed by PostgreSQL.
fn server_links(
    conn: &mut PgConnection,
    config: &AuditConfig,
    names: &ChainNames,
) -> Result<Vec<Link>, Error> {
    Ok(diesel::sql_query(format!(
        "WITH recomputed AS (
             SELECT e.txid, count(*) AS n, {events_hash} AS hash
             FROM {events} e JOIN {chain} l ON l.txid = e.txid
             LEFT JOIN {contexts} c ON c.id = e.context_id
             GROUP BY e.txid)
         SELECT l.seq, l.txid, l.event_count::bigint AS event_count, l.events_hash, l.prev_hash,
                l.link_hash, l.payload_version, rc.n AS found_count, rc.hash AS found_events_hash
         FROM {chain} l LEFT JOIN recomputed rc ON rc.txid = l.txid
         ORDER BY l.seq",
        events_hash = canonical::events_hash_of(&format!(
            "CASE WHEN l.payload_version = 1 THEN {EVENT_PAYLOAD_SQL} ELSE {} END",
            leaves::event_payload_sql(
                "l.seed",
                Some((&names.redaction_table(), &names.seed_table()))
            )
        )),
        events = config.qualified_table(),
        contexts = config.qualified_context_table(),
        chain = names.chain_table(),
    ))
    .load(conn)?)
}

/// Each chained transaction's events, hashed in Rust from payloads streamed row by row.
fn client_recompute(
    conn: &mut PgConnection,
    config: &AuditConfig,
    names: &ChainNames,
) -> Result<HashMap<i64, (i64, String)>, Error> {
    #[derive(QueryableByName)]
    struct Payload {
        #[diesel(sql_type = BigInt)]
        txid: i64,
        #[diesel(sql_type = BigInt)]
        id: i64,
        /// Version 1: the payload as PostgreSQL prints it.
        #[diesel(sql_type = Nullable<Text>)]
        v1: Option<String>,
        /// Version 2: the header, the leaves (JSON) and the seeds, hashed here.
        #[diesel(sql_type = Nullable<Text>)]
        header: Option<String>,
        #[diesel(sql_type = Nullable<Text>)]
        leaves: Option<String>,
        #[diesel(sql_type = Nullable<Text>)]
        event_seed: Option<String>,
        #[diesel(sql_type = Nullable<Text>)]
        link_seed: Option<String>,
    }
    let query = diesel::sql_query(format!(
        "SELECT e.txid, e.id,
                CASE WHEN l.payload_version = 1 THEN {EVENT_PAYLOAD_SQL} END AS v1,
                CASE WHEN l.payload_version <> 1 THEN {header} END AS header,
                CASE WHEN l.payload_version <> 1 THEN
                    (SELECT jsonb_agg(jsonb_build_object('path', p.path, 'value', p.value, 'salt', r.salt, 'digest', r.digest))
                     FROM {leaves} p LEFT JOIN {redaction} r ON r.event_id = e.id AND r.path = p.path)::text
                END AS leaves,
                (SELECT es.seed FROM {seeds} es WHERE es.event_id = e.id) AS event_seed,
                l.seed::text AS link_seed
         FROM {events} e JOIN {chain} l ON l.txid = e.txid
         LEFT JOIN {contexts} c ON c.id = e.context_id
         ORDER BY e.txid, e.id",
        header = leaves::HEADER_SQL,
        leaves = leaves::leaves_sql(),
        redaction = names.redaction_table(),
        seeds = names.seed_table(),
        events = config.qualified_table(),
        contexts = config.qualified_context_table(),
        chain = names.chain_table(),
    ));
    let mut done = HashMap::new();
    let mut current: Option<(i64, EventsHasher)> = None;
    for row in query.load_iter::<Payload, PgRowByRowLoadingMode>(conn)? {
        let row = row?;
        if current.as_ref().is_none_or(|(txid, _)| *txid != row.txid) {
            if let Some((txid, hasher)) = current.take() {
                done.insert(txid, (hasher.count, hasher.finish()));
            }
            current = Some((row.txid, EventsHasher::default()));
        }
        let payload = match (row.v1, row.header) {
            (Some(v1), _) => v1,
            (None, Some(header)) => {
                let mut leaves: Vec<Leaf> = row
                    .leaves
                    .as_deref()
                    .and_then(|l| serde_json::from_str(l).ok())
                    .unwrap_or_default();
                let seed = row
                    .event_seed
                    .or_else(|| row.link_seed.map(|s| leaves::event_seed(&s, row.id)));
                // No way to rebuild a leaf's digest: hash what cannot match.
                leaves::event_payload(&header, &mut leaves, seed.as_deref())
                    .unwrap_or_else(|| format!("{header}\nunverifiable"))
            }
            (None, None) => String::new(),
        };
        current.as_mut().expect("set above").1.add(&payload);
    }
    if let Some((txid, hasher)) = current {
        done.insert(txid, (hasher.count, hasher.finish()));
    }
    Ok(done)
}

/// Walks the links from the anchor and compares them with what one side recomputed.
fn check_links(
    state: &State,
    links: &[(Link, Recomputed)],
    expected_tips: &[ChainTip],
    history: &[PurgeEntry],
    rehashed: &HashMap<i64, (String, String)>,
) -> Vec<Break> {
    let mut breaks = Vec::new();
    let mut at = |link: Option<&Link>, problem: &str, expected: String, found: String| {
        breaks.push(Break {
            seq: link.map(|l| l.seq),
            txid: link.map(|l| l.txid),
            problem: problem.to_owned(),
            expected,
            found,
            found_by: Vec::new(),
        })
    };
    let (mut expected_seq, mut prev_hash) = anchor::start(
        (state.anchor_seq, &state.anchor_hash),
        history,
        links
            .first()
            .map(|(l, _)| (l.seq, l.prev_hash.as_deref().unwrap_or_default())),
    );
    for (link, found) in links {
        let l = Some(link);
        if link.seq != expected_seq {
            at(
                l,
                "link sequence number out of order (a link was deleted, inserted or re-numbered)",
                expected_seq.to_string(),
                link.seq.to_string(),
            );
        }
        let stored_prev = link.prev_hash.clone().unwrap_or_default();
        if stored_prev != prev_hash {
            at(
                l,
                "link does not point at the previous link's hash",
                prev_hash.clone(),
                stored_prev,
            );
        }
        let stored_count = link.event_count.unwrap_or(-1);
        if stored_count != found.count {
            at(
                l,
                "the transaction's number of events changed (an event was deleted or added)",
                stored_count.to_string(),
                found.count.to_string(),
            );
        }
        let mut stored_events = link.events_hash.clone().unwrap_or_default();
        if link.payload_version == 3 {
            // Re-hashed by a redaction: the link keeps its version 1 hash (its link hash
            // covers it); the sealed REDACT event holds both.
            match rehashed.get(&link.seq) {
                Some((v1, v2)) if *v1 == stored_events => stored_events = v2.clone(),
                Some((v1, _)) => at(
                    l,
                    "the link's events hash is not the one its redaction re-hashed (the link was edited)",
                    v1.clone(),
                    stored_events.clone(),
                ),
                None => at(
                    l,
                    "the link is marked re-hashed by a redaction, but no sealed REDACT event records it (a forged redaction)",
                    "a sealed REDACT event re-hashing the link".to_owned(),
                    "none".to_owned(),
                ),
            }
        }
        if stored_events != found.events_hash {
            at(l, "the transaction's events hash changed (an event or its context was edited, deleted, added or re-numbered)", stored_events, found.events_hash.clone());
        }
        let stored_link = link.link_hash.clone().unwrap_or_default();
        let recomputed = canonical::link_hash(
            link.prev_hash.as_deref().unwrap_or_default(),
            link.seq,
            link.txid,
            link.event_count.unwrap_or(-1),
            link.events_hash.as_deref().unwrap_or_default(),
        );
        if stored_link != recomputed {
            at(
                l,
                "the link's own hash does not match its fields (the link was edited)",
                stored_link.clone(),
                recomputed,
            );
        }
        expected_seq = link.seq + 1;
        prev_hash = stored_link;
    }
    let last = links.last().map(|(l, _)| l);
    let (last_seq, last_hash) = last
        .map_or((state.anchor_seq - 1, state.anchor_hash.clone()), |l| {
            (l.seq, l.link_hash.clone().unwrap_or_default())
        });
    if (last_seq, &last_hash) != (state.last_seq, &state.last_hash) {
        at(
            last,
            "the last link is not the chain head (the tail was deleted, or the head edited)",
            format!("{} {}", state.last_seq, state.last_hash),
            format!("{last_seq} {last_hash}"),
        );
    }
    for tip in expected_tips {
        let link = links.iter().map(|(l, _)| l).find(|l| l.seq == tip.seq);
        match link {
            // An empty chain's tip, or a link a recorded purge removed.
            None if tip.seq == 0 || anchor::purged(tip.seq, history) => {}
            None if tip.seq < state.anchor_seq => at(
                None,
                "the expected tip's link is gone, and no recorded purge removed it (links vanished before the anchor)",
                format!("{} {}", tip.seq, tip.link_hash),
                format!("anchor at {}, no purge recorded past link {}", state.anchor_seq, tip.seq),
            ),
            None => at(
                None,
                "the expected tip's link is gone (the tail was deleted)",
                format!("{} {}", tip.seq, tip.link_hash),
                "no such link".to_owned(),
            ),
            Some(l) if l.link_hash.as_deref() != Some(tip.link_hash.as_str()) => at(
                Some(l),
                "the expected tip's link was rewritten",
                tip.link_hash.clone(),
                l.link_hash.clone().unwrap_or_default(),
            ),
            Some(_) => {}
        }
    }
    breaks
}

/// Events written after the chain started, by a transaction that had ended by the last
/// seal, that belong to no link.
fn unchained_after(
    conn: &mut PgConnection,
    config: &AuditConfig,
    names: &ChainNames,
    state: &State,
) -> Result<Vec<Break>, Error> {
    #[derive(QueryableByName)]
    struct Stray {
        #[diesel(sql_type = BigInt)]
        id: i64,
        #[diesel(sql_type = BigInt)]
        txid: i64,
    }
    let strays: Vec<Stray> = diesel::sql_query(format!(
        "SELECT e.id, e.txid FROM {events} e
         WHERE e.id > $1 AND e.txid < $2 AND NOT EXISTS (SELECT FROM {chain} l WHERE l.txid = e.txid)
         ORDER BY e.id",
        events = config.qualified_table(),
        chain = names.chain_table(),
    ))
    .bind::<BigInt, _>(state.chained_after_id)
    .bind::<BigInt, _>(state.sealed_below_txid)
    .load(conn)?;
    Ok(strays
        .into_iter()
        .map(|s| Break {
            seq: None,
            txid: Some(s.txid),
            problem: format!(
                "event {} was written after the chain was enabled but belongs to no link",
                s.id
            ),
            expected: "a sealed link for its transaction".to_owned(),
            found: "none".to_owned(),
            found_by: Vec::new(),
        })
        .collect())
}

/// Merges one side's breaks into the report, noting which side found each.
fn record(breaks: &mut BTreeMap<String, Break>, side: &'static str, found: Vec<Break>) {
    for b in found {
        let key = format!(
            "{:?}|{:?}|{}|{}|{}",
            b.seq, b.txid, b.problem, b.expected, b.found
        );
        breaks.entry(key).or_insert(b).found_by.push(side);
    }
}

fn count(conn: &mut PgConnection, sql: &str) -> Result<i64, Error> {
    #[derive(QueryableByName)]
    struct N {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    Ok(diesel::sql_query(sql).get_result::<N>(conn)?.n)
}
