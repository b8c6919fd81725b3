//! `enable-hash-chain`: start chaining every new transaction's events.

use clap::Args;

use crate::cli::flags::DryRun;
use crate::cli::{CliError, Context};
use crate::ops::chain;

/// `enable-hash-chain`.
#[derive(Debug, Args)]
pub struct EnableHashChain {
    /// `--dry-run`.
    #[command(flatten)]
    pub dry_run: DryRun,
}

pub(crate) fn run(args: EnableHashChain, context: &Context) -> Result<(), CliError> {
    if args.dry_run.dry_run {
        println!("{}", chain::enable_sql(&context.config));
        return Ok(());
    }
    let mut conn = context.connect()?;
    chain::enable(&mut conn, &context.config)?;
    eprintln!(
        "hash chain enabled on {}: every transaction that writes events from now on gets a link",
        context.config.qualified_table()
    );
    Ok(())
}
