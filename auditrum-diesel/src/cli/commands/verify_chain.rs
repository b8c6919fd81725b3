//! `verify-chain [--expected-tip JSON|FILE] [--witness FILE]`: exit 1 and name each break.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use crate::cli::flags::Format;
use crate::cli::{CliError, Context};
use crate::ops::chain::{self, witness, ChainReport, ChainTip, VerifyOptions};

/// `verify-chain`.
#[derive(Debug, Args)]
pub struct VerifyChain {
    /// A tip saved earlier by `chain-tip` (its JSON, or a file holding it): also detects a
    /// deleted tail.
    #[arg(long)]
    pub expected_tip: Option<String>,
    /// A witness file (`chain-tip --append`): every tip in it must be a prefix of today's
    /// chain. May be given more than once.
    #[arg(long, value_name = "FILE")]
    pub witness: Vec<PathBuf>,
    /// With `track_commit_timestamp = on`: a transaction whose events claim to have started
    /// more than this many seconds before its commit is reported as backdated.
    #[arg(long, default_value_t = 3600, value_name = "SECONDS")]
    pub max_transaction_duration: u64,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Also verify an archive written by `archive` (a directory or `s3://bucket/prefix`): its files against their
    /// manifests, and the chain recomputed from its rows up to the live chain.
    #[cfg(feature = "archive")]
    #[arg(long)]
    pub archive: Option<String>,
}

pub(crate) fn run(args: VerifyChain, context: &Context) -> Result<(), CliError> {
    let mut tips: Vec<ChainTip> = args
        .expected_tip
        .as_deref()
        .map(parse_tip)
        .transpose()?
        .into_iter()
        .collect();
    for path in &args.witness {
        tips.extend(witness::read(path).map_err(|e| CliError::BadArgument(e.to_string()))?);
    }
    let options = VerifyOptions::default()
        .with_tips(tips)
        .with_max_transaction_duration(Duration::from_secs(args.max_transaction_duration));
    #[cfg(feature = "archive")]
    let archive = match &args.archive {
        Some(location) => Some(super::archive::verify(location, context)?),
        None => None,
    };
    #[cfg(not(feature = "archive"))]
    let archive: Option<()> = None;
    let mut conn = context.connect()?;
    let report = chain::verify_with(&mut conn, &context.config, &options)?;
    print(&report, archive.as_ref(), args.format)?;
    #[cfg(feature = "archive")]
    let archive_intact = archive.as_ref().is_none_or(|check| check.is_intact());
    #[cfg(not(feature = "archive"))]
    let archive_intact = true;
    if !archive_intact {
        Err(CliError::ProblemsFound(
            "the archive does not verify (see BROKEN above)".to_owned(),
        ))
    } else if report.is_intact() {
        Ok(())
    } else {
        Err(CliError::ProblemsFound(format!(
            "the hash chain is broken in {} place(s)",
            report.breaks.len()
        )))
    }
}

/// The archive's check, when `--archive` was given.
#[cfg(feature = "archive")]
type ArchiveCheck = crate::ops::archive::ArchiveCheck;
#[cfg(not(feature = "archive"))]
type ArchiveCheck = ();

/// Prints the report: in JSON, one document — the chain report alone, or with `--archive`
/// `{"archive": <archive check>, "chain": <chain report>}`.
fn print(
    report: &ChainReport,
    archive: Option<&ArchiveCheck>,
    format: Format,
) -> Result<(), CliError> {
    match format {
        Format::Json => {
            let document = match archive {
                Some(archive) => serde_json::json!({ "archive": archive, "chain": report }),
                None => serde_json::to_value(report).map_err(std::io::Error::from)?,
            };
            println!(
                "{}",
                serde_json::to_string_pretty(&document).map_err(std::io::Error::from)?
            );
        }
        Format::Text => {
            #[cfg(feature = "archive")]
            if let Some(archive) = archive {
                print!("{}", super::archive::text(archive));
            }
            print!("{}", text(report));
        }
    }
    Ok(())
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
    if let Some(anchor) = report.tip.anchor_seq {
        out.push_str(&format!(
            "anchor: link {anchor}; {} purge(s) recorded\n",
            report.tip.purges.len()
        ));
    }
    if report.redacted_values > 0 {
        out.push_str(&format!(
            "redacted: {} value(s), by {} REDACT event(s), verified through their digests\n",
            report.redacted_values,
            report.redactions.len()
        ));
        for r in &report.redactions {
            out.push_str(&format!(
                "  REDACT event {} at {} by {}: {} value(s); reason: {}\n",
                r.event_id,
                r.at,
                crate::cli::printable::printable(&r.by),
                r.values,
                crate::cli::printable::printable(&r.reason)
            ));
        }
    }
    if !report.commit_timestamps {
        out.push_str(
            "backdating: checked within transactions only (track_commit_timestamp is off)\n",
        );
    }
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
