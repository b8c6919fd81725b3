//! `init-schema`: the audit table, partitions, context storage and registry.

use crate::{apply, core_schema_sql};

use crate::cli::flags::DryRun;
use crate::cli::{CliError, Context};

pub(super) fn run(args: DryRun, context: &Context) -> Result<(), CliError> {
    if args.dry_run {
        println!("{}", core_schema_sql(&context.config));
        return Ok(());
    }
    let mut conn = context.connect()?;
    apply::install_core_schema(&mut conn, &context.config)?;
    eprintln!("audit schema ready: {}", context.config.qualified_table());
    Ok(())
}
