//! `history TABLE KEY`: the events of one record, oldest first.

use std::io::Write;

use crate::history::record_history;
use crate::TrackSpec;

use crate::cli::args::{Format, History};
use crate::cli::printable::printable;
use crate::cli::{CliError, Context};

pub(super) fn run(args: History, context: &Context) -> Result<(), CliError> {
    let table = TrackSpec::new(&args.table)?;
    let mut conn = context.connect()?;
    let events = record_history(
        &mut conn,
        &context.config,
        table.table_schema(),
        table.table_name(),
        &args.key,
    )?;
    let mut out = std::io::stdout().lock();
    match args.format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut out, &events).map_err(std::io::Error::from)?;
            writeln!(out)?;
        }
        Format::Text if events.is_empty() => {
            writeln!(out, "no events for {} {}", table.display_name(), args.key)?;
        }
        Format::Text => {
            for event in &events {
                write!(out, "{}", printable(&event.to_string()))?;
            }
        }
    }
    Ok(())
}
