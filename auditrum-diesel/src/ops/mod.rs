//! Operations on a live audit log: partitions, status, hardening, retention.
//!
//! Each is safe to run twice and concurrently with writers; the CLI runs them as
//! `add-partitions`, `status`, `harden` and `purge`.

pub mod chain;
pub mod harden;
pub mod partitions;
pub mod purge;
pub mod status;
pub mod trust;
