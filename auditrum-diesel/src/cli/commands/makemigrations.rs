//! `makemigrations`: Diesel migrations for the models linked into this binary.

use std::path::PathBuf;

use clap::Args;

use crate::migrations::Generator;

use crate::cli::{CliError, Context};

/// `makemigrations`.
#[derive(Debug, Args)]
pub struct Makemigrations {
    /// The migrations directory.
    #[arg(long, env = "MIGRATION_DIRECTORY", default_value = "migrations")]
    pub dir: PathBuf,
    /// Write every change into one migration `<version>_<NAME>` instead of one per table.
    #[arg(long)]
    pub name: Option<String>,
    /// Write nothing; list what is stale and exit 1 if anything is.
    #[arg(long)]
    pub check: bool,
    /// Allow removing every audited table when this binary links no model at all.
    #[arg(long)]
    pub allow_empty: bool,
}

pub(crate) fn run(args: Makemigrations, context: &Context) -> Result<(), CliError> {
    let mut generator =
        Generator::new(&args.dir, context.registry.clone()).config(context.config.clone());
    if let Some(name) = &args.name {
        generator = generator.name(name);
    }
    let plan = generator.plan()?;
    crate::plan::refuse_to_untrack_everything(&context.registry, plan.changes(), args.allow_empty)?;
    if args.check {
        println!("{plan}");
        return match plan.changes().len() {
            0 => Ok(()),
            n => Err(CliError::ProblemsFound(format!(
                "{n} audit migration(s) missing in {}: run `makemigrations`",
                args.dir.display()
            ))),
        };
    }
    let written = generator.generate(chrono::Utc::now())?;
    if written.is_empty() {
        println!("{plan}");
    }
    for path in written {
        println!("wrote {}", path.display());
    }
    Ok(())
}
