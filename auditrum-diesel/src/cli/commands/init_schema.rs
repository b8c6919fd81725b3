//! `init-schema`: the audit table, partitions, context storage and registry; upgrades them
//! (and reinstalls the tracked tables' capture) when an older version installed them.

use crate::{core_schema_sql, sync};

use crate::cli::flags::DryRun;
use crate::cli::{CliError, Context};

pub(super) fn run(args: DryRun, context: &Context) -> Result<(), CliError> {
    if args.dry_run {
        println!("{}", core_schema_sql(&context.config));
        return Ok(());
    }
    let mut conn = context.connect()?;
    let report = sync::install_or_upgrade_core(&mut conn, &context.config)?;
    for change in report.changes() {
        eprintln!("{change}");
    }
    eprintln!("audit schema ready: {}", context.config.qualified_table());
    Ok(())
}
