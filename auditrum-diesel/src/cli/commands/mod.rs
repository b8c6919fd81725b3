//! One file per subcommand.

pub(crate) mod add_partitions;
#[cfg(feature = "archive")]
pub(crate) mod archive;
pub(crate) mod as_of;
pub(crate) mod blame;
pub(crate) mod chain_tip;
pub(crate) mod enable_hash_chain;
pub(crate) mod harden;
pub(crate) mod history;
mod init_schema;
pub(crate) mod makemigrations;
pub(crate) mod purge;
pub(crate) mod redact;
pub(crate) mod revert;
pub(crate) mod seal_chain;
#[cfg(feature = "viewer")]
pub(crate) mod serve;
pub(crate) mod status;
pub(crate) mod sync;
pub(crate) mod track;
pub(crate) mod untrack;
pub(crate) mod verify_chain;
pub(crate) mod verify_history;

use clap::Subcommand;

use crate::cli::flags::DryRun;
use crate::cli::{CliError, Context};
use history::History;
use track::Track;
use untrack::Untrack;

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
    Makemigrations(makemigrations::Makemigrations),
    /// Install, replace and remove the linked models' triggers straight in the database
    /// (for apps without migration files), under an advisory lock.
    Sync(sync::Sync),
    /// Create monthly partitions ahead (for cron); moves early rows out of DEFAULT.
    AddPartitions(add_partitions::AddPartitions),
    /// Check the log: partitions ahead, rows in DEFAULT, trigger drift (exit 1 on a problem).
    Status(status::StatusArgs),
    /// Let the app role add and read events only; hand the log to an admin role.
    Harden(harden::Harden),
    /// Delete events older than a cutoff (or drop their partitions).
    Purge(purge::Purge),
    /// Erase recorded values on request (a record's, or a user's identifying context keys);
    /// the hash chain still verifies. Exit 1 when nothing matched.
    Redact(redact::Redact),
    /// Chain every new transaction's events with SHA-256 links (tamper evidence).
    EnableHashChain(enable_hash_chain::EnableHashChain),
    /// Recompute the hash chain (in PostgreSQL and in Rust); exit 1 on a broken link.
    VerifyChain(verify_chain::VerifyChain),
    /// Print the chain's head, anchor and purges as JSON, to keep for `verify-chain
    /// --expected-tip` (or append it to a witness file).
    ChainTip(chain_tip::ChainTipArgs),
    /// Link every transaction that has ended since the last seal (cron), or keep doing so
    /// within a second of each commit until SIGTERM (`--watch`).
    SealChain(seal_chain::SealChain),
    /// Serve the audit viewer (web pages and /metrics); loopback only unless --token.
    #[cfg(feature = "viewer")]
    Serve(serve::Serve),
    /// A row, or a whole table, as it was at an instant, rebuilt from the log (JSON).
    AsOf(as_of::AsOf),
    /// Who changed a record, when and why: one line per event, or one field's timeline.
    Blame(blame::Blame),
    /// Undo an event, a transaction or a request through the audited path (exit 1 on
    /// conflicts with later events).
    Revert(revert::Revert),
    /// Check each record's events chain and end in its live row; exit 1 on changes made
    /// while the triggers were off.
    VerifyHistory(verify_history::VerifyHistory),
    /// Move month partitions older than a cutoff to Parquet files with a manifest, then
    /// drop them (feature `archive`).
    #[cfg(feature = "archive")]
    Archive(archive::Archive),
}

/// Runs one subcommand.
pub(crate) fn run(command: Command, context: &Context) -> Result<(), CliError> {
    match command {
        Command::InitSchema(args) => init_schema::run(args, context),
        Command::Track(args) => track::run(args, context),
        Command::Untrack(args) => untrack::run(args, context),
        Command::History(args) => history::run(args, context),
        Command::Makemigrations(args) => makemigrations::run(args, context),
        Command::Sync(args) => sync::run(args, context),
        Command::AddPartitions(args) => add_partitions::run(args, context),
        Command::Status(args) => status::run(args, context),
        Command::Harden(args) => harden::run(args, context),
        Command::Purge(args) => purge::run(args, context),
        Command::Redact(args) => redact::run(args, context),
        Command::EnableHashChain(args) => enable_hash_chain::run(args, context),
        Command::VerifyChain(args) => verify_chain::run(args, context),
        Command::ChainTip(args) => chain_tip::run(args, context),
        Command::SealChain(args) => seal_chain::run(args, context),
        #[cfg(feature = "viewer")]
        Command::Serve(args) => serve::run(args, context),
        Command::AsOf(args) => as_of::run(args, context),
        Command::Blame(args) => blame::run(args, context),
        Command::Revert(args) => revert::run(args, context),
        Command::VerifyHistory(args) => verify_history::run(args, context),
        #[cfg(feature = "archive")]
        Command::Archive(args) => archive::run(args, context),
    }
}
