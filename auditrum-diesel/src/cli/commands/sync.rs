//! `sync`: install, replace and remove the linked models' triggers straight in the database.

use clap::Args;

use crate::sync;

use crate::cli::{CliError, Context};

/// `sync`.
#[derive(Debug, Args)]
pub struct Sync {
    /// Print what would change; change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Allow removing every audited table when this binary links no model at all.
    #[arg(long)]
    pub allow_empty: bool,
}

pub(crate) fn run(args: Sync, context: &Context) -> Result<(), CliError> {
    let mut conn = context.connect()?;
    let options = sync::SyncOptions {
        dry_run: args.dry_run,
        allow_empty: args.allow_empty,
    };
    let report = sync::run(&mut conn, &context.registry, &context.config, options)?;
    println!("{report}");
    Ok(())
}
