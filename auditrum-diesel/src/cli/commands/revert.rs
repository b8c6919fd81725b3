//! `revert --event ID | --transaction TXID | --request-id R [--dry-run] [--force]`.

use clap::{ArgGroup, Args};

use crate::cli::flags::Format;
use crate::cli::{CliError, Context};
use crate::context::{with_context, AuditContext};
use crate::read::{self, ReadError, RevertOptions, RevertReport, RevertTarget};

/// `revert`.
#[derive(Debug, Args)]
#[command(group(ArgGroup::new("target").required(true).args(["event", "transaction", "request_id"])))]
pub struct Revert {
    /// Undo this event.
    #[arg(long, value_name = "ID")]
    pub event: Option<i64>,
    /// Undo every event of this transaction (its `txid`).
    #[arg(long, value_name = "TXID")]
    pub transaction: Option<i64>,
    /// Undo every event written under this request id.
    #[arg(long, value_name = "R")]
    pub request_id: Option<String>,
    /// Print what would be written and the conflicts; write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Revert despite conflicts with later events, overwriting them.
    #[arg(long)]
    pub force: bool,
    /// Who reverts: the `user_id` of the revert's context.
    #[arg(long, value_name = "U")]
    pub user_id: Option<String>,
    /// Why: put before the revert's own change reason.
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

pub(crate) fn run(args: Revert, context: &Context) -> Result<(), CliError> {
    let target = match (args.event, args.transaction, &args.request_id) {
        (Some(id), _, _) => RevertTarget::Event(id),
        (_, Some(txid), _) => RevertTarget::Transaction(txid),
        (_, _, Some(request)) => RevertTarget::Request(request.clone()),
        _ => unreachable!("clap requires one target"),
    };
    let mut conn = context.connect()?;
    let mut outer = AuditContext::new();
    if let Some(user) = &args.user_id {
        outer = outer.user_id(user);
    }
    if let Some(reason) = &args.reason {
        outer = outer.change_reason(reason);
    }
    let options = RevertOptions {
        dry_run: args.dry_run,
        force: args.force,
    };
    let result = with_context(outer, || {
        read::revert(&mut conn, &context.config, &target, options)
    });
    let report = match result {
        Ok(report) => report,
        Err(ReadError::Conflicts(conflicts)) => {
            println!(
                "refused: {} conflict(s) with later events; nothing written (--force overwrites them):",
                conflicts.len()
            );
            for conflict in &conflicts {
                println!("  {conflict}");
            }
            return Err(CliError::ProblemsFound(format!(
                "revert of {target} refused: {} conflict(s)",
                conflicts.len()
            )));
        }
        Err(e) => return Err(e.into()),
    };
    print(&report, args.format)?;
    if report.dry_run && !report.conflicts.is_empty() && !args.force {
        return Err(CliError::ProblemsFound(format!(
            "revert of {target} would be refused: {} conflict(s)",
            report.conflicts.len()
        )));
    }
    Ok(())
}

fn print(report: &RevertReport, format: Format) -> Result<(), CliError> {
    if format == Format::Json {
        let json = serde_json::to_string_pretty(report).map_err(std::io::Error::from)?;
        println!("{json}");
        return Ok(());
    }
    let verb = if report.dry_run {
        "would write"
    } else {
        "wrote"
    };
    println!(
        "revert of {}: {} event(s), {verb} {} row(s)",
        report.target,
        report.events.len(),
        report
            .steps
            .iter()
            .filter(|s| s.applied || report.dry_run)
            .count()
    );
    for step in &report.steps {
        let skipped = if !report.dry_run && !step.applied {
            "  [skipped: row gone or back]"
        } else {
            ""
        };
        println!("  {step}{skipped}");
    }
    if !report.conflicts.is_empty() {
        let label = if report.dry_run {
            "conflicts"
        } else {
            "overwritten (--force)"
        };
        println!("{label}:");
        for conflict in &report.conflicts {
            println!("  {conflict}");
        }
    }
    if let Some(txid) = report.txid {
        println!("in transaction {txid} (source = revert)");
    }
    Ok(())
}
