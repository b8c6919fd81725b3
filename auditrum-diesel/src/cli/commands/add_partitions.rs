//! `add-partitions --months N`: monthly partitions ahead, for cron.

use clap::Args;

use crate::cli::flags::Format;
use crate::cli::{CliError, Context};
use crate::ops::partitions;

/// `add-partitions`.
#[derive(Debug, Args)]
pub struct AddPartitions {
    /// Create partitions from the current month through this many months ahead.
    #[arg(long, default_value_t = 3)]
    pub months: u32,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

pub(crate) fn run(args: AddPartitions, context: &Context) -> Result<(), CliError> {
    let mut conn = context.connect()?;
    let created = partitions::add(&mut conn, &context.config, args.months)?;
    let until = partitions::list(&mut conn, &context.config)?
        .iter()
        .filter_map(|p| p.to)
        .max();
    match args.format {
        Format::Json => println!(
            "{}",
            serde_json::json!({ "created": created, "partitions_until": until })
        ),
        Format::Text => {
            let until = until.map_or("-".to_owned(), |u| {
                u.format("%Y-%m-%d %H:%M UTC").to_string()
            });
            println!("created {created} partition(s); partitions reach until {until}");
        }
    }
    Ok(())
}
