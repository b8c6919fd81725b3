//! The auditrum-diesel benchmark: the cost of capture against the unaudited write, the
//! floor (the same audit rows written directly) and a classic row-level trigger.
//!
//! Run it with `cargo run --release -p auditrum-bench -- --help`; the method and the
//! latest results are in `docs/performance.md`.

mod archive_memory;
mod args;
mod drive;
mod error;
mod measure;
mod pgbench;
mod replica_lag;
mod report;
mod run;
mod server_cpu;
mod workload;

pub use args::{Format, Options, Stage};
pub use error::BenchError;
pub use report::{Report, Row, Target};
pub use workload::{Scratch, Setup, Variant, Workload};

/// `--archive-memory` or `--replica-lag` instead of the capture benchmark: their table, or
/// `None` when neither was asked for. Each starts its own clusters (`--url` is refused).
pub fn run_scale(options: &Options) -> Option<Result<String, BenchError>> {
    if !options.archive_memory && !options.replica_lag {
        return None;
    }
    if options.url.is_some() {
        return Some(Err(BenchError::Connect(
            "--archive-memory and --replica-lag start their own clusters: drop --url".into(),
        )));
    }
    Some(if options.archive_memory {
        archive_memory::run(&options.archive_events, options.verbose)
    } else {
        replica_lag::run(options.clients, options.seconds, options.verbose)
    })
}

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
