//! `blame TABLE KEY [FIELD] [--format text|json] [-n N]`: who changed a record, when, why.

use std::io::Write;

use clap::Args;

use crate::cli::flags::Format;
use crate::cli::printable::printable;
use crate::cli::{CliError, Context};
use crate::read::{self, BlameText, FieldText};

/// `blame`.
#[derive(Debug, Args)]
pub struct Blame {
    /// The table, `table` or `schema.table`.
    pub table: String,
    /// The record's key; a composite key as a JSON array, e.g. '[7, 1]'.
    pub key: String,
    /// Only this field: its value timeline.
    pub field: Option<String>,
    /// Output format: an aligned table with long values cut, or complete JSON.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Only the newest N events.
    #[arg(short = 'n', long = "last", value_name = "N")]
    pub last: Option<usize>,
}

pub(crate) fn run(args: Blame, context: &Context) -> Result<(), CliError> {
    let mut conn = context.connect()?;
    let config = &context.config;
    let mut out = std::io::stdout().lock();
    match &args.field {
        None => {
            let lines = read::blame(&mut conn, config, &args.table, &args.key, args.last)?;
            match args.format {
                Format::Json => writeln!(out, "{}", pretty(&lines)?)?,
                Format::Text if lines.is_empty() => {
                    writeln!(out, "no events for {} {}", args.table, args.key)?
                }
                Format::Text => write!(out, "{}", printable(&BlameText(&lines).to_string()))?,
            }
        }
        Some(field) => {
            let steps =
                read::field_history(&mut conn, config, &args.table, &args.key, field, args.last)?;
            match args.format {
                Format::Json => writeln!(out, "{}", pretty(&steps)?)?,
                Format::Text if steps.is_empty() => writeln!(
                    out,
                    "no event of {} {} wrote {field} (is it tracked?)",
                    args.table, args.key
                )?,
                Format::Text => write!(out, "{}", printable(&FieldText(&steps).to_string()))?,
            }
        }
    }
    Ok(())
}

/// Pretty JSON.
fn pretty<T: serde::Serialize>(value: &T) -> Result<String, std::io::Error> {
    serde_json::to_string_pretty(value).map_err(std::io::Error::from)
}
