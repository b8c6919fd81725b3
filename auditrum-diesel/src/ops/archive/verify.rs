//! `verify-chain --archive`: the archive checked against its manifests (every file's
//! SHA-256, missing and extra files) and the chain recomputed from the Parquet rows, from the
//! first archived link up to the live chain's anchor.

use std::collections::{BTreeMap, HashMap, HashSet};

use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Text};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::error::ArchiveError;
use super::layout;
use super::manifest::{Manifest, FORMAT};
use super::parquet_file;
use super::payload::{event_payload, event_payload_v2};
use super::rows::{ContextRow, EventRow, Kind, LinkRow};
use super::run::chain_enabled;
use super::store::Store;
use crate::ops::chain::canonical::{link_hash, sha256_hex};
use crate::ops::chain::redactions;
use crate::ops::chain::ChainNames;
use crate::AuditConfig;

/// One problem found in the archive.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ArchiveBreak {
    /// The file, link or row concerned.
    pub at: String,
    /// What is wrong.
    pub problem: String,
}

/// The outcome of verifying an archive.
#[derive(Debug, Clone, Serialize)]
pub struct ArchiveCheck {
    /// Where the archive is.
    pub location: String,
    /// Months (manifests) read.
    pub months: usize,
    /// Files checked against their manifest.
    pub files: usize,
    /// Archived events read.
    pub events: i64,
    /// Archived links recomputed.
    pub links: i64,
    /// Everything wrong; empty when the archive verifies.
    pub breaks: Vec<ArchiveBreak>,
}

impl ArchiveCheck {
    /// Whether the archive verifies.
    pub fn is_intact(&self) -> bool {
        self.breaks.is_empty()
    }
}

/// The live chain's state, as far as the archive meets it.
#[derive(QueryableByName)]
struct LiveState {
    #[diesel(sql_type = BigInt)]
    chained_after_id: i64,
    #[diesel(sql_type = BigInt)]
    anchor_seq: i64,
    #[diesel(sql_type = Text)]
    anchor_hash: String,
}

/// Verifies the archive of `config`'s audit log in `store` against its manifests and the
/// live chain of `conn`.
#[tracing::instrument(name = "auditrum.archive.verify", skip_all, fields(archive = %store.describe()), err)]
pub fn verify_archive(
    conn: &mut PgConnection,
    config: &AuditConfig,
    store: &Store,
) -> Result<ArchiveCheck, ArchiveError> {
    let table = config.table();
    let mut check = ArchiveCheck {
        location: store.describe(),
        months: 0,
        files: 0,
        events: 0,
        links: 0,
        breaks: Vec::new(),
    };
    let manifests = read_manifests(store, table, &mut check)?;
    check.months = manifests.len();

    // Files: every listed one present with its hash; nothing else beside them.
    let mut good: Vec<(Kind, String)> = Vec::new();
    let mut listed = HashSet::new();
    for manifest in &manifests {
        for file in &manifest.files {
            listed.insert(file.path.clone());
            check.files += 1;
            match store.local_path(&file.path)? {
                None => check.breaks.push(at(
                    &file.path,
                    "missing file: the manifest lists it, the archive does not have it",
                )),
                Some(path) => {
                    let (sha256, _) = parquet_file::sha256(&path)?;
                    if sha256 != file.sha256 {
                        check.breaks.push(at(
                            &file.path,
                            &format!(
                                "changed file: SHA-256 {sha256}, the manifest says {}",
                                file.sha256
                            ),
                        ));
                    }
                    good.push((file.kind, file.path.clone()));
                }
            }
        }
    }
    let prefixes: Vec<String> = Kind::ALL
        .iter()
        .map(|k| format!("{}/", layout::table_dir(table, *k)))
        .collect();
    for rel in store.list()? {
        if prefixes.iter().any(|p| rel.starts_with(p)) && !listed.contains(&rel) {
            check
                .breaks
                .push(at(&rel, "extra file: in the archive but in no manifest"));
        }
    }

    // Rows: contexts first (events' payloads include them), then events, then links.
    let mut contexts: HashMap<i64, String> = HashMap::new();
    let mut by_txid: HashMap<i64, Vec<(i64, String)>> = HashMap::new();
    let mut event_txids: BTreeMap<i64, i64> = BTreeMap::new(); // event id → txid
    let mut links: Vec<LinkRow> = Vec::new();
    // Links first: the payload version of each transaction's events.
    for (kind, rel) in good.iter().filter(|(k, _)| *k == Kind::Chain) {
        read_file::<LinkRow>(store, *kind, rel, &mut check, |row| links.push(row))?;
    }
    let versions: HashMap<i64, i64> = links.iter().map(|l| (l.txid, l.payload_version)).collect();
    let mut redact_records: Vec<String> = Vec::new();
    for (kind, rel) in good.iter().filter(|(k, _)| *k == Kind::Contexts) {
        read_file::<ContextRow>(store, *kind, rel, &mut check, |row| {
            contexts.insert(row.id, row.context);
        })?;
    }
    let mut missing_contexts = Vec::new();
    for (kind, rel) in good.iter().filter(|(k, _)| *k == Kind::Events) {
        read_file::<EventRow>(store, *kind, rel, &mut check, |row| {
            // The event's own context, else its context row's.
            let context = match &row.context {
                Some(own) => Some(Ok(own.as_str())),
                None => row
                    .context_id
                    .map(|id| contexts.get(&id).map(String::as_str).ok_or(id)),
            };
            let context = match context {
                Some(Err(id)) => {
                    missing_contexts.push((row.id, id));
                    None
                }
                Some(Ok(text)) => Some(text),
                None => None,
            };
            let payload = match versions.get(&row.txid) {
                Some(1) | None => event_payload(&row, context),
                Some(_) => event_payload_v2(&row, context),
            };
            if row.operation == "REDACT" {
                redact_records.extend(row.new_data.clone());
            }
            let digest = sha256_hex(payload.as_bytes());
            by_txid.entry(row.txid).or_default().push((row.id, digest));
            if event_txids.insert(row.id, row.txid).is_some() {
                missing_contexts.push((row.id, -1));
            }
        })?;
    }
    for (event, context) in missing_contexts {
        let problem = if context < 0 {
            "duplicate row: the event is archived twice".to_owned()
        } else {
            format!("missing row: its context row {context} is not in the archive")
        };
        check.breaks.push(at(&format!("event {event}"), &problem));
    }
    check.events = event_txids.len() as i64;
    links.sort_by_key(|l| l.seq);
    check.links = links.len() as i64;

    if chain_enabled(conn, config)? {
        // Version 1 links re-hashed by a redaction: the version 2 hash its REDACT event
        // (archived, or still in the log) recorded.
        let names = ChainNames::new(config);
        let mut records = redactions::sealed(conn, config, &names)?;
        for (i, text) in redact_records.iter().enumerate() {
            if let Ok(record) = serde_json::from_str(text) {
                records.insert(-(i as i64) - 1, record);
            }
        }
        let rehashed = redactions::rehashed(&records);
        let events = ArchivedEvents {
            by_txid: &by_txid,
            event_txids: &event_txids,
            rehashed: &rehashed,
        };
        check_chain(conn, config, &manifests, &links, &events, &mut check)?;
    }
    Ok(check)
}

/// The manifests of `table`, oldest month first; unreadable ones are breaks.
fn read_manifests(
    store: &Store,
    table: &str,
    check: &mut ArchiveCheck,
) -> Result<Vec<Manifest>, ArchiveError> {
    let prefix = layout::manifest_prefix(table);
    let mut manifests = Vec::new();
    for rel in store.list()? {
        if !rel.starts_with(&prefix) || !rel.ends_with(".json") {
            continue;
        }
        let bytes = store.read_bytes(&rel)?.unwrap_or_default();
        match serde_json::from_slice::<Manifest>(&bytes) {
            Ok(m) if m.format == FORMAT => manifests.push(m),
            Ok(m) => check
                .breaks
                .push(at(&rel, &format!("unknown manifest format {:?}", m.format))),
            Err(e) => check
                .breaks
                .push(at(&rel, &format!("unreadable manifest: {e}"))),
        }
    }
    if manifests.is_empty() && check.breaks.is_empty() {
        return Err(ArchiveError::BadLocation(format!(
            "{}: no archive manifest of table {table} here (looked under {prefix})",
            store.describe()
        )));
    }
    manifests.sort_by(|a, b| a.month.cmp(&b.month));
    Ok(manifests)
}

/// Reads one file's rows; a file that does not decode is a break, not an error.
fn read_file<R: super::rows::ArchivedRow>(
    store: &Store,
    _kind: Kind,
    rel: &str,
    check: &mut ArchiveCheck,
    mut each: impl FnMut(R),
) -> Result<(), ArchiveError> {
    let Some(path) = store.local_path(rel)? else {
        return Ok(());
    };
    match parquet_file::read::<R>(&path, |row| {
        each(row);
        Ok(())
    }) {
        Ok(_) => Ok(()),
        Err(ArchiveError::Parquet { reason, .. }) => {
            check
                .breaks
                .push(at(rel, &format!("unreadable file: {reason}")));
            Ok(())
        }
        Err(e) => Err(e),
    }
}

/// What the archived events give the chain check.
struct ArchivedEvents<'a> {
    /// Each transaction's event digests.
    by_txid: &'a HashMap<i64, Vec<(i64, String)>>,
    /// Event id → transaction.
    event_txids: &'a BTreeMap<i64, i64>,
    /// Links re-hashed by a redaction: seq → (version 1 hash, version 2 hash).
    rehashed: &'a HashMap<i64, (String, String)>,
}

/// Recomputes the archived links from the archived events and joins them to the live chain.
fn check_chain(
    conn: &mut PgConnection,
    config: &AuditConfig,
    manifests: &[Manifest],
    links: &[LinkRow],
    events: &ArchivedEvents,
    check: &mut ArchiveCheck,
) -> Result<(), ArchiveError> {
    let ArchivedEvents {
        by_txid,
        event_txids,
        rehashed,
    } = events;
    let names = ChainNames::new(config);
    let state: LiveState = diesel::sql_query(format!(
        "SELECT chained_after_id, anchor_seq, anchor_hash FROM {}",
        names.state_table()
    ))
    .get_result(conn)?;
    // Links still in the live chain (months archived with --keep-partition).
    let live: HashMap<i64, String> = {
        #[derive(QueryableByName)]
        struct Live {
            #[diesel(sql_type = BigInt)]
            seq: i64,
            #[diesel(sql_type = Text)]
            link_hash: String,
        }
        let seqs: Vec<i64> = links
            .iter()
            .map(|l| l.seq)
            .filter(|s| *s >= state.anchor_seq)
            .collect();
        diesel::sql_query(format!(
            "SELECT seq, link_hash FROM {} WHERE seq = ANY($1)",
            names.chain_table()
        ))
        .bind::<Array<BigInt>, _>(&seqs)
        .load::<Live>(conn)?
        .into_iter()
        .map(|l| (l.seq, l.link_hash))
        .collect()
    };

    let start = manifests.iter().find_map(|m| m.chain.as_ref());
    let mut expected: Option<(i64, String)> = start.map(|c| (c.first_seq, c.anchor_before.clone()));
    let mut linked = HashSet::new();
    for link in links {
        let place = format!("link {} (transaction {})", link.seq, link.txid);
        if !linked.insert(link.txid) {
            check.breaks.push(at(
                &place,
                "duplicate link: the transaction is linked twice",
            ));
        }
        if let Some((seq, prev)) = &expected {
            if link.seq != *seq {
                check.breaks.push(at(&place, &format!("link sequence out of order: expected link {seq} (a link is missing or extra)")));
            }
            if link.prev_hash != *prev {
                check.breaks.push(at(
                    &place,
                    &format!("does not point at the previous link's hash {prev}"),
                ));
            }
        }
        let (count, events_hash) = recompute(by_txid.get(&link.txid));
        if count != link.event_count {
            check.breaks.push(at(
                &place,
                &format!(
                    "{count} archived event(s), the link says {} (a row was deleted or added)",
                    link.event_count
                ),
            ));
        }
        let expected_events = match (link.payload_version, rehashed.get(&link.seq)) {
            (3, Some((v1, v2))) if *v1 == link.events_hash => v2,
            _ => &link.events_hash,
        };
        if events_hash != *expected_events {
            check.breaks.push(at(
                &place,
                "the archived events' hash differs from the link's (a row was changed)",
            ));
        }
        let own = link_hash(
            &link.prev_hash,
            link.seq,
            link.txid,
            link.event_count,
            &link.events_hash,
        );
        if own != link.link_hash {
            check.breaks.push(at(
                &place,
                "the link's own hash does not match its fields (the link was edited)",
            ));
        }
        if let Some(live_hash) = live.get(&link.seq) {
            if *live_hash != link.link_hash {
                check
                    .breaks
                    .push(at(&place, "differs from the same link in the live chain"));
            }
        }
        expected = Some((link.seq + 1, link.link_hash.clone()));
    }
    // The archived chain must lead to the live chain's anchor.
    if let Some((next_seq, next_hash)) = expected {
        let joins = if next_seq <= state.anchor_seq {
            next_seq == state.anchor_seq && next_hash == state.anchor_hash
        } else {
            live.contains_key(&(next_seq - 1)) // overlaps the live chain: checked link by link
        };
        if !joins {
            check.breaks.push(at(
                "chain",
                &format!(
                    "the archived links end before link {next_seq} ({next_hash}), the live chain starts at link {} ({}): links are missing in between",
                    state.anchor_seq, state.anchor_hash
                ),
            ));
        }
    }
    // Every archived event after the chain started belongs to a link (archived or live).
    let strays: Vec<(i64, i64)> = event_txids
        .iter()
        .filter(|(id, txid)| **id > state.chained_after_id && !linked.contains(*txid))
        .map(|(id, txid)| (*id, *txid))
        .collect();
    if !strays.is_empty() {
        #[derive(QueryableByName)]
        struct Txid {
            #[diesel(sql_type = BigInt)]
            txid: i64,
        }
        let txids: Vec<i64> = strays.iter().map(|s| s.1).collect();
        let live_txids: HashSet<i64> = diesel::sql_query(format!(
            "SELECT txid FROM {} WHERE txid = ANY($1)",
            names.chain_table()
        ))
        .bind::<Array<BigInt>, _>(&txids)
        .load::<Txid>(conn)?
        .into_iter()
        .map(|t| t.txid)
        .collect();
        for (id, txid) in strays.into_iter().filter(|(_, t)| !live_txids.contains(t)) {
            check.breaks.push(at(
                &format!("event {id}"),
                &format!("extra row: its transaction {txid} belongs to no link"),
            ));
        }
    }
    Ok(())
}

/// The count and events hash of one transaction's archived events, in id order.
fn recompute(events: Option<&Vec<(i64, String)>>) -> (i64, String) {
    let mut events: Vec<&(i64, String)> = events.map(|v| v.iter().collect()).unwrap_or_default();
    events.sort_by_key(|(id, _)| *id);
    let mut hasher = Sha256::new();
    for (_, digest) in &events {
        hasher.update(digest.as_bytes());
        hasher.update(b"\n");
    }
    (events.len() as i64, hex::encode(hasher.finalize()))
}

fn at(place: &str, problem: &str) -> ArchiveBreak {
    ArchiveBreak {
        at: place.to_owned(),
        problem: problem.to_owned(),
    }
}
