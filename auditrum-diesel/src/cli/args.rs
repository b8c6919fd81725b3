//! The command line, declared with clap: the top level and the options every subcommand
//! takes. Each subcommand declares its own arguments in its file of `cli/commands/`, shared
//! flags are in `cli/flags.rs`. Doc comments are the `--help` text.

use clap::{Args, Parser};

pub use super::commands::Command;
// The argument types' former paths, kept for one release (deprecated).
pub use super::commands::history::History;
pub use super::commands::track::{Storage, Track};
pub use super::commands::untrack::Untrack;
pub use super::flags::{DryRun, Format};

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
