//! Loading a table's events for rebuilding rows, from a log of any name.

use diesel::prelude::*;
use diesel::sql_types::{Array, Text};

use super::replay;
use super::AuditEvent;
use crate::{AuditConfig, TrackSpec};

/// The columns of [`AuditEvent`], from the log aliased `e`.
pub(crate) const EVENT: &str =
    "e.id, e.changed_at, e.operation, e.table_schema, e.table_name, e.record_id, \
                     e.old_record_id, e.diff, e.old_data, e.new_data, e.meta, e.txid, e.context_id";

/// `SELECT <event> FROM <log> e WHERE <the table> AND <condition> ORDER BY <order>`.
pub(crate) fn events_sql(config: &AuditConfig, condition: &str, order: &str) -> String {
    format!(
        "SELECT {EVENT} FROM {log} e WHERE e.table_name = $1 AND e.table_schema = $2 AND {condition} ORDER BY {order}",
        log = config.qualified_table(),
    )
}

/// The table's TRUNCATE events, in id order.
pub(crate) fn truncates(
    conn: &mut PgConnection,
    config: &AuditConfig,
    spec: &TrackSpec,
) -> QueryResult<Vec<AuditEvent>> {
    diesel::sql_query(events_sql(
        config,
        "e.record_id IS NULL AND e.operation = 'TRUNCATE'",
        "e.id",
    ))
    .bind::<Text, _>(spec.table())
    .bind::<Text, _>(spec.schema())
    .load(conn)
}

/// The events under any of `keys` (as the key, or as the key an UPDATE moved away from),
/// in id order.
pub(crate) fn events_of_keys(
    conn: &mut PgConnection,
    config: &AuditConfig,
    spec: &TrackSpec,
    keys: &[String],
) -> QueryResult<Vec<AuditEvent>> {
    diesel::sql_query(events_sql(
        config,
        "(e.record_id = ANY($3) OR e.old_record_id = ANY($3))",
        "e.id",
    ))
    .bind::<Text, _>(spec.table())
    .bind::<Text, _>(spec.schema())
    .bind::<Array<Text>, _>(keys)
    .load(conn)
}

#[derive(QueryableByName)]
struct Key {
    #[diesel(sql_type = Text)]
    key: String,
}

/// `key` and every key linked to it by key changes, transitively.
pub(crate) fn key_closure(
    conn: &mut PgConnection,
    config: &AuditConfig,
    spec: &TrackSpec,
    key: &str,
) -> QueryResult<Vec<String>> {
    let sql = format!(
        "SELECT DISTINCT k AS key FROM {log} e, LATERAL (VALUES (e.record_id), (e.old_record_id)) v(k) \
         WHERE e.table_name = $1 AND e.table_schema = $2 AND e.old_record_id IS NOT NULL \
           AND (e.record_id = ANY($3) OR e.old_record_id = ANY($3))",
        log = config.qualified_table(),
    );
    let mut keys = vec![key.to_owned()];
    loop {
        let mut found: Vec<String> = diesel::sql_query(&sql)
            .bind::<Text, _>(spec.table())
            .bind::<Text, _>(spec.schema())
            .bind::<Array<Text>, _>(&keys)
            .load::<Key>(conn)?
            .into_iter()
            .map(|k| k.key)
            .collect();
        found.retain(|k| !keys.contains(k));
        if found.is_empty() {
            return Ok(keys);
        }
        keys.extend(found);
    }
}

/// Every key that took part in a key change of the table.
pub(crate) fn moved_keys(
    conn: &mut PgConnection,
    config: &AuditConfig,
    spec: &TrackSpec,
) -> QueryResult<Vec<String>> {
    let sql = format!(
        "SELECT DISTINCT k AS key FROM {log} e, LATERAL (VALUES (e.record_id), (e.old_record_id)) v(k) \
         WHERE e.table_name = $1 AND e.table_schema = $2 AND e.old_record_id IS NOT NULL",
        log = config.qualified_table(),
    );
    Ok(diesel::sql_query(sql)
        .bind::<Text, _>(spec.table())
        .bind::<Text, _>(spec.schema())
        .load::<Key>(conn)?
        .into_iter()
        .map(|k| k.key)
        .collect())
}

/// What [`each_lineage_batch`] hands a batch of lineages to.
pub(crate) type LineageBatch<'f, E> =
    dyn FnMut(&mut PgConnection, &[Vec<&AuditEvent>]) -> Result<(), E> + 'f;

/// How many events a table stream fetches at a time.
const BATCH: usize = 1000;

/// Hands `f` every lineage of `spec`'s table (a row's events in id order, across key
/// changes, with the table's TRUNCATEs merged in), a batch at a time: first the rows whose
/// key changed at some point (followed together, in memory), then every other row, its
/// events read through a cursor ordered by key, [`BATCH`] at a time, so memory does not
/// grow with the table. Run it inside a transaction (the cursor needs one).
pub(crate) fn each_lineage_batch<E: From<diesel::result::Error>>(
    conn: &mut PgConnection,
    config: &AuditConfig,
    spec: &TrackSpec,
    f: &mut LineageBatch<'_, E>,
) -> Result<(), E> {
    let truncates = truncates(conn, config, spec)?;
    let moved = moved_keys(conn, config, spec)?;
    if !moved.is_empty() {
        let events = events_of_keys(conn, config, spec, &moved)?;
        let merged = replay::with_truncates(&events, &truncates);
        for chunk in replay::lineages(&merged).chunks(BATCH) {
            f(conn, chunk)?;
        }
    }
    diesel::sql_query(format!(
        "DECLARE auditrum_lineages NO SCROLL CURSOR FOR {}",
        events_sql(
            config,
            "e.record_id IS NOT NULL AND NOT (e.record_id = ANY($3))",
            "e.record_id, e.id"
        )
    ))
    .bind::<Text, _>(spec.table())
    .bind::<Text, _>(spec.schema())
    .bind::<Array<Text>, _>(&moved)
    .execute(conn)?;
    let fetch = format!("FETCH FORWARD {BATCH} FROM auditrum_lineages");
    let mut pending: Vec<AuditEvent> = Vec::new();
    loop {
        let batch: Vec<AuditEvent> = diesel::sql_query(&fetch).load(conn)?;
        let done = batch.len() < BATCH;
        pending.extend(batch);
        // The last key may go on in the next batch: keep it back unless this was the end.
        let cut = match (done, pending.last()) {
            (true, _) | (_, None) => pending.len(),
            (false, Some(last)) => pending
                .iter()
                .rposition(|e| e.record_id != last.record_id)
                .map_or(0, |i| i + 1),
        };
        let rest = pending.split_off(cut);
        let lineages: Vec<Vec<&AuditEvent>> = pending
            .chunk_by(|a, b| a.record_id == b.record_id)
            .map(|events| replay::with_truncates(events, &truncates))
            .collect();
        f(conn, &lineages)?;
        drop(lineages);
        pending = rest;
        if done {
            break;
        }
    }
    diesel::sql_query("CLOSE auditrum_lineages").execute(conn)?;
    Ok(())
}
