//! Reading the log: typed events, query helpers, time travel, blame, revert and bypass
//! detection. See `docs/reading.md`.
//!
//! - [`AuditEvent`] (and [`EventWithContext`], [`EventContext`]): the audit table's rows,
//!   typed, `Queryable + Selectable` for your own Diesel queries.
//! - [`filter`]: the usual questions (a record, a table, a user, a request, a transaction,
//!   a time range, a column) as composable Diesel filters and boxed queries, each through
//!   an index, and [`Page`] for newest-first keyset pagination.

mod event;
mod event_context;
pub mod filter;
mod key;

pub use event::{AuditEvent, EventWithContext};
pub use event_context::EventContext;
pub use filter::{EventFilter, EventPage, EventQuery, Page};
pub use key::{KeyPart, RecordId, RecordKey};
