//! SQL generation: the core schema and per-table triggers.

mod core_schema;
mod core_version;
pub(crate) mod hmac;
mod install;
pub(crate) mod key;
pub(crate) mod template;
mod triggers;

/// The quoting functions, also at their old path: [`crate::quote`] (a foundation module, so
/// that `config` can use it without depending on `sql`).
pub use crate::quote;

pub use core_schema::{add_partitions_sql, core_schema_down_sql, core_schema_sql};
pub(crate) use core_version::downgrade_refused_sql;
pub use core_version::{core_hash, upgrade_sql, CoreStamp, CORE_VERSION};
pub(crate) use install::{checksum, expected_triggers, ExpectedTrigger};
pub use install::{install_sql, uninstall_sql};
#[cfg(test)]
pub(crate) use triggers::MASKED_MARKER;
pub(crate) use triggers::{read_columns, shorten, trigger_names};
