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
//! Such a binary has `makemigrations` (Diesel migrations for the linked models, see
//! [`migrations`](crate::migrations)) and `sync` (the same changes applied straight to a
//! database, see [`sync`](crate::sync)) besides every database-level command. Specs decided
//! at run time go in through [`main_with_registry`].
//!
//! [`main_with`] parses the arguments, runs the subcommand, prints any error as one line on
//! stderr and returns the exit code: 0 done, 1 a check found problems (`makemigrations
//! --check` found stale migrations), 2 bad arguments, unreachable database or refused.

pub mod args;
mod commands;
mod error;
mod flags;
#[cfg(feature = "viewer")]
mod loopback_host;
mod printable;

use std::ffi::OsString;
use std::process::ExitCode;

use crate::registry::Registry;
use crate::AuditConfig;
use clap::{CommandFactory, FromArgMatches};
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
    main_inner(args, Registry::linked())
}

/// [`main`] with the specs of `registry` instead of the linked ones only; build it with
/// [`Registry::linked`] and [`Registry::with`] to add specs decided at run time.
///
/// ```no_run
/// use auditrum_diesel::registry::Registry;
/// use auditrum_diesel::TrackSpec;
///
/// fn main() -> std::process::ExitCode {
///     let table = std::env::var("EXTRA_AUDITED_TABLE").unwrap_or_else(|_| "events".into());
///     let spec = TrackSpec::builder(&table).track_only(["payload"]);
///     auditrum_diesel::cli::main_with_registry(Registry::linked().with(spec))
/// }
/// ```
pub fn main_with_registry(registry: Registry) -> ExitCode {
    main_inner(std::env::args_os(), registry)
}

fn main_inner<I, T>(args: I, registry: Registry) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let parsed = args::Cli::command()
        .try_get_matches_from(args)
        .and_then(|matches| {
            let cli = args::Cli::from_arg_matches(&matches)?;
            Ok((
                cli,
                matches.subcommand_name().unwrap_or_default().to_owned(),
            ))
        });
    let (cli, name) = match parsed {
        Ok(parsed) => parsed,
        Err(e) => {
            // clap prints help/version to stdout (exit 0) and usage errors to stderr (exit 2).
            let _ = e.print();
            return ExitCode::from(e.exit_code() as u8);
        }
    };
    // The subcommand's name only: its arguments may hold secrets (`serve --token`).
    let _span = tracing::info_span!("auditrum.cli", command = name).entered();
    match run_with_registry(cli, registry) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("auditrum-diesel: error: {}", e.one_line());
            ExitCode::from(e.exit_code())
        }
    }
}

/// Runs a parsed command line with the linked registry.
pub fn run(cli: args::Cli) -> Result<(), CliError> {
    run_with_registry(cli, Registry::linked())
}

/// Runs a parsed command line with the specs of `registry`.
pub fn run_with_registry(cli: args::Cli, registry: Registry) -> Result<(), CliError> {
    let context = Context::new(cli.global, registry)?;
    commands::run(cli.command, &context)
}

/// What the subcommands share: the audit log's names, the database URL and the registry.
#[derive(Debug)]
pub(crate) struct Context {
    config: AuditConfig,
    database_url: Option<String>,
    registry: Registry,
}

impl Context {
    fn new(global: args::Global, registry: Registry) -> Result<Self, CliError> {
        let config = AuditConfig::new()
            .with_table(&global.audit_table)?
            .with_context_setting(&global.context_setting)?;
        Ok(Context {
            config,
            database_url: global.database_url.filter(|url| !url.is_empty()),
            registry,
        })
    }

    /// A connection to the database, or the reason there is none.
    fn connect(&self) -> Result<PgConnection, CliError> {
        let url = self.database_url.as_deref().ok_or(CliError::NoDatabase)?;
        PgConnection::establish(url).map_err(|e| CliError::Connect(e.to_string()))
    }
}
