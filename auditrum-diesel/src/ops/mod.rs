//! Operations on a live audit log: partitions, status, hardening, retention.
//!
//! Each is safe to run twice and concurrently with writers; the CLI runs them as
//! `add-partitions`, `status`, `harden` (with its [`ddl_guard`]) and `purge`.

#[cfg(feature = "archive")]
pub mod archive;
pub mod chain;
pub mod ddl_guard;
pub mod harden;
pub mod partitions;
pub mod purge;
pub mod redact;
pub mod status;
pub mod trust;
