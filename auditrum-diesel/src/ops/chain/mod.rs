//! The hash chain: tamper evidence for the audit log.
//!
//! Once enabled, every committed transaction that wrote events gets one *link*, numbered in
//! transaction-id order, holding the SHA-256 of its events (with their context) and of the
//! previous link. Editing, deleting, inserting or re-numbering an event or a link breaks the chain;
//! [`verify`] finds where, recomputing every hash twice: in PostgreSQL (`sha256()`) and in
//! Rust (`sha2`). A deleted tail is found by comparing with a tip saved earlier
//! ([`tip`], `--expected-tip`).
//!
//! Cost: writers do no chain work at all. [`seal`] (run from cron, by [`watch()`] within a
//! second of each commit, and by [`verify`] and [`tip`]) links every transaction committed
//! since its last run, reading their events through the `txid` index: its work per
//! transaction does not grow with the table. Events are tamper-evident from their sealing
//! on, and safe from a database superuser from the first published tip after that
//! ([`witness`]); docs/hardening.md has the timeline.
//!
//! Purges move the chain's *anchor* (where verification starts) and record each move as a
//! chained `PURGE` event; tips carry the anchor and the purges, so a moved anchor is found.

mod anchor;
mod backdate;
pub(crate) mod canonical;
mod enable;
mod lag;
pub(crate) mod leaves;
pub mod redactions;
mod replica;
mod tip;
mod verify;
pub mod watch;
pub mod witness;

pub use anchor::PurgeEntry;
pub(crate) use anchor::{purge_history, record_purge};
pub(crate) use enable::refresh_seal_sql;
pub use enable::{enable, enable_sql, seal};
pub use lag::seal_lag;
#[cfg(feature = "archive")]
pub(crate) use replica::is_replica;
pub(crate) use replica::refuse_cut;
pub(crate) use tip::state_problem;
pub use tip::{head, tip, ChainTip};
pub(crate) use verify::require_upgraded;
pub use verify::{verify, verify_with, Break, ChainReport, VerifyOptions};
pub use watch::{watch, WatchOptions, Watcher};

use crate::AuditConfig;

/// Names of the chain's objects for an audit log.
pub(crate) struct ChainNames<'a> {
    config: &'a AuditConfig,
}

impl<'a> ChainNames<'a> {
    pub fn new(config: &'a AuditConfig) -> Self {
        ChainNames { config }
    }

    /// `"schema"."<audit>_chain"`.
    pub fn chain_table(&self) -> String {
        self.config.object("_chain")
    }

    /// `"schema"."<audit>_chain_state"`.
    pub fn state_table(&self) -> String {
        self.config.object("_chain_state")
    }

    /// `"schema"."<audit>_chain_seed"`: the seeds of events a redaction left alone.
    pub fn seed_table(&self) -> String {
        self.config.object("_chain_seed")
    }

    /// `"schema"."<audit>_chain_redaction"`: salts kept and digests of erased values.
    pub fn redaction_table(&self) -> String {
        self.config.object("_chain_redaction")
    }

    /// `"schema"."<audit>_chain_mark"`: the function that marks a transaction for sealing.
    pub fn mark_function(&self) -> String {
        self.config.object("_chain_mark")
    }

    /// `"schema"."<audit>_chain_seal"`: the function that links marked transactions.
    pub fn seal_function(&self) -> String {
        self.config.object("_chain_seal")
    }

    /// Whether the chain is enabled: SQL returning a boolean.
    pub fn exists_sql(&self) -> String {
        format!(
            "to_regclass({}) IS NOT NULL",
            crate::quote::literal(&self.state_table())
        )
    }
}
