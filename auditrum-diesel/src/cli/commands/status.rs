//! `status`: partitions, DEFAULT rows, drift of each tracked table. Exits 1 on a problem.

use clap::Args;

use crate::cli::flags::Format;
use crate::cli::{CliError, Context};
use crate::ops::status::{self, Status};

/// `status`.
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Output format (`json` for monitoring).
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

pub(crate) fn run(args: StatusArgs, context: &Context) -> Result<(), CliError> {
    let mut conn = context.connect()?;
    let status = status::read(&mut conn, &context.config)?;
    match args.format {
        Format::Json => println!(
            "{}",
            serde_json::to_string_pretty(&status).map_err(std::io::Error::from)?
        ),
        Format::Text => print!("{}", text(&status)),
    }
    match status.problems.len() {
        0 => Ok(()),
        n => Err(CliError::ProblemsFound(format!(
            "status found {n} problem(s)"
        ))),
    }
}

fn text(status: &Status) -> String {
    let mut out = format!("audit log {}\n\npartitions:\n", status.audit_table);
    for p in &status.partitions {
        let range = match (p.from, p.to) {
            (Some(from), Some(to)) => {
                format!("{} .. {}", from.format("%Y-%m-%d"), to.format("%Y-%m-%d"))
            }
            _ => "DEFAULT".to_owned(),
        };
        let rows = p.rows.map_or("unknown".to_owned(), |r| r.to_string());
        let approx = if p.is_default { "" } else { "~" };
        out.push_str(&format!(
            "  {:<28} {range:<24} {approx}{rows} rows\n",
            p.name
        ));
    }
    out.push_str("\ntracked tables:\n");
    if status.tables.is_empty() {
        out.push_str("  (none)\n");
    }
    for t in &status.tables {
        let state = if t.problems.is_empty() { "ok" } else { "DRIFT" };
        out.push_str(&format!(
            "  {}.{:<30} {state:<6} spec {} installed {}\n",
            t.schema,
            t.table,
            &t.fingerprint[..12.min(t.fingerprint.len())],
            t.installed_at.format("%Y-%m-%d %H:%M UTC")
        ));
        for (what, columns) in [("masked", &t.masked), ("hashed", &t.hashed)] {
            if !columns.is_empty() {
                out.push_str(&format!("    {what}: {}\n", columns.join(", ")));
            }
        }
    }
    match &status.hash_chain {
        Some(tip) => out.push_str(&format!(
            "\nhash chain: on, head at link {} {} (run `verify-chain` to check it)\n",
            tip.seq, tip.link_hash
        )),
        None => out.push_str("\nhash chain: off\n"),
    }
    if let Some(lag) = status.seal_lag_seconds {
        out.push_str(&format!(
            "seal lag: {lag:.1} s (oldest committed transaction not sealed yet; `seal-chain --watch` keeps it near 0)\n"
        ));
    }
    out.push_str(&format!(
        "core schema: version {}{}\n",
        status.core.version,
        if status.core.hash.is_none() {
            " (0.1)"
        } else {
            ""
        }
    ));
    out.push_str(if status.ddl_guard {
        "DDL guard: installed (only the admin role may drop or disable capture; schema changes are recorded)\n"
    } else {
        "DDL guard: not installed (run `auditrum-diesel harden --app-role … --admin-role …`)\n"
    });
    if status.problems.is_empty() {
        out.push_str("\nno problems\n");
    } else {
        out.push_str("\nproblems:\n");
        for problem in &status.problems {
            out.push_str(&format!("  - {problem}\n"));
        }
    }
    out
}
