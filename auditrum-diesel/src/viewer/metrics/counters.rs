//! Exact event counters (`auditrum_events_total{table,operation}`), kept by the serving
//! process: each scrape counts only the events committed since the previous scrape.
//!
//! **Which events are new.** Event ids are taken when a row is written, not when its
//! transaction commits: a long transaction can commit an event with a lower id after a
//! scrape has seen higher ones, so an id watermark would miss it. What a scrape can see is
//! exactly what its snapshot shows, so the counters remember the previous scrape's snapshot
//! (`xmax` and the transactions in progress then, `xip`): an event visible now was new
//! since then when its transaction was in progress then or started after it —
//! `txid = ANY(xip) OR txid >= xmax` — and is counted exactly once. That condition is an
//! index range scan on `<log> (txid)` (plus one probe per transaction in progress), so a
//! scrape costs what the new events cost, not the size of the log. The upper bound (the
//! current snapshot's `xmax`) keeps out rows claiming a transaction that has not started,
//! which only a hand-made row can.
//!
//! **The first scrape** counts nothing and starts every total at 0 (every tracked table ×
//! operation, so an alert on "no events" has a series to look at): counting the log from
//! its start would read every event once, which is the cost the counters exist to avoid.
//! That is Prometheus' counter semantics: a total starts at 0 when its process starts, and
//! `rate()` / `increase()` treat a restart as a reset.

use std::collections::BTreeMap;
use std::sync::Mutex;

use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Text};

use crate::viewer::base::table_name;
use crate::viewer::error::ViewError;
use crate::viewer::render::tracked_tables;
use crate::{AuditConfig, Operation};

/// Totals by `(table, operation)`: `table` as the viewer names it (`schema.table`, or the
/// table alone in `public`), `operation` as stored.
pub(crate) type Totals = BTreeMap<(String, String), u64>;

/// The counters of one serving process.
#[derive(Debug, Default)]
pub(crate) struct EventCounters {
    state: Mutex<Option<Counted>>,
}

/// What has been counted: up to which snapshot, and the totals.
#[derive(Debug)]
struct Counted {
    snapshot: Snapshot,
    totals: Totals,
}

/// The part of a snapshot that says which transactions it shows.
#[derive(Debug, Clone, QueryableByName)]
struct Snapshot {
    /// The first transaction id not started yet.
    #[diesel(sql_type = BigInt)]
    xmax: i64,
    /// The transactions in progress.
    #[diesel(sql_type = Array<BigInt>)]
    xip: Vec<i64>,
}

#[derive(QueryableByName)]
struct NewEvents {
    #[diesel(sql_type = Text)]
    table_schema: String,
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    operation: String,
    #[diesel(sql_type = BigInt)]
    events: i64,
}

impl EventCounters {
    /// Counts the events committed since the last call and returns the totals. Scrapes are
    /// serialized, so every event is counted once.
    pub(crate) fn scrape(
        &self,
        conn: &mut PgConnection,
        config: &AuditConfig,
    ) -> Result<Totals, ViewError> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        // One snapshot for both statements: what it shows is what gets counted.
        let (snapshot, new, tracked) =
            conn.build_transaction()
                .repeatable_read()
                .read_only()
                .run(|conn| {
                    let snapshot = current_snapshot(conn)?;
                    let new = match state.as_ref() {
                        Some(counted) => new_events(conn, config, &counted.snapshot, &snapshot)?,
                        None => Vec::new(),
                    };
                    let tracked = tracked_tables(conn, config)?;
                    Ok::<_, ViewError>((snapshot, new, tracked))
                })?;
        let counted = state.get_or_insert_with(|| Counted {
            snapshot: snapshot.clone(),
            totals: Totals::new(),
        });
        for (schema, table) in tracked {
            for operation in Operation::ALL {
                let key = (table_name(&schema, &table), operation.as_str().to_owned());
                counted.totals.entry(key).or_insert(0);
            }
        }
        for row in new {
            let key = (
                table_name(&row.table_schema, &row.table_name),
                row.operation,
            );
            *counted.totals.entry(key).or_insert(0) += row.events.unsigned_abs();
        }
        counted.snapshot = snapshot;
        Ok(counted.totals.clone())
    }
}

fn current_snapshot(conn: &mut PgConnection) -> QueryResult<Snapshot> {
    diesel::sql_query(
        "SELECT pg_snapshot_xmax(s)::text::bigint AS xmax,
                ARRAY(SELECT x::text::bigint FROM pg_snapshot_xip(s) x) AS xip
         FROM pg_current_snapshot() s",
    )
    .get_result(conn)
}

/// The statement each `/metrics` scrape runs to count the events committed since the
/// previous scrape, for `EXPLAIN` on your own log: `$1` is the previous snapshot's `xmax`,
/// `$2` the current one's, `$3` the transactions the previous snapshot saw in progress
/// (`bigint[]`). Its plan is an index scan of `<log> (txid)`.
pub fn new_events_query(config: &AuditConfig) -> String {
    format!(
        "SELECT table_schema, table_name, operation::text AS operation, count(*) AS events
         FROM {log}
         WHERE (txid >= $1 AND txid < $2) OR txid = ANY($3)
         GROUP BY 1, 2, 3",
        log = config.qualified_table()
    )
}

fn new_events(
    conn: &mut PgConnection,
    config: &AuditConfig,
    before: &Snapshot,
    now: &Snapshot,
) -> QueryResult<Vec<NewEvents>> {
    diesel::sql_query(new_events_query(config))
        .bind::<BigInt, _>(before.xmax)
        .bind::<BigInt, _>(now.xmax)
        .bind::<Array<BigInt>, _>(&before.xip)
        .load(conn)
}
