//! The command line, declared with clap. Doc comments here are the `--help` text.

use clap::{Args, Parser, Subcommand, ValueEnum};

use super::commands;

/// Audit log for Diesel + PostgreSQL: install the schema and triggers, read a record's
/// history.
#[derive(Debug, Parser)]
#[command(name = "auditrum-diesel", version, about)]
pub struct Cli {
    /// Options of every subcommand.
    #[command(flatten)]
    pub global: Global,
    /// The subcommand.
    #[command(subcommand)]
    pub command: Command,
}

/// Options every subcommand takes.
#[derive(Debug, Args)]
pub struct Global {
    /// PostgreSQL URL of the database to work on.
    #[arg(long, env = "DATABASE_URL", global = true, hide_env_values = true)]
    pub database_url: Option<String>,
    /// The audit table, `table` or `schema.table`.
    #[arg(
        long,
        env = "AUDITRUM_TABLE",
        global = true,
        default_value = "auditlog"
    )]
    pub audit_table: String,
    /// The setting the triggers read the context from.
    #[arg(
        long,
        env = "AUDITRUM_CONTEXT_SETTING",
        global = true,
        default_value = "auditrum.context"
    )]
    pub context_setting: String,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create the audit table, its partitions, context storage and registry (re-runnable).
    InitSchema(DryRun),
    /// Install (or replace) the capture triggers of a table.
    Track(Track),
    /// Remove the capture triggers of a table; its recorded events stay.
    Untrack(Untrack),
    /// Print the events of one record, oldest first.
    History(History),
    /// Write Diesel migrations for the audited models linked into this binary: the core
    /// schema once, then one per table newly audited, changed or no longer audited.
    Makemigrations(commands::makemigrations::Makemigrations),
    /// Install, replace and remove the linked models' triggers straight in the database
    /// (for apps without migration files), under an advisory lock.
    Sync(commands::sync::Sync),
    /// Create monthly partitions ahead (for cron); moves early rows out of DEFAULT.
    AddPartitions(commands::add_partitions::AddPartitions),
    /// Check the log: partitions ahead, rows in DEFAULT, trigger drift (exit 1 on a problem).
    Status(commands::status::StatusArgs),
    /// Let the app role add and read events only; hand the log to an admin role.
    Harden(commands::harden::Harden),
    /// Delete events older than a cutoff (or drop their partitions).
    Purge(commands::purge::Purge),
    /// Chain every new transaction's events with SHA-256 links (tamper evidence).
    EnableHashChain(commands::enable_hash_chain::EnableHashChain),
    /// Recompute the hash chain (in PostgreSQL and in Rust); exit 1 on a broken link.
    VerifyChain(commands::verify_chain::VerifyChain),
    /// Print the chain's head as JSON, to keep for `verify-chain --expected-tip`.
    ChainTip,
    /// Link every transaction that has ended since the last seal (run it from cron).
    SealChain,
    /// Serve the audit viewer (web pages and /metrics); loopback only unless --token.
    #[cfg(feature = "viewer")]
    Serve(commands::serve::Serve),
    /// A row, or a whole table, as it was at an instant, rebuilt from the log (JSON).
    AsOf(commands::as_of::AsOf),
    /// Who changed a record, when and why: one line per event, or one field's timeline.
    Blame(commands::blame::Blame),
    /// Undo an event, a transaction or a request through the audited path (exit 1 on
    /// conflicts with later events).
    Revert(commands::revert::Revert),
    /// Check each record's events chain and end in its live row; exit 1 on changes made
    /// while the triggers were off.
    VerifyHistory(commands::verify_history::VerifyHistory),
    /// Move month partitions older than a cutoff to Parquet files with a manifest, then
    /// drop them (feature `archive`).
    #[cfg(feature = "archive")]
    Archive(commands::archive::Archive),
}

/// `--dry-run`.
#[derive(Debug, Args)]
pub struct DryRun {
    /// Print the SQL instead of running it.
    #[arg(long)]
    pub dry_run: bool,
}

/// `track`.
#[derive(Debug, Args)]
pub struct Track {
    /// The table, `table` or `schema.table`.
    pub table: String,
    /// Record changes of these columns only (comma-separated).
    #[arg(long, value_delimiter = ',', conflicts_with = "exclude")]
    pub track_only: Vec<String>,
    /// Record changes of every column but these (comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub exclude: Vec<String>,
    /// Record only rows for which this SQL condition holds; the row is named NEW.
    #[arg(long)]
    pub condition: Option<String>,
    /// Primary-key columns (comma-separated); read from the table when omitted.
    #[arg(long, value_delimiter = ',')]
    pub key: Vec<String>,
    /// Columns copied onto every event's `meta` (comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub meta: Vec<String>,
    /// How much of each row an event stores.
    #[arg(long, value_enum, default_value_t = Storage::Diff)]
    pub storage: Storage,
    /// `--dry-run`.
    #[command(flatten)]
    pub dry_run: DryRun,
}

/// Storage modes, as `TrackSpec` has them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Storage {
    /// UPDATE stores the diff only.
    Diff,
    /// UPDATE also stores the full old and new rows.
    Full,
}

/// `untrack`.
#[derive(Debug, Args)]
pub struct Untrack {
    /// The table, `table` or `schema.table`.
    pub table: String,
    /// `--dry-run`.
    #[command(flatten)]
    pub dry_run: DryRun,
}

/// `history`.
#[derive(Debug, Args)]
pub struct History {
    /// The table, `table` or `schema.table`.
    pub table: String,
    /// The record's key; a composite key as a JSON array, e.g. '[7, 1]'.
    pub key: String,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Also read the record's events archived by `archive` (a directory or
    /// `s3://bucket/prefix`).
    #[cfg(feature = "archive")]
    #[arg(long)]
    pub archive: Option<String>,
}

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// For people: one block per event.
    Text,
    /// For programs: a JSON array.
    Json,
}
