//! # auditrum-diesel
//!
//! An audit log for Diesel + PostgreSQL: triggers record every INSERT, UPDATE, DELETE and
//! TRUNCATE of the tables you audit into a monthly-partitioned audit table, with the context
//! of the transaction that made them (who, why, from where).
//!
//! ## Without derive: the SQL from a spec
//!
//! ```
//! use auditrum_diesel::{core_schema_sql, install_sql, AuditConfig, TrackSpec};
//!
//! let config = AuditConfig::default();
//! // Once per database: the audit table, its partitions, context storage and registry.
//! let schema = core_schema_sql(&config);
//! // Per audited table: statement-level triggers recording changes to `email` and `name`.
//! let spec = TrackSpec::new("users")?
//!     .key(["id"])
//!     .columns(["id", "email", "name", "password_hash"])
//!     .exclude(["password_hash"]);
//! let triggers = install_sql(&spec, &config)?;
//! assert!(triggers.contains("FOR EACH STATEMENT"));
//! # Ok::<(), auditrum_diesel::SpecError>(())
//! ```
//!
//! Put both in a Diesel migration (`up.sql`), or apply them directly with
//! [`apply::install_core_schema`] and [`apply::install`].
//!
//! ## Context
//!
//! The triggers read the transaction's context from the setting `auditrum.context`, a JSON
//! object set with `SET LOCAL` inside the transaction:
//!
//! ```sql
//! BEGIN;
//! SET LOCAL auditrum.context = '{"user_id": "42", "change_reason": "support ticket 7"}';
//! UPDATE users SET email = 'new@example.com' WHERE id = 1;
//! COMMIT;
//! ```
//!
//! The context is stored once per transaction in `auditlog_context` and every event of the
//! transaction points at it (`context_id`).
#![warn(missing_docs)]

pub mod apply;
mod audited;
#[cfg(feature = "cli")]
pub mod cli;
mod config;
pub mod connection;
pub mod context;
mod error;
pub mod history;
pub mod introspect;
pub mod migrations;
mod operation;
pub mod ops;
pub mod read;
pub mod registry;
pub mod schema;
mod spec;
pub mod sql;
pub mod sync;
#[cfg(feature = "axum")]
pub mod web;

pub use audited::Audited;
/// `#[derive(Audited)]`: implements [`Audited`] for a Diesel model and registers it; see
/// [`Audited`] and `docs/derive-and-migrations.md` for its options.
pub use auditrum_diesel_derive::Audited;
pub use config::AuditConfig;
pub use error::{Error, SpecError};
pub use operation::Operation;
pub use spec::{Column, StorageMode, TrackSpec};
pub use sql::{
    add_partitions_sql, core_schema_down_sql, core_schema_sql, install_sql, uninstall_sql,
};

/// What the macros expand to; not public API.
#[doc(hidden)]
pub mod __private {
    pub use inventory;
}

// The README's and the guides' Rust examples compile as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeDoctests;
#[cfg(all(doctest, feature = "cli"))]
#[doc = include_str!("../../docs/getting-started.md")]
struct GettingStartedDoctests;
#[cfg(all(doctest, feature = "cli"))]
#[doc = include_str!("../../docs/derive-and-migrations.md")]
struct DeriveAndMigrationsDoctests;
#[cfg(all(doctest, feature = "cli"))]
#[doc = include_str!("../../docs/upgrading.md")]
struct UpgradingDoctests;
