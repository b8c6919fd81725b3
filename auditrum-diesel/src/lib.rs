//! # auditrum-diesel
//!
//! An audit log for Diesel + PostgreSQL: triggers record every INSERT, UPDATE, DELETE and
//! TRUNCATE of the tables you audit into a monthly-partitioned audit table, with the context
//! of the transaction that made them: who, when, why and from where.
//!
//! This page is a tutorial in five steps; the guides in `docs/` go further.
//!
//! ## 1. Say what to audit
//!
//! Derive [`Audited`] on a Diesel model. It reads Diesel's own `table_name`, `primary_key`
//! and `column_name`, so nothing is said twice:
//!
//! ```
//! use auditrum_diesel::Audited;
//! use diesel::prelude::*;
//!
//! diesel::table! {
//!     users (id) {
//!         id -> Int8,
//!         email -> Text,
//!         password_hash -> Text,
//!     }
//! }
//!
//! #[derive(Queryable, Selectable, Audited)]
//! #[diesel(table_name = users)]
//! #[audited(exclude(password_hash))] // or track_only(..), condition = "…", meta(..)
//! pub struct User {
//!     pub id: i64,
//!     pub email: String,
//!     pub password_hash: String,
//! }
//!
//! let spec = User::track_spec();
//! assert_eq!(spec.display_name(), "public.users");
//! assert_eq!(spec.tracked_columns().len(), 2);
//! ```
//!
//! A table without a model gets a [`TrackSpec`] of its own, registered with [`register!`]
//! or applied directly ([`apply::install`], [`install_sql`]).
//!
//! ## 2. Install it with Diesel migrations
//!
//! The [`migrations::Generator`] writes Diesel migration folders for every audited model
//! your binary links: the core schema once ([`core_schema_sql`]: the audit table, its
//! partitions, the context table, the registry) and statement-level triggers per table
//! ([`install_sql`]). Run it from your crate with `auditrum_diesel::cli` (`makemigrations`, feature
//! `cli`), then `diesel migration run`; [`migrations::assert_up_to_date`] in a test keeps
//! them fresh.
//!
//! ```
//! use auditrum_diesel::migrations::Generator;
//! use auditrum_diesel::registry::Registry;
//! use auditrum_diesel::TrackSpec;
//!
//! let dir = tempfile::tempdir()?;
//! let registry = Registry::new().with(TrackSpec::builder("users").track_only(["email"]));
//! let written = Generator::new(dir.path(), registry).generate(chrono::Utc::now())?;
//! assert_eq!(written.len(), 2); // …_auditrum_core, …_auditrum_track_users
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! ## 3. Write with context
//!
//! [`connection::AuditedConnection`] wraps a `PgConnection`: every transaction starts with
//! `BEGIN; SET LOCAL auditrum.context = '…'` sent as one batch (no extra round trip), and a
//! write outside a transaction is wrapped in one. Scopes say who, why and from where:
//!
//! ```no_run
//! # use diesel::prelude::*;
//! # diesel::table! { users (id) { id -> Int8, email -> Text } }
//! use auditrum_diesel::connection::AuditedConnection;
//! use auditrum_diesel::context::{with_change_reason, with_context, AuditContext};
//!
//! let mut conn = AuditedConnection::establish("postgres://localhost/app")?;
//! with_context(AuditContext::new().user_id("alice").source("admin"), || {
//!     with_change_reason("ticket #42", || {
//!         diesel::update(users::table.find(1))
//!             .set(users::email.eq("new@example.org"))
//!             .execute(&mut conn)
//!     })
//! })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The context is stored once per transaction and every event points at it. Web apps use
//! the axum layer (feature `axum`); any `PgConnection` can use
//! [`connection::AuditedTransactionExt::audited_transaction`].
//!
//! ## 4. Read the log
//!
//! [`read::record_history`] lists a record's events; the [`read`] module has typed
//! events ([`read::AuditEvent`]), composable query helpers, time travel and blame. The
//! `auditrum-diesel` command answers the same questions from a shell (`history`, `blame`,
//! `as-of`).
//!
//! ## 5. Operate it
//!
//! [`ops`] holds what an operator runs from cron and in audits: monthly partitions ahead,
//! `status` (drift), `harden` (append-only roles), `purge` (retention) and the SHA-256 hash
//! chain ([`ops::chain`]).
#![warn(missing_docs)]

pub mod apply;
mod audited;
#[cfg(feature = "cli")]
pub mod cli;
mod config;
pub mod connection;
pub mod context;
mod error;
pub mod introspect;
pub mod migrations;
mod operation;
pub mod ops;
pub mod plan;
pub mod quote;
pub mod read;
pub mod registry;
pub mod schema;
mod spec;
pub mod sql;
pub mod sync;
#[cfg(feature = "viewer")]
pub mod viewer;
#[cfg(feature = "axum")]
pub mod web;

pub use audited::Audited;
/// `#[derive(Audited)]`: implements [`Audited`] for a Diesel model and registers it; see
/// [`Audited`] and `docs/derive-and-migrations.md` for its options.
pub use auditrum_diesel_derive::Audited;
pub use config::AuditConfig;
pub use error::{Error, SpecError};
pub use operation::{Operation, UnknownOperation};
pub use spec::{Column, IntoTrackSpec, StorageMode, TableName, TrackSpec, TrackSpecBuilder};
pub use sql::{
    add_partitions_sql, core_schema_down_sql, core_schema_sql, install_sql, uninstall_sql,
};

/// Deprecated: moved to [`read::record_history`], which returns [`read::EventWithContext`]
/// (the one event type of every reader). This path goes in the next release.
pub mod history {
    pub use crate::read::record_history;
}

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
#[cfg(doctest)]
#[doc = include_str!("../../docs/reading.md")]
struct ReadingDoctests;
#[cfg(doctest)]
#[doc = include_str!("../../docs/hardening.md")]
struct HardeningDoctests;
#[cfg(doctest)]
#[doc = include_str!("../../docs/personal-data.md")]
struct PersonalDataDoctests;
