//! `seal-chain [--watch]`: link every transaction that has ended since the last seal (for
//! cron), or keep sealing within a second of each commit until SIGTERM or SIGINT.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use clap::Args;

use crate::cli::{CliError, Context};
use crate::ops::chain::{self, WatchOptions};

/// `seal-chain`.
#[derive(Debug, Args)]
pub struct SealChain {
    /// Run until SIGTERM or SIGINT (a systemd service, a Kubernetes sidecar), sealing every
    /// `--interval-ms`; reconnects when the database restarts. Logs to stderr. Exits 2 at
    /// once when the database is unreachable at start or the chain is not enabled.
    #[arg(long)]
    pub watch: bool,
    /// With `--watch`: milliseconds between two seals.
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u64).range(10..=60_000))]
    pub interval_ms: u64,
}

pub(crate) fn run(args: SealChain, context: &Context) -> Result<(), CliError> {
    if !args.watch {
        let mut conn = context.connect()?;
        let sealed = chain::seal(&mut conn, &context.config)?;
        println!("sealed {sealed} transaction(s)");
        return Ok(());
    }
    let url = context
        .database_url
        .as_deref()
        .ok_or(CliError::NoDatabase)?;
    // A database unreachable at start is a bad argument (exit 2), and a chain never enabled
    // is refused at once; once running, the watcher reconnects instead.
    let first = chain::seal(&mut context.connect()?, &context.config)?;
    // Ignore a second subscriber (a binary of the user's that set one up already).
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_max_level(tracing::Level::INFO)
        .with_ansi(false)
        .try_init();
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        signal_hook::flag::register(signal, stop.clone())?;
    }
    let options = WatchOptions::default().with_interval(Duration::from_millis(args.interval_ms));
    let sealed =
        u64::from(first.unsigned_abs()) + chain::watch(url, &context.config, &options, &stop)?;
    println!("stopped after sealing {sealed} transaction(s)");
    Ok(())
}
