//! `verify-chain [--expected-tip JSON|FILE]`: exit 1 and name each broken link.

use clap::Args;

use crate::cli::flags::Format;
use crate::cli::{CliError, Context};
use crate::ops::chain::{self, ChainReport, ChainTip};

/// `verify-chain`.
#[derive(Debug, Args)]
pub struct VerifyChain {
    /// A tip saved earlier by `chain-tip` (its JSON, or a file holding it): also detects a
    /// deleted tail.
    #[arg(long)]
    pub expected_tip: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

pub(crate) fn run(args: VerifyChain, context: &Context) -> Result<(), CliError> {
    let expected = args.expected_tip.as_deref().map(parse_tip).transpose()?;
    let mut conn = context.connect()?;
    let report = chain::verify(&mut conn, &context.config, expected.as_ref())?;
    match args.format {
        Format::Json => println!(
            "{}",
            serde_json::to_string_pretty(&report).map_err(std::io::Error::from)?
        ),
        Format::Text => print!("{}", text(&report)),
    }
    if report.is_intact() {
        Ok(())
    } else {
        Err(CliError::ProblemsFound(format!(
            "the hash chain is broken in {} place(s)",
            report.breaks.len()
        )))
    }
}

/// The tip as JSON text, or the path of a file holding it.
fn parse_tip(value: &str) -> Result<ChainTip, CliError> {
    let text = if value.trim_start().starts_with('{') {
        value.to_owned()
    } else {
        std::fs::read_to_string(value).map_err(|e| {
            CliError::BadArgument(format!(
                "--expected-tip {value:?}: not JSON, and not a readable file ({e})"
            ))
        })?
    };
    serde_json::from_str(&text).map_err(|e| {
        CliError::BadArgument(format!(
            "--expected-tip: {e}; expected the JSON `chain-tip` prints, e.g. {{\"seq\": 42, \"link_hash\": \"…\"}}"
        ))
    })
}

fn text(report: &ChainReport) -> String {
    let mut out = format!(
        "{} link(s) covering {} event(s); {} event(s) from before the chain was enabled are unchained; {} event(s) of running transactions await sealing\nhead: seq {} {}\n",
        report.links, report.chained_events, report.unchained_before, report.unsealed, report.tip.seq, report.tip.link_hash
    );
    if report.is_intact() {
        out.push_str("chain intact (verified by PostgreSQL's sha256 and by Rust's sha2)\n");
    }
    for b in &report.breaks {
        let at = match (b.seq, b.txid) {
            (Some(seq), Some(txid)) => format!("link {seq} (transaction {txid})"),
            (None, Some(txid)) => format!("transaction {txid}"),
            _ => "chain".to_owned(),
        };
        out.push_str(&format!(
            "BROKEN {at}: {}\n    expected {}\n    found    {}\n    found by {}\n",
            b.problem,
            b.expected,
            b.found,
            b.found_by.join(" and ")
        ));
    }
    out
}
