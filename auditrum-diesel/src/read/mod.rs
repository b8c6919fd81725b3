//! Reading the log: typed events, query helpers, time travel, blame, revert and bypass
//! detection. See `docs/reading.md`.
//!
//! - [`AuditEvent`] (and [`EventWithContext`], [`EventContext`]): the audit table's rows,
//!   typed, `Queryable + Selectable` for your own Diesel queries; every reader here returns
//!   them.
//! - [`record_history`]: one record's events with their context, from a log of any name
//!   ([`record_history_with`]: and from an archive, [`ArchivedEvents`]).
//! - [`filter`]: the usual questions (a record, a table, a user, a request, a transaction,
//!   a time range, a column) as composable Diesel filters and boxed queries, each through
//!   an index, and [`Page`] for newest-first keyset pagination; [`EventSearch`] asks the
//!   same questions of a log under any name ([`AuditConfig`](crate::AuditConfig)).
//! - Time travel: [`as_of`] (a row as it was), [`table_as_of`] (a whole table, streamed),
//!   and their JSON forms for tables without a model.
//! - Blame: [`blame`] (who changed a record, when, why: one line per event) and
//!   [`field_history`] (one field's value timeline), with aligned text forms.
//! - [`revert`]: undo an event, a transaction or a request through the audited path,
//!   refusing on conflicts with later events.
//! - [`verify_history`]: bypass detection — events that do not chain, live rows that
//!   differ from the log.

mod archived;
mod blame;
mod error;
mod event;
mod event_context;
pub mod filter;
mod hashed;
mod history;
mod installed;
mod key;
/// SQL: the context of event `e`, whether it carries it itself (a statement of one row,
/// core schema 3) or points at its context row `c` (`LEFT JOIN <contexts> c ON c.id =
/// e.context_id`). Every reader takes it so; the chain's payload spells it out too
/// (`ops/chain/canonical.rs`).
pub(crate) const EVENT_CONTEXT: &str = "COALESCE(e.context, c.context)";

mod load;
mod materialize;
pub mod protected;
mod replay;
mod revert;
mod revert_guard;
mod search;
mod time_travel;
mod verify;

pub use archived::ArchivedEvents;
pub use blame::{blame, field_history, BlameLine, BlameText, FieldChange, FieldText};
pub use error::ReadError;
pub use event::{AuditEvent, EventWithContext};
pub use event_context::EventContext;
pub use filter::{EventFilter, EventPage, EventQuery, Page};
pub use hashed::hashed_events;
pub use history::{record_history, record_history_with};
pub use installed::installed_spec;
#[cfg(feature = "viewer")]
pub(crate) use installed::registered_spec;
#[cfg(feature = "viewer")]
pub(crate) use key::normalize_key;
pub use key::{KeyPart, RecordId, RecordKey};
pub use materialize::Model;
pub use revert::{revert, Conflict, RevertOptions, RevertReport, RevertStep, RevertTarget};
pub use search::EventSearch;
pub use time_travel::{
    as_of, as_of_in, as_of_json, as_of_json_with, table_as_of, table_as_of_in, table_as_of_json,
};
pub use verify::{verify_history, Finding, HistoryReport, TableCheck, VerifyOptions};
