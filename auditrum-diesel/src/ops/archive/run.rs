//! `archive`: each whole month partition older than the cutoff to Parquet + manifest, then
//! (unless kept) the partition dropped and the chain cut — only after the files are synced
//! and read back.
//!
//! One transaction per partition holds a SHARE lock on it from the first row read to the
//! drop: nothing can change it in between, and a run killed at any point leaves the
//! partition in place (the transaction rolls back). A rerun then writes the month again
//! under the same file names, replacing what an interrupted run left: nothing is lost and
//! nothing duplicated. A month whose partition is gone was finished.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Text};
use serde::Serialize;

use super::error::ArchiveError;
use super::failpoint;
use super::layout;
use super::manifest::{self, ChainCut, FileEntry, Manifest, Ranges};
use super::parquet_file;
use super::progress::Progress;
use super::rows::{
    event_chain_columns_sql, ArchivedRow, ContextRow, EventRow, Kind, LinkRow, CONTEXT_COLUMNS_SQL,
    EVENT_COLUMNS_SQL, LINK_COLUMNS_SQL,
};
use super::store::Store;
use crate::ops::chain::{self, ChainNames};
use crate::ops::{partitions, purge};
use crate::quote;
use crate::AuditConfig;

/// What to archive.
#[derive(Debug, Clone)]
pub struct ArchiveOptions<'a> {
    /// A PostgreSQL interval (`'13 months'`): months whose partition ends before
    /// `now() - older_than` (UTC) are archived.
    pub older_than: &'a str,
    /// Where the files go.
    pub store: &'a Store,
    /// Only export: keep the partitions and the chain as they are.
    pub keep_partition: bool,
}

/// What an archive run did.
#[derive(Debug, Clone, Serialize)]
pub struct ArchiveReport {
    /// Partitions ending at or before this instant were archived.
    pub cutoff: DateTime<Utc>,
    /// The months archived, oldest first.
    pub months: Vec<Manifest>,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Archives every whole month partition older than the cutoff, oldest first.
#[tracing::instrument(name = "auditrum.archive", skip_all, fields(audit_table = %config.qualified_table(), older_than = options.older_than), err)]
pub fn archive(
    conn: &mut PgConnection,
    config: &AuditConfig,
    options: &ArchiveOptions,
) -> Result<ArchiveReport, ArchiveError> {
    let cutoff = purge::cutoff(conn, options.older_than)?;
    let chained = chain_enabled(conn, config)?;
    // On an audit replica the primary seals; only exporting leaves its chain alone.
    let replica = chained && chain::is_replica(conn, config)?;
    if replica && !options.keep_partition {
        chain::refuse_cut(conn, config, "archive without --keep-partition")?;
    }
    if chained && !replica {
        // Every ended transaction gets its link before its events leave.
        chain::seal(conn, config)?;
    }
    let mut months = Vec::new();
    for partition in partitions::list(conn, config)? {
        let (Some(from), Some(to)) = (partition.from, partition.to) else {
            continue; // DEFAULT
        };
        if to > cutoff {
            continue;
        }
        let month = from.format("%Y-%m").to_string();
        let manifest = conn.transaction(|conn| {
            archive_month(conn, config, options, chained, &partition.name, &month)
        })?;
        months.push(manifest);
    }
    if chained && !options.keep_partition && !months.is_empty() {
        // Seal the PURGE entries the cuts recorded, so they are chained before we return.
        chain::seal(conn, config)?;
    }
    Ok(ArchiveReport { cutoff, months })
}

/// Archives one partition inside the caller's transaction.
fn archive_month(
    conn: &mut PgConnection,
    config: &AuditConfig,
    options: &ArchiveOptions,
    chained: bool,
    partition: &str,
    month: &str,
) -> Result<Manifest, ArchiveError> {
    let store = options.store;
    let table = config.table();
    let qualified = quote::qualified(config.schema(), partition);
    diesel::sql_query(format!("LOCK TABLE {qualified} IN SHARE MODE")).execute(conn)?;
    store.remove_staged("table=")?;
    let total = count(conn, &format!("SELECT count(*) AS n FROM {qualified}"))?;
    let mut progress = Progress::start(partition, total as u64);

    let mut events = Ranges::default();
    let chain_names = ChainNames::new(config);
    let events_sql = format!(
        "SELECT {EVENT_COLUMNS_SQL}, {} FROM {qualified} e ORDER BY e.id",
        event_chain_columns_sql(chained.then_some(&chain_names))
    );
    let events_file = export::<EventRow>(conn, store, table, month, &events_sql, |row| {
        events.add(row.id, row.txid);
        progress.inc();
    })?;
    progress.finish();

    let mut contexts = Ranges::default();
    let contexts_sql = format!(
        "SELECT {CONTEXT_COLUMNS_SQL} FROM {ctx} c
         WHERE c.id IN (SELECT e.context_id FROM {qualified} e) ORDER BY c.id",
        ctx = config.qualified_context_table()
    );
    let contexts_file = export::<ContextRow>(conn, store, table, month, &contexts_sql, |row| {
        contexts.add(row.id, row.txid)
    })?;

    let mut files = vec![events_file, contexts_file];
    let mut cut = None;
    if chained {
        let mut links: Vec<(i64, String, String)> = Vec::new();
        let links_sql = format!(
            "SELECT {LINK_COLUMNS_SQL} FROM {chain} l
             WHERE l.txid IN (SELECT e.txid FROM {qualified} e) ORDER BY l.seq",
            chain = ChainNames::new(config).chain_table()
        );
        files.push(export::<LinkRow>(
            conn,
            store,
            table,
            month,
            &links_sql,
            |row: &LinkRow| links.push((row.seq, row.prev_hash.clone(), row.link_hash.clone())),
        )?);
        if let (Some(first), Some(last)) = (links.first(), links.last()) {
            cut = Some(ChainCut {
                first_seq: first.0,
                last_seq: last.0,
                anchor_before: first.1.clone(),
                anchor_after: last.2.clone(),
            });
        }
    }
    failpoint::hit("archive-after-files");

    let manifest = Manifest {
        format: manifest::FORMAT.to_owned(),
        audit_table: format!("{}.{}", config.schema(), table),
        partition: partition.to_owned(),
        month: month.to_owned(),
        archived_at: Utc::now().to_rfc3339(),
        drops_partition: !options.keep_partition,
        files,
        events,
        contexts,
        chain: cut,
    };
    let json = serde_json::to_vec_pretty(&manifest).expect("a manifest serializes");
    store.write_bytes(&layout::manifest_file(table, month), &json)?;
    read_back(store, &manifest)?;
    failpoint::hit("archive-after-manifest");

    if !options.keep_partition {
        drop_partition(conn, config, &qualified, &manifest)?;
        failpoint::hit("archive-before-commit");
    }
    tracing::info!(
        partition,
        events = manifest.events.rows,
        dropped = !options.keep_partition,
        "archived"
    );
    Ok(manifest)
}

/// Streams one query to its staged file, puts it in place and describes it.
fn export<R>(
    conn: &mut PgConnection,
    store: &Store,
    table: &str,
    month: &str,
    sql: &str,
    each: impl FnMut(&R),
) -> Result<FileEntry, ArchiveError>
where
    R: ArchivedRow + diesel::QueryableByName<diesel::pg::Pg> + 'static,
{
    let rel = layout::data_file(table, R::KIND, month);
    let staged = store.staging_path(&rel)?;
    let rows = parquet_file::write::<R>(conn, diesel::sql_query(sql), &staged, each)?;
    let (sha256, bytes) = parquet_file::sha256(&staged)?;
    store.commit(&rel, &staged)?;
    Ok(FileEntry {
        path: rel,
        kind: R::KIND,
        rows,
        bytes,
        sha256,
    })
}

/// Reads every file back from the store: same bytes (SHA-256), and every row decodes.
fn read_back(store: &Store, manifest: &Manifest) -> Result<(), ArchiveError> {
    for file in &manifest.files {
        let path = store
            .local_path(&file.path)?
            .ok_or_else(|| ArchiveError::ReadBack {
                path: file.path.clone(),
                what: "missing".into(),
            })?;
        let (sha256, _) = parquet_file::sha256(&path)?;
        if sha256 != file.sha256 {
            return Err(ArchiveError::ReadBack {
                path: file.path.clone(),
                what: "SHA-256".into(),
            });
        }
        let rows = match file.kind {
            Kind::Events => parquet_file::read::<EventRow>(&path, |_| Ok(()))?,
            Kind::Contexts => parquet_file::read::<ContextRow>(&path, |_| Ok(()))?,
            Kind::Chain => parquet_file::read::<LinkRow>(&path, |_| Ok(()))?,
        };
        if rows != file.rows {
            return Err(ArchiveError::ReadBack {
                path: file.path.clone(),
                what: format!("{rows} rows instead of {}", file.rows),
            });
        }
    }
    Ok(())
}

/// Drops the partition, the context rows only it pointed at, and the links archived with
/// it (moving the chain's anchor past them) — refusing when that would break the live chain.
fn drop_partition(
    conn: &mut PgConnection,
    config: &AuditConfig,
    qualified: &str,
    manifest: &Manifest,
) -> Result<(), ArchiveError> {
    let regclass = quote::literal(qualified);
    let events = config.qualified_table();
    // Earlier purges are read before the cut: their PURGE events may leave with it.
    let earlier_purges = if chain_enabled(conn, config)? {
        check_cut(conn, config, qualified, manifest)?;
        Some(chain::purge_history(conn, config).map_err(ArchiveError::Audit)?)
    } else {
        None
    };
    diesel::sql_query(format!(
        "DELETE FROM {ctx} c WHERE c.id IN (SELECT e.context_id FROM {qualified} e)
           AND NOT EXISTS (SELECT FROM {events} o WHERE o.txid = c.txid AND o.context_id = c.id
                           AND o.tableoid <> {regclass}::regclass)",
        ctx = config.qualified_context_table(),
    ))
    .execute(conn)?;
    diesel::sql_query(format!("DROP TABLE {qualified}")).execute(conn)?;
    if earlier_purges.is_some() {
        chain::redactions::forget_removed_events(conn, config).map_err(ArchiveError::Audit)?;
    }
    if let Some(cut) = &manifest.chain {
        let names = ChainNames::new(config);
        diesel::sql_query(format!(
            "DELETE FROM {} WHERE seq BETWEEN $1 AND $2",
            names.chain_table()
        ))
        .bind::<BigInt, _>(cut.first_seq)
        .bind::<BigInt, _>(cut.last_seq)
        .execute(conn)?;
        let moved = diesel::sql_query(format!(
            "UPDATE {} SET anchor_seq = $1, anchor_hash = $2 WHERE anchor_seq = $3",
            names.state_table()
        ))
        .bind::<BigInt, _>(cut.last_seq + 1)
        .bind::<Text, _>(&cut.anchor_after)
        .bind::<BigInt, _>(cut.first_seq)
        .execute(conn)?;
        if moved != 1 {
            return Err(ArchiveError::Refused(format!(
                "the chain's anchor moved while {qualified} was archived (a concurrent purge or archive?): rerun"
            )));
        }
        // The moved anchor is recorded as a chained PURGE entry, as `purge` does: a moved
        // anchor without one is a break for `verify-chain`.
        chain::record_purge(
            conn,
            config,
            earlier_purges.unwrap_or_default(),
            &format!("archived month {}", manifest.month),
            (cut.first_seq, &cut.anchor_before),
            (cut.last_seq + 1, &cut.anchor_after),
        )
        .map_err(ArchiveError::Audit)?;
    }
    Ok(())
}

/// The archived links must be the first links of the live chain, and hold no event outside
/// the partition; every event of the partition after the chain started must be sealed.
fn check_cut(
    conn: &mut PgConnection,
    config: &AuditConfig,
    qualified: &str,
    manifest: &Manifest,
) -> Result<(), ArchiveError> {
    let names = ChainNames::new(config);
    let state = names.state_table();
    let chain = names.chain_table();
    let unsealed = count(
        conn,
        &format!(
            "SELECT count(*) AS n FROM {qualified} e
             WHERE e.id > (SELECT chained_after_id FROM {state})
               AND NOT EXISTS (SELECT FROM {chain} l WHERE l.txid = e.txid)"
        ),
    )?;
    if unsealed > 0 {
        return Err(ArchiveError::Refused(format!(
            "{qualified} holds {unsealed} event(s) after the chain started that belong to no link \
             (not sealed yet, or written around the chain): run `auditrum-diesel verify-chain`, \
             or archive with --keep-partition"
        )));
    }
    let Some(cut) = &manifest.chain else {
        return Ok(());
    };
    let anchor = count(conn, &format!("SELECT anchor_seq AS n FROM {state}"))?;
    let links = count(
        conn,
        &format!(
            "SELECT count(*) AS n FROM {chain} WHERE seq BETWEEN {} AND {}",
            cut.first_seq, cut.last_seq
        ),
    )?;
    if cut.first_seq != anchor || links != cut.last_seq - cut.first_seq + 1 {
        return Err(ArchiveError::Refused(format!(
            "the links of {qualified} ({}..={}) are not the start of the live chain (it starts at \
             link {anchor}): archive older months first, or use --keep-partition",
            cut.first_seq, cut.last_seq
        )));
    }
    let outside = count(
        conn,
        &format!(
            "SELECT count(*) AS n FROM {chain} l JOIN {events} e ON e.txid = l.txid
             WHERE l.seq BETWEEN {first} AND {last} AND e.tableoid <> {regclass}::regclass",
            events = config.qualified_table(),
            first = cut.first_seq,
            last = cut.last_seq,
            regclass = quote::literal(qualified),
        ),
    )?;
    if outside > 0 {
        return Err(ArchiveError::Refused(format!(
            "links {}..={} also cover {outside} event(s) outside {qualified} (a transaction \
             that began in one month was linked after one of the next): archive the next month \
             with it, or use --keep-partition",
            cut.first_seq, cut.last_seq
        )));
    }
    Ok(())
}

/// Whether the hash chain is enabled.
pub(crate) fn chain_enabled(
    conn: &mut PgConnection,
    config: &AuditConfig,
) -> Result<bool, ArchiveError> {
    #[derive(QueryableByName)]
    struct Enabled {
        #[diesel(sql_type = Bool)]
        enabled: bool,
    }
    let sql = format!("SELECT {} AS enabled", ChainNames::new(config).exists_sql());
    Ok(diesel::sql_query(sql).get_result::<Enabled>(conn)?.enabled)
}

fn count(conn: &mut PgConnection, sql: &str) -> Result<i64, ArchiveError> {
    Ok(diesel::sql_query(sql).get_result::<Count>(conn)?.n)
}
