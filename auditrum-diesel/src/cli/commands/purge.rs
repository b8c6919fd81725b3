//! `purge --older-than INTERVAL [--drop-partitions] [--dry-run]`: retention.

use clap::Args;

use crate::cli::flags::Format;
use crate::cli::{CliError, Context};
use crate::ops::purge::{self, PurgeOptions};

/// `purge`.
#[derive(Debug, Args)]
pub struct Purge {
    /// Remove events older than this PostgreSQL interval ('2 years', '90 days'), counted
    /// back from now in UTC.
    #[arg(long)]
    pub older_than: String,
    /// Drop monthly partitions that hold only older events, instead of deleting their rows.
    #[arg(long)]
    pub drop_partitions: bool,
    /// Count what would be removed; change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

pub(crate) fn run(args: Purge, context: &Context) -> Result<(), CliError> {
    let mut conn = context.connect()?;
    let options = PurgeOptions {
        older_than: &args.older_than,
        drop_partitions: args.drop_partitions,
        dry_run: args.dry_run,
    };
    let report = purge::purge(&mut conn, &context.config, &options)?;
    match args.format {
        Format::Json => println!(
            "{}",
            serde_json::to_string_pretty(&report).map_err(std::io::Error::from)?
        ),
        Format::Text => {
            let verb = if report.dry_run {
                "would remove"
            } else {
                "removed"
            };
            println!(
                "cutoff {} (events before it are removed)",
                report.cutoff.format("%Y-%m-%d %H:%M:%S UTC")
            );
            for (partition, rows) in &report.dropped_partitions {
                let verb = if report.dry_run {
                    "would drop"
                } else {
                    "dropped"
                };
                println!("{verb} partition {partition} ({rows} events)");
            }
            println!("{verb} {} event(s) row by row", report.deleted_events);
            println!(
                "{verb} {} context row(s) no event points at",
                report.deleted_contexts
            );
        }
    }
    Ok(())
}
