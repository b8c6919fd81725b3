//! Flags several subcommands share.

use clap::{Args, ValueEnum};

/// `--dry-run`.
#[derive(Debug, Args)]
pub struct DryRun {
    /// Print the SQL instead of running it.
    #[arg(long)]
    pub dry_run: bool,
}

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// For people: one block per event.
    Text,
    /// For programs: a JSON array.
    Json,
}
