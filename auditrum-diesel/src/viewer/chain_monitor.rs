//! The viewer's own hash-chain verification, run now and then on a thread of its own; the
//! status page and `/metrics` show its last result.

use std::sync::{Mutex, Weak};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::Shared;
use crate::ops::chain;
use crate::Error;

/// The outcome of the viewer's last verification of the hash chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct ChainVerification {
    /// When it finished.
    pub at: DateTime<Utc>,
    /// Whether the chain is enabled at all.
    pub enabled: bool,
    /// Links checked.
    pub links: i64,
    /// Breaks found (0 when intact).
    pub breaks: usize,
    /// Why the verification could not run, if it could not.
    pub error: Option<String>,
}

impl ChainVerification {
    /// Enabled, checked, and nothing broken.
    pub fn is_intact(&self) -> bool {
        self.enabled && self.error.is_none() && self.breaks == 0
    }
}

/// The last verification.
#[derive(Debug, Default)]
pub(crate) struct ChainMonitor {
    last: Mutex<Option<ChainVerification>>,
}

impl ChainMonitor {
    pub fn last(&self) -> Option<ChainVerification> {
        self.last.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn record(&self, verification: ChainVerification) {
        *self.last.lock().unwrap_or_else(|e| e.into_inner()) = Some(verification);
    }
}

/// Verifies at once and then every `interval`, until the viewer is dropped.
pub(crate) fn spawn(shared: Weak<Shared>, interval: Duration) {
    let spawned = std::thread::Builder::new()
        .name("auditrum-chain-verify".into())
        .spawn(move || loop {
            let Some(shared) = shared.upgrade() else {
                return;
            };
            let verification = verify_once(&shared);
            shared.monitor.record(verification);
            drop(shared);
            std::thread::sleep(interval);
        });
    if let Err(e) = spawned {
        tracing::error!(error = %e, "cannot start the hash-chain verification thread");
    }
}

fn verify_once(shared: &Shared) -> ChainVerification {
    let outcome = shared.db_blocking(|conn, shared| Ok(chain::verify(conn, &shared.config, None)));
    let mut verification = ChainVerification {
        at: Utc::now(),
        enabled: true,
        links: 0,
        breaks: 0,
        error: None,
    };
    match outcome {
        Ok(Ok(report)) => {
            verification.links = report.links;
            verification.breaks = report.breaks.len();
        }
        Ok(Err(Error::Refused(_))) => verification.enabled = false,
        Ok(Err(e)) => verification.error = Some(e.to_string()),
        Err(e) => verification.error = Some(e.to_string()),
    }
    verification
}
