//! What a scrape reads from PostgreSQL's catalog and statistics.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Double, Float4, Nullable, Text, Timestamptz};

use crate::ops::chain::ChainNames;
use crate::ops::partitions::{self, Partition};
use crate::viewer::error::ViewError;
use crate::AuditConfig;

/// One column's statistics in one partition.
#[derive(QueryableByName)]
pub(super) struct ColumnStats {
    #[diesel(sql_type = Text)]
    pub column: String,
    #[diesel(sql_type = Double)]
    pub rows: f64,
    #[diesel(sql_type = Array<Text>)]
    pub values: Vec<String>,
    #[diesel(sql_type = Array<Float4>)]
    pub freqs: Vec<f32>,
    #[diesel(sql_type = Float4)]
    pub null_frac: f32,
}

#[derive(QueryableByName)]
pub(super) struct ChainState {
    #[diesel(sql_type = BigInt)]
    pub last_seq: i64,
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub sealed_at: Option<DateTime<Utc>>,
}

/// What a scrape reads.
pub(super) struct Reading {
    pub partitions: Vec<Partition>,
    pub stats: Vec<ColumnStats>,
    pub analyzed_rows: f64,
    pub chain: Option<ChainState>,
    pub tracked: i64,
}

pub(super) fn read(conn: &mut PgConnection, config: &AuditConfig) -> Result<Reading, ViewError> {
    let partitions = partitions::list(conn, config)?;
    // Non-DEFAULT partitions only: DEFAULT is counted exactly by `partitions::list`.
    let stats: Vec<ColumnStats> = diesel::sql_query(
        "SELECT s.attname::text AS column, c.reltuples::float8 AS rows,
                s.most_common_vals::text::text[] AS values, s.most_common_freqs AS freqs,
                s.null_frac
         FROM pg_inherits i
         JOIN pg_class c ON c.oid = i.inhrelid
         JOIN pg_namespace n ON n.oid = c.relnamespace
         JOIN pg_stats s ON s.schemaname = n.nspname AND s.tablename = c.relname
         WHERE i.inhparent = to_regclass($1)
           AND pg_get_expr(c.relpartbound, c.oid) <> 'DEFAULT'
           AND c.reltuples > 0
           AND s.attname IN ('table_name', 'operation')
           AND s.most_common_vals IS NOT NULL",
    )
    .bind::<Text, _>(config.qualified_table())
    .load(conn)?;
    #[derive(QueryableByName)]
    struct Rows {
        #[diesel(sql_type = Double)]
        rows: f64,
    }
    let analyzed_rows: Rows = diesel::sql_query(
        "SELECT COALESCE(sum(c.reltuples), 0)::float8 AS rows
         FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
         WHERE i.inhparent = to_regclass($1)
           AND pg_get_expr(c.relpartbound, c.oid) <> 'DEFAULT' AND c.reltuples > 0",
    )
    .bind::<Text, _>(config.qualified_table())
    .get_result(conn)?;
    let names = ChainNames::new(config);
    let state_table = names.state_table();
    #[derive(QueryableByName)]
    struct Exists {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        exists: bool,
    }
    let chain_enabled: Exists = diesel::sql_query("SELECT to_regclass($1) IS NOT NULL AS exists")
        .bind::<Text, _>(&state_table)
        .get_result(conn)?;
    // Read as it is: no sealing, so a scrape never writes.
    let chain = match chain_enabled.exists {
        false => None,
        true => Some(
            diesel::sql_query(format!(
                "SELECT s.last_seq, l.sealed_at FROM {state_table} s LEFT JOIN {chain} l ON l.seq = s.last_seq",
                chain = names.chain_table(),
            ))
            .get_result(conn)?,
        ),
    };
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        count: i64,
    }
    let tracked: Count = diesel::sql_query(format!(
        "SELECT count(*) AS count FROM {}",
        config.qualified_registry_table()
    ))
    .get_result(conn)?;
    Ok(Reading {
        partitions,
        stats,
        analyzed_rows: analyzed_rows.rows,
        chain,
        tracked: tracked.count,
    })
}
