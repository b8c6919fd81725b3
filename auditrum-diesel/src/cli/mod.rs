//! The `auditrum-diesel` command line (feature `cli`).
//!
//! The `auditrum-diesel` binary is [`main`]. Commands that need your models (generating
//! migrations from `#[derive(Audited)]`) run from a binary of your own crate, which links
//! your models into the registry:
//!
//! ```no_run
//! // src/bin/audit.rs
//! use my_models as _; // link the crate whose models derive `Audited`
//! fn main() -> std::process::ExitCode { auditrum_diesel::cli::main() }
//! # mod my_models {}
//! ```
//!
//! [`main_with`] parses the arguments, runs the subcommand, prints any error as one line on
//! stderr and returns the exit code: 0 done, 2 bad arguments, unreachable database or
//! refused.

pub mod args;
mod commands;
mod error;

use std::ffi::OsString;
use std::process::ExitCode;

use crate::AuditConfig;
use clap::Parser;
use diesel::{Connection, PgConnection};

pub use error::CliError;

/// Runs the command line of this process and returns its exit code.
pub fn main() -> ExitCode {
    main_with(std::env::args_os())
}

/// Parses `args` (program name first), runs the command and returns the exit code.
pub fn main_with<I, T>(args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match args::Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            // clap prints help/version to stdout (exit 0) and usage errors to stderr (exit 2).
            let _ = e.print();
            return ExitCode::from(e.exit_code() as u8);
        }
    };
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("auditrum-diesel: error: {}", e.one_line());
            ExitCode::from(e.exit_code())
        }
    }
}

/// Runs a parsed command line.
pub fn run(cli: args::Cli) -> Result<(), CliError> {
    let context = Context::new(cli.global)?;
    commands::run(cli.command, &context)
}

/// What the subcommands share: the audit log's names and the database URL.
#[derive(Debug)]
pub(crate) struct Context {
    config: AuditConfig,
    database_url: Option<String>,
}

impl Context {
    fn new(global: args::Global) -> Result<Self, CliError> {
        let config = AuditConfig::new()
            .with_table(&global.audit_table)?
            .with_context_setting(&global.context_setting)?;
        Ok(Context {
            config,
            database_url: global.database_url.filter(|url| !url.is_empty()),
        })
    }

    /// A connection to the database, or the reason there is none.
    fn connect(&self) -> Result<PgConnection, CliError> {
        let url = self.database_url.as_deref().ok_or(CliError::NoDatabase)?;
        PgConnection::establish(url).map_err(|e| CliError::Connect(e.to_string()))
    }
}
