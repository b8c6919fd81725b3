//! `verify-history [--table T] [--allow-unlogged]`: changes made while the triggers were off.

use clap::Args;

use crate::cli::flags::Format;
use crate::cli::{CliError, Context};
use crate::read::{self, VerifyOptions};

/// `verify-history`.
#[derive(Debug, Args)]
pub struct VerifyHistory {
    /// Only this table (`table` or `schema.table`); every tracked table otherwise.
    #[arg(long)]
    pub table: Option<String>,
    /// Do not report live rows the log has no event of (tables tracked after they had rows).
    #[arg(long)]
    pub allow_unlogged: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

pub(crate) fn run(args: VerifyHistory, context: &Context) -> Result<(), CliError> {
    let mut conn = context.connect()?;
    let options = VerifyOptions {
        table: args.table,
        allow_unlogged: args.allow_unlogged,
    };
    let report = read::verify_history(&mut conn, &context.config, &options)?;
    match args.format {
        Format::Json => println!(
            "{}",
            serde_json::to_string_pretty(&report).map_err(std::io::Error::from)?
        ),
        Format::Text => {
            for table in &report.tables {
                match &table.skipped {
                    Some(why) => println!("{}: not checked: {why}", table.table),
                    None => println!(
                        "{}: {} record(s), {} event(s) checked",
                        table.table, table.records, table.events
                    ),
                }
            }
            for finding in &report.findings {
                println!("  {finding}");
            }
        }
    }
    if report.findings.is_empty() {
        return Ok(());
    }
    Err(CliError::ProblemsFound(format!(
        "{} sign(s) of writes the triggers did not see",
        report.findings.len()
    )))
}
