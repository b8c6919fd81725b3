//! The read side against a real PostgreSQL: typed events, query helpers (and the indexes
//! they use), time travel, blame, revert and bypass detection.

mod blame;
mod events;
mod explain;
mod models;
mod queries;
mod revert;
mod time_travel;
mod verify;
