//! `harden --app-role R [--admin-role A]`: the app role may add and read events only.

use clap::Args;

use crate::cli::flags::DryRun;
use crate::cli::{CliError, Context};
use crate::ops::harden;

/// `harden`.
#[derive(Debug, Args)]
pub struct Harden {
    /// The role the application connects as: it keeps SELECT on the log and writes events
    /// only through the triggers.
    #[arg(long)]
    pub app_role: String,
    /// The role that owns and maintains the log (partitions, purge); becomes the owner of
    /// its tables and functions.
    #[arg(long)]
    pub admin_role: Option<String>,
    /// `--dry-run`.
    #[command(flatten)]
    pub dry_run: DryRun,
}

pub(crate) fn run(args: Harden, context: &Context) -> Result<(), CliError> {
    let admin = args.admin_role.as_deref();
    if args.dry_run.dry_run {
        println!(
            "{}",
            harden::harden_sql(&context.config, &args.app_role, admin)
        );
        return Ok(());
    }
    let mut conn = context.connect()?;
    harden::harden(&mut conn, &context.config, &args.app_role, admin)?;
    eprintln!(
        "hardened {}: {} may read it and add events through the triggers only{}",
        context.config.qualified_table(),
        args.app_role,
        admin.map_or(String::new(), |a| format!("; {a} owns it"))
    );
    Ok(())
}
