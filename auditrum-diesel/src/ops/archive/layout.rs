//! The archive's layout: Hive-style directories that DuckDB, Spark, Trino, Athena and
//! ClickHouse read natively (`hive_partitioning`), one directory per table of the log and
//! per month, and the manifests beside them under `_manifests/` (engines skip paths
//! starting with `_` or `.`):
//!
//! ```text
//! DIR/table=auditlog/month=2025-01/part-0.parquet           events
//! DIR/table=auditlog_context/month=2025-01/part-0.parquet   their context rows
//! DIR/table=auditlog_chain/month=2025-01/part-0.parquet     the chain links covering them
//! DIR/_manifests/table=auditlog/month=2025-01.json          the manifest
//! ```
//!
//! `month=` is a partition key the engines turn into a column and prune on.

use super::rows::Kind;

/// The data file of `kind` for a month of the audit table `table`.
pub fn data_file(table: &str, kind: Kind, month: &str) -> String {
    format!("{}/month={month}/part-0.parquet", table_dir(table, kind))
}

/// `table=<table><suffix>`.
pub fn table_dir(table: &str, kind: Kind) -> String {
    format!("table={table}{}", kind.table_suffix())
}

/// The manifest of a month.
pub fn manifest_file(table: &str, month: &str) -> String {
    format!("{}/table={table}/month={month}.json", MANIFEST_DIR)
}

/// The directory of the manifests.
pub const MANIFEST_DIR: &str = "_manifests";

/// The manifests of the audit table `table`.
pub fn manifest_prefix(table: &str) -> String {
    format!("{MANIFEST_DIR}/table={table}/")
}
