//! The auditrum-diesel benchmark: the cost of capture against the unaudited write, the
//! floor (the same audit rows written directly) and a classic row-level trigger.
//!
//! Run it with `cargo run --release -p auditrum-bench -- --help`; the method and the
//! latest results are in `docs/performance.md`.

mod args;
mod drive;
mod error;
mod measure;
mod pgbench;
mod report;
mod run;
mod workload;

pub use args::{Format, Options, Stage};
pub use error::BenchError;
pub use report::{Report, Row, Target};
pub use workload::{Scratch, Setup, Variant, Workload};

/// Runs the benchmark: against `options.url`, or when there is none a throwaway local
/// cluster with PostgreSQL's default settings (`auditrum_testdb::durable_server`), stopped
/// when the process exits.
pub fn run(options: &Options) -> Result<Report, BenchError> {
    match &options.url {
        Some(url) => run::run(options, url, false),
        None => {
            let server = auditrum_testdb::durable_server().map_err(BenchError::Connect)?;
            run::run(options, &server.url_for("postgres"), true)
        }
    }
}
