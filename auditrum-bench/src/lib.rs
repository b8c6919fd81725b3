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
mod server;
mod workload;

pub use args::{Format, Options, Stage};
pub use error::BenchError;
pub use report::{Report, Row, Target};
pub use server::Cluster;
pub use workload::{Scratch, Setup, Variant, Workload};

/// Runs the benchmark: against `options.url`, or a throwaway local cluster with default
/// settings when there is none.
pub fn run(options: &Options) -> Result<Report, BenchError> {
    match &options.url {
        Some(url) => run::run(options, url, false),
        None => {
            let cluster = Cluster::start().map_err(BenchError::Connect)?;
            run::run(options, &cluster.url(), true)
        }
    }
}
