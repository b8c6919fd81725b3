//! `untrack TABLE`: remove a table's capture triggers; its events stay in the log.

use crate::{apply, uninstall_sql, TableName};

use clap::Args;

use crate::cli::flags::DryRun;
use crate::cli::{CliError, Context};

/// `untrack`.
#[derive(Debug, Args)]
pub struct Untrack {
    /// The table, `table` or `schema.table`.
    pub table: String,
    /// `--dry-run`.
    #[command(flatten)]
    pub dry_run: DryRun,
}

pub(super) fn run(args: Untrack, context: &Context) -> Result<(), CliError> {
    let table = TableName::parse(&args.table)?;
    if args.dry_run.dry_run {
        println!("{}", uninstall_sql(&table, &context.config)?);
        return Ok(());
    }
    let mut conn = context.connect()?;
    apply::uninstall(&mut conn, &table, &context.config)?;
    eprintln!("no longer tracking {}", table.display_name());
    Ok(())
}
