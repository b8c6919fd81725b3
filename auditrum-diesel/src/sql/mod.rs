//! SQL generation: the core schema and per-table triggers.

mod core_schema;
mod install;
pub mod quote;
mod template;
mod triggers;

pub use core_schema::{add_partitions_sql, core_schema_down_sql, core_schema_sql};
pub use install::{install_sql, uninstall_sql};
