//! A sealer that runs until stopped: seals every short interval, so a transaction is linked
//! within about a second of its commit (`seal-chain --watch`, or [`Watcher`] in an app).
//!
//! It polls rather than waiting for `NOTIFY`: a `NOTIFY` from the capture triggers would
//! make every writing transaction take PostgreSQL's global notification-queue lock at
//! commit, serializing the commits of all writers; a poll costs writers nothing beyond the
//! seal's own reads, and an idle poll is one index probe. docs/hardening.md has the
//! measured cost.
//!
//! ```no_run
//! use std::time::Duration;
//! use auditrum_diesel::ops::chain::{WatchOptions, Watcher};
//! use auditrum_diesel::AuditConfig;
//!
//! let url = std::env::var("DATABASE_URL").unwrap();
//! let watcher = Watcher::spawn(url, AuditConfig::default(), WatchOptions::default())?;
//! // … the app runs …
//! let sealed = watcher.stop()?; // or drop it
//! println!("sealed {sealed} transaction(s)");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use diesel::{Connection, PgConnection};

use crate::{AuditConfig, Error};

/// How a watcher runs.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct WatchOptions {
    /// Time from the end of one seal to the start of the next. Default 200 ms: a transaction
    /// waits at most this plus one seal.
    pub interval: Duration,
    /// The longest wait between two attempts to reconnect after the connection is lost
    /// (database restart, failover); attempts start 100 ms apart and double. Default 5 s.
    pub max_reconnect_delay: Duration,
}

impl Default for WatchOptions {
    fn default() -> Self {
        WatchOptions {
            interval: Duration::from_millis(200),
            max_reconnect_delay: Duration::from_secs(5),
        }
    }
}

impl WatchOptions {
    /// Sets the interval between seals.
    pub fn with_interval(mut self, interval: Duration) -> Self {
        self.interval = interval;
        self
    }
}

/// Seals every `options.interval` until `stop` is set, reconnecting whenever the connection
/// fails; returns how many transactions it linked. Ends early with the error when the chain
/// is not enabled (`Error::Refused`). Logs through `tracing` (target
/// `auditrum_diesel::ops::chain::watch`).
pub fn watch(
    database_url: &str,
    config: &AuditConfig,
    options: &WatchOptions,
    stop: &AtomicBool,
) -> Result<u64, Error> {
    tracing::info!(
        audit_table = %config.qualified_table(),
        interval_ms = options.interval.as_millis() as u64,
        "watching: sealing committed transactions until stopped"
    );
    let mut sealed_total: u64 = 0;
    let mut conn: Option<PgConnection> = None;
    let mut delay = Duration::from_millis(100);
    while !stop.load(Ordering::SeqCst) {
        let connection = match conn.as_mut() {
            Some(connection) => connection,
            None => match PgConnection::establish(database_url) {
                Ok(connection) => {
                    tracing::info!("connected");
                    delay = Duration::from_millis(100);
                    conn.insert(connection)
                }
                Err(error) => {
                    tracing::warn!(%error, retry_in_ms = delay.as_millis() as u64, "cannot connect");
                    pause(delay, stop);
                    delay = (delay * 2).min(options.max_reconnect_delay);
                    continue;
                }
            },
        };
        let started = Instant::now();
        match super::seal(connection, config) {
            Ok(sealed) => {
                sealed_total += sealed as u64;
                if sealed > 0 {
                    tracing::debug!(
                        sealed,
                        elapsed_ms = started.elapsed().as_millis() as u64,
                        "sealed"
                    );
                }
                pause(options.interval, stop);
            }
            Err(error @ Error::Refused(_)) => {
                tracing::error!(%error, "stopping");
                return Err(error);
            }
            Err(error) => {
                // Most often the server went away; a fresh connection tells.
                tracing::warn!(%error, retry_in_ms = delay.as_millis() as u64, "seal failed; reconnecting");
                conn = None;
                pause(delay, stop);
                delay = (delay * 2).min(options.max_reconnect_delay);
            }
        }
    }
    tracing::info!(sealed = sealed_total, "stopped");
    Ok(sealed_total)
}

/// Sleeps `duration`, waking early when `stop` is set.
fn pause(duration: Duration, stop: &AtomicBool) {
    let until = Instant::now() + duration;
    while !stop.load(Ordering::SeqCst) {
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return;
        }
        std::thread::sleep(left.min(Duration::from_millis(50)));
    }
}

/// [`watch`] on a thread of its own, for apps that seal from a background task. Stops (and
/// waits for the current seal) when [`stop`](Watcher::stop)ped or dropped.
#[derive(Debug)]
pub struct Watcher {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<Result<u64, Error>>>,
}

impl Watcher {
    /// Starts watching the chain of `config`'s audit log in the database at `database_url`.
    pub fn spawn(
        database_url: impl Into<String>,
        config: AuditConfig,
        options: WatchOptions,
    ) -> std::io::Result<Watcher> {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let url = database_url.into();
        let thread = std::thread::Builder::new()
            .name("auditrum-chain-watch".into())
            .spawn(move || watch(&url, &config, &options, &flag))?;
        Ok(Watcher {
            stop,
            thread: Some(thread),
        })
    }

    /// Whether it ended by itself (the chain is not enabled).
    pub fn is_finished(&self) -> bool {
        self.thread.as_ref().is_none_or(JoinHandle::is_finished)
    }

    /// Stops it and returns how many transactions it linked, or why it ended.
    pub fn stop(mut self) -> Result<u64, Error> {
        self.finish()
    }

    fn finish(&mut self) -> Result<u64, Error> {
        self.stop.store(true, Ordering::SeqCst);
        match self.thread.take() {
            Some(thread) => thread
                .join()
                .unwrap_or_else(|_| Err(Error::Refused("the watcher thread panicked".into()))),
            None => Ok(0),
        }
    }
}

impl Drop for Watcher {
    fn drop(&mut self) {
        let _ = self.finish();
    }
}
