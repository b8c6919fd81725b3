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
    let plan = sync::plan(&mut conn, &context.registry, &context.config)?;
    super::makemigrations::refuse_to_untrack_everything(
        &context.registry,
        plan.changes(),
        args.allow_empty,
    )?;
    let report = if args.dry_run {
        plan
    } else {
        sync::sync(&mut conn, &context.registry, &context.config)?
    };
    println!("{report}");
    Ok(())
}
