//! `track TABLE`: install (or replace) a table's capture triggers.

use crate::{apply, install_sql, introspect, StorageMode, TrackSpec, TrackSpecBuilder};

use clap::{Args, ValueEnum};

use crate::cli::flags::DryRun;
use crate::cli::{CliError, Context};

/// `track`.
#[derive(Debug, Args)]
pub struct Track {
    /// The table, `table` or `schema.table`.
    pub table: String,
    /// Record changes of these columns only (comma-separated).
    #[arg(long, value_delimiter = ',', conflicts_with = "exclude")]
    pub track_only: Vec<String>,
    /// Record changes of every column but these (comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub exclude: Vec<String>,
    /// Record only rows for which this SQL condition holds; the row is named NEW.
    #[arg(long)]
    pub condition: Option<String>,
    /// Primary-key columns (comma-separated); read from the table when omitted.
    #[arg(long, value_delimiter = ',')]
    pub key: Vec<String>,
    /// Columns copied onto every event's `meta` (comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub meta: Vec<String>,
    /// Record only *that* these columns changed, never their values (comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub mask: Vec<String>,
    /// Store these columns as a keyed hash, HMAC-SHA256 with a key the app cannot read
    /// (comma-separated); find events by value with `history --where-hash`.
    #[arg(long, value_delimiter = ',')]
    pub hash: Vec<String>,
    /// How much of each row an event stores.
    #[arg(long, value_enum, default_value_t = Storage::Diff)]
    pub storage: Storage,
    /// `--dry-run`.
    #[command(flatten)]
    pub dry_run: DryRun,
}

/// Storage modes, as `TrackSpec` has them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Storage {
    /// UPDATE stores the diff only.
    Diff,
    /// UPDATE also stores the full old and new rows.
    Full,
}

pub(super) fn run(args: Track, context: &Context) -> Result<(), CliError> {
    let dry_run = args.dry_run.dry_run;
    let use_table_key = args.key.is_empty();
    let builder = builder_from(args);
    // The table's columns and key come from the database; a dry run without one prints the
    // SQL for the columns the arguments name.
    let spec = match (dry_run, context.database_url.is_some()) {
        (true, false) => builder.build()?,
        _ => {
            let mut conn = context.connect()?;
            let spec = introspect::complete(&mut conn, builder, use_table_key)?;
            if !dry_run {
                apply::install(&mut conn, &spec, &context.config)?;
                eprintln!(
                    "tracking {}: {} column(s), key ({})",
                    spec.display_name(),
                    spec.tracked_columns().len(),
                    spec.key().join(", ")
                );
                for (what, columns) in [("masked", spec.mask()), ("hashed", spec.hash())] {
                    if !columns.is_empty() {
                        eprintln!("  {what}: {}", columns.join(", "));
                    }
                }
                for problem in crate::ops::trust::problems(&mut conn, &spec)? {
                    eprintln!("warning: {}: {problem}", spec.display_name());
                }
                return Ok(());
            }
            spec
        }
    };
    println!("{}", install_sql(&spec, &context.config)?);
    Ok(())
}

fn builder_from(args: Track) -> TrackSpecBuilder {
    let mut spec = TrackSpec::builder(&args.table)
        .track_only(args.track_only)
        .exclude(args.exclude)
        .meta(args.meta)
        .mask(args.mask)
        .hash(args.hash)
        .storage(match args.storage {
            Storage::Diff => StorageMode::Diff,
            Storage::Full => StorageMode::Full,
        });
    if !args.key.is_empty() {
        spec = spec.key(args.key);
    }
    if let Some(condition) = args.condition {
        spec = spec.condition(condition);
    }
    spec
}
