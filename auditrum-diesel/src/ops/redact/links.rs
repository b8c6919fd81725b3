//! Keeping the chain verifiable through a redaction: check each touched link, take its seed
//! out (keeping what the other values need), store the erased values' digests, and check
//! the link still hashes the same once the markers are in place.

use std::collections::{BTreeMap, BTreeSet};

use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Nullable, SmallInt, Text};

use super::select::Leaf;
use crate::ops::chain::redactions::{self, Rehash};
use crate::ops::chain::{canonical, leaves, ChainNames};
use crate::{AuditConfig, Error};

/// The touched links, prepared.
#[derive(Debug, Default)]
pub(crate) struct Prepared {
    /// Version 1 links re-hashed as version 2.
    pub rehashed: Vec<Rehash>,
    /// Each touched link's transaction and the events hash it must keep.
    pub expected: BTreeMap<i64, (i64, String)>,
}

#[derive(QueryableByName)]
struct Link {
    #[diesel(sql_type = BigInt)]
    seq: i64,
    #[diesel(sql_type = BigInt)]
    txid: i64,
    #[diesel(sql_type = SmallInt)]
    payload_version: i16,
    #[diesel(sql_type = Nullable<Text>)]
    seed: Option<String>,
    #[diesel(sql_type = Text)]
    events_hash: String,
}

#[derive(QueryableByName)]
struct Hash {
    #[diesel(sql_type = Nullable<Text>)]
    hash: Option<String>,
}

/// Checks every link the leaves belong to against its stored hash (a redaction must not
/// launder an edit), re-hashes version 1 links as version 2, and replaces each link's seed
/// by its events' seeds. Refuses events that belong to no link yet.
pub(crate) fn prepare(
    conn: &mut PgConnection,
    config: &AuditConfig,
    names: &ChainNames,
    leaves: &[Leaf],
) -> Result<Prepared, Error> {
    let txids: Vec<i64> = leaves
        .iter()
        .map(|l| l.txid)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let links: Vec<Link> = diesel::sql_query(format!(
        "SELECT seq, txid, payload_version, seed::text AS seed, events_hash FROM {} WHERE txid = ANY($1) ORDER BY seq",
        names.chain_table()
    ))
    .bind::<Array<BigInt>, _>(&txids)
    .load(conn)?;
    refuse_unsealed(conn, names, leaves, &links)?;
    let entries = redactions::sealed(conn, config, names)?;
    let rehashed = redactions::rehashed(&entries);
    let mut prepared = Prepared::default();
    for link in links {
        let not_verified = |found: &str, expected: &str| {
            Error::Refused(format!(
                "auditrum: link {} (transaction {}) does not verify (events hash {expected}, recomputed {found}): nothing was erased; run `auditrum-diesel verify-chain`",
                link.seq, link.txid
            ))
        };
        let (expected, seed) = match link.payload_version {
            1 => {
                let v1 = v1_hash(conn, config, link.txid)?;
                if v1 != link.events_hash {
                    return Err(not_verified(&v1, &link.events_hash));
                }
                #[derive(QueryableByName)]
                struct Seed {
                    #[diesel(sql_type = Text)]
                    seed: String,
                }
                let seed: Seed =
                    diesel::sql_query("SELECT gen_random_uuid()::text AS seed").get_result(conn)?;
                let v2 = v2_hash(conn, config, names, link.txid, Some(&seed.seed))?;
                prepared.rehashed.push(Rehash {
                    seq: link.seq,
                    v1_events_hash: link.events_hash.clone(),
                    v2_events_hash: v2.clone(),
                });
                diesel::sql_query(format!(
                    "UPDATE {} SET payload_version = 3 WHERE seq = $1",
                    names.chain_table()
                ))
                .bind::<BigInt, _>(link.seq)
                .execute(conn)?;
                (v2, Some(seed.seed))
            }
            version => {
                let expected = match (version, rehashed.get(&link.seq)) {
                    (2, _) => link.events_hash.clone(),
                    (_, Some((_, v2))) => v2.clone(),
                    (_, None) => {
                        return Err(not_verified(
                            "no sealed REDACT event re-hashing it",
                            "version 3",
                        ))
                    }
                };
                let found = v2_hash(conn, config, names, link.txid, link.seed.as_deref())?;
                if found != expected {
                    return Err(not_verified(&found, &expected));
                }
                (expected, link.seed.clone())
            }
        };
        if let Some(seed) = seed {
            keep_event_seeds(conn, config, names, link.txid, &seed)?;
        }
        prepared.expected.insert(link.seq, (link.txid, expected));
    }
    Ok(prepared)
}

/// Events after the chain's start that belong to no link: their transaction committed after
/// the seal this redaction ran; a redaction would leave them unverifiable.
fn refuse_unsealed(
    conn: &mut PgConnection,
    names: &ChainNames,
    leaves: &[Leaf],
    links: &[Link],
) -> Result<(), Error> {
    #[derive(QueryableByName)]
    struct After {
        #[diesel(sql_type = BigInt)]
        chained_after_id: i64,
    }
    let after: After = diesel::sql_query(format!(
        "SELECT chained_after_id FROM {}",
        names.state_table()
    ))
    .get_result(conn)?;
    let linked: BTreeSet<i64> = links.iter().map(|l| l.txid).collect();
    if let Some(leaf) = leaves
        .iter()
        .find(|l| l.event_id > after.chained_after_id && !linked.contains(&l.txid))
    {
        return Err(Error::Refused(format!(
            "auditrum: event {} belongs to no hash-chain link yet (its transaction committed a moment ago): nothing was erased; run `redact` again",
            leaf.event_id
        )));
    }
    Ok(())
}

/// The link's events hash, payload version 1.
fn v1_hash(conn: &mut PgConnection, config: &AuditConfig, txid: i64) -> Result<String, Error> {
    let hash: Hash = diesel::sql_query(format!(
        "SELECT {} AS hash FROM {} e LEFT JOIN {} c ON c.id = e.context_id WHERE e.txid = $1",
        canonical::events_hash_sql(),
        config.qualified_table(),
        config.qualified_context_table(),
    ))
    .bind::<BigInt, _>(txid)
    .get_result(conn)?;
    Ok(hash.hash.unwrap_or_default())
}

/// The link's events hash, payload version 2, from `seed` (the link's, when it still has
/// one) and the seeds, salts and digests stored.
pub(crate) fn v2_hash(
    conn: &mut PgConnection,
    config: &AuditConfig,
    names: &ChainNames,
    txid: i64,
    seed: Option<&str>,
) -> Result<String, Error> {
    let payload = leaves::event_payload_sql(
        "$2::uuid",
        Some((&names.redaction_table(), &names.seed_table())),
    );
    let hash: Hash = diesel::sql_query(format!(
        "SELECT {} AS hash FROM {} e LEFT JOIN {} c ON c.id = e.context_id WHERE e.txid = $1",
        canonical::events_hash_of(&payload),
        config.qualified_table(),
        config.qualified_context_table(),
    ))
    .bind::<BigInt, _>(txid)
    .bind::<Nullable<Text>, _>(seed)
    .get_result(conn)?;
    Ok(hash.hash.unwrap_or_default())
}

/// Replaces the link's seed by the seeds of its events, so that the seed of an event whose
/// values are erased can go alone.
fn keep_event_seeds(
    conn: &mut PgConnection,
    config: &AuditConfig,
    names: &ChainNames,
    txid: i64,
    seed: &str,
) -> Result<(), Error> {
    diesel::sql_query(format!(
        "INSERT INTO {seeds} (event_id, seed)
         SELECT e.id, encode(sha256(convert_to($2::uuid::text || '|' || e.id::text, 'UTF8')), 'hex')
         FROM {events} e WHERE e.txid = $1
           AND NOT EXISTS (SELECT FROM {seeds} s WHERE s.event_id = e.id)
           AND NOT EXISTS (SELECT FROM {redaction} r WHERE r.event_id = e.id)",
        seeds = names.seed_table(),
        events = config.qualified_table(),
        redaction = names.redaction_table(),
    ))
    .bind::<BigInt, _>(txid)
    .bind::<Text, _>(seed)
    .execute(conn)?;
    diesel::sql_query(format!(
        "UPDATE {} SET seed = NULL WHERE txid = $1",
        names.chain_table()
    ))
    .bind::<BigInt, _>(txid)
    .execute(conn)?;
    Ok(())
}

/// For each event with erased values: every value's salt (replacing the event's seed), then
/// each erased value's digest in place of its salt, naming the `REDACT` event.
pub(crate) fn store_digests(
    conn: &mut PgConnection,
    config: &AuditConfig,
    names: &ChainNames,
    prepared: &Prepared,
    erased: &[Leaf],
    entry_id: i64,
) -> Result<(), Error> {
    let chained: BTreeSet<i64> = prepared.expected.values().map(|(txid, _)| *txid).collect();
    let erased: Vec<&Leaf> = erased
        .iter()
        .filter(|l| chained.contains(&l.txid))
        .collect();
    let events: Vec<i64> = erased
        .iter()
        .map(|l| l.event_id)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    diesel::sql_query(format!(
        "INSERT INTO {redaction} (event_id, path, salt)
         SELECT e.id, p.path, encode(sha256(convert_to(es.seed || '|' || p.path, 'UTF8')), 'hex')
         FROM {events} e JOIN {seeds} es ON es.event_id = e.id
         LEFT JOIN {contexts} c ON c.id = e.context_id
         CROSS JOIN LATERAL {leaves} p
         WHERE e.id = ANY($1)",
        redaction = names.redaction_table(),
        seeds = names.seed_table(),
        events = config.qualified_table(),
        contexts = config.qualified_context_table(),
        leaves = leaves::leaves_sql(),
    ))
    .bind::<Array<BigInt>, _>(&events)
    .execute(conn)?;
    diesel::sql_query(format!(
        "DELETE FROM {} WHERE event_id = ANY($1)",
        names.seed_table()
    ))
    .bind::<Array<BigInt>, _>(&events)
    .execute(conn)?;
    for leaf in erased {
        let stored = diesel::sql_query(format!(
            "UPDATE {} SET digest = encode(sha256(convert_to(salt || '|' || path || '|' || $3, 'UTF8')), 'hex'),
                    salt = NULL, redaction_id = $4
             WHERE event_id = $1 AND path = $2 AND salt IS NOT NULL",
            names.redaction_table()
        ))
        .bind::<BigInt, _>(leaf.event_id)
        .bind::<Text, _>(&leaf.path)
        .bind::<Text, _>(&leaf.value)
        .bind::<BigInt, _>(entry_id)
        .execute(conn)?;
        if stored != 1 {
            return Err(Error::Refused(format!(
                "auditrum: no salt for value {} of event {}: nothing was erased; run `auditrum-diesel verify-chain`",
                leaf.path, leaf.event_id
            )));
        }
    }
    Ok(())
}

/// With the markers in place, every touched link must still hash as before.
pub(crate) fn check_unchanged(
    conn: &mut PgConnection,
    config: &AuditConfig,
    names: &ChainNames,
    prepared: &Prepared,
) -> Result<(), Error> {
    for (seq, (txid, expected)) in &prepared.expected {
        let found = v2_hash(conn, config, names, *txid, None)?;
        if &found != expected {
            return Err(Error::Refused(format!(
                "auditrum: after erasing, link {seq} would hash {found} instead of {expected}: nothing was erased (please report this)"
            )));
        }
    }
    Ok(())
}
