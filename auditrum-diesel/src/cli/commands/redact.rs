//! `redact TABLE KEY [--fields a,b] [--erase-key] --reason TEXT` and `redact --user USER_ID
//! --reason TEXT`: erase recorded values on request; exit 1 when nothing matched.

use clap::Args;

use crate::cli::flags::Format;
use crate::cli::{CliError, Context};
use crate::ops::redact::{self, RedactOptions, RedactReport, RedactTarget};

/// `redact`.
#[derive(Debug, Args)]
pub struct Redact {
    /// The audited table (`table` or `schema.table`) whose record's values to erase.
    #[arg(required_unless_present = "user", conflicts_with = "user")]
    pub table: Option<String>,
    /// The record's key as the log stores it (`42`; a composite key as a JSON array).
    #[arg(required_unless_present = "user")]
    pub key: Option<String>,
    /// Erase only these columns (default: every column of the record's events).
    #[arg(long, value_delimiter = ',')]
    pub fields: Vec<String>,
    /// Also erase the record's key (`record_id`): for keys that are personal (an email).
    /// Its history can no longer be found by that key afterwards.
    #[arg(long)]
    pub erase_key: bool,
    /// Instead of a record: erase the identifying keys of every context this user's
    /// transactions carried.
    #[arg(long, value_name = "USER_ID")]
    pub user: Option<String>,
    /// With --user: the context keys to erase (default: user_id, username, client_ip,
    /// user_agent, auditrum_overlong); name every personal key your app adds.
    #[arg(long, value_delimiter = ',', requires = "user")]
    pub keys: Vec<String>,
    /// Why (recorded in the REDACT event; put no personal data in it).
    #[arg(long)]
    pub reason: String,
    /// List what would be erased; change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Skip the `VACUUM (FULL, ANALYZE)` after the redaction (it locks each relation while
    /// rewriting it); the statements are printed, to run later. Until they run, the erased
    /// values remain in the tables' files.
    #[arg(long)]
    pub no_vacuum: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

pub(crate) fn run(args: Redact, context: &Context) -> Result<(), CliError> {
    let target = match (&args.user, args.table, args.key) {
        (Some(user), _, _) => RedactTarget::User {
            user_id: user.clone(),
            keys: if args.keys.is_empty() {
                redact::DEFAULT_PERSONAL_CONTEXT_KEYS
                    .iter()
                    .map(|k| (*k).to_owned())
                    .collect()
            } else {
                args.keys
            },
        },
        (None, Some(table), Some(key)) => RedactTarget::Record {
            table,
            key,
            fields: args.fields,
            erase_key: args.erase_key,
        },
        _ => {
            return Err(CliError::BadArgument(
                "redact needs TABLE KEY, or --user USER_ID".to_owned(),
            ))
        }
    };
    if args.reason.trim().is_empty() {
        return Err(CliError::BadArgument(
            "--reason must say why (it is recorded with the redaction)".to_owned(),
        ));
    }
    let options = RedactOptions {
        target,
        reason: args.reason,
        dry_run: args.dry_run,
        vacuum: !args.no_vacuum,
    };
    let mut conn = context.connect()?;
    let report = redact::redact(&mut conn, &context.config, &options)?;
    match args.format {
        Format::Json => println!(
            "{}",
            serde_json::to_string_pretty(&report).map_err(std::io::Error::from)?
        ),
        Format::Text => print!("{}", text(&report)),
    }
    if report.matched_events == 0 {
        return Err(CliError::ProblemsFound(
            "no recorded event matches: nothing was erased".to_owned(),
        ));
    }
    Ok(())
}

fn text(report: &RedactReport) -> String {
    let verb = if report.dry_run {
        "would erase"
    } else {
        "erased"
    };
    let mut out = format!(
        "{} event(s) matched; {verb} {} value(s)\n",
        report.matched_events, report.values
    );
    for event in &report.erased {
        out.push_str(&format!(
            "  event {}: {}\n",
            event.event_id,
            crate::cli::printable::printable(&event.paths.join(" "))
        ));
    }
    if report.values == 0 && report.matched_events > 0 {
        out.push_str("nothing left to erase (already erased, or no such fields)\n");
    }
    for h in &report.rehashed {
        out.push_str(&format!(
            "link {} re-hashed for redaction (payload version 1 {} -> version 2 {})\n",
            h.seq, h.v1_events_hash, h.v2_events_hash
        ));
    }
    if let Some(id) = report.entry_id {
        out.push_str(&format!(
            "recorded as REDACT event {id}, sealed into the hash chain when it is on\n"
        ));
    }
    if !report.vacuum_sql.is_empty() {
        if report.vacuumed {
            out.push_str("old row versions removed from disk:\n");
        } else {
            out.push_str("the erased values stay in the tables' files until you run (once no transaction older than the redaction runs):\n");
        }
        for statement in &report.vacuum_sql {
            out.push_str(&format!("  {statement};\n"));
        }
    }
    out
}
