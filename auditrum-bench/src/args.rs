//! Command-line options.

use clap::{Parser, ValueEnum};

/// Benchmark of auditrum-diesel's capture: unaudited, floor, classic row trigger and
/// auditrum (each storage mode, with and without the hash chain), alternated run by run.
///
/// Without `--url` it starts a throwaway PostgreSQL cluster with the server's default
/// settings (durability on) and removes it at the end. With `--url` it works in a scratch
/// schema of that database and drops it at the end.
#[derive(Debug, Clone, Parser)]
#[command(name = "auditrum-bench", version)]
pub struct Options {
    /// PostgreSQL URL of the database to benchmark in (a scratch schema is made and
    /// dropped). Default: a throwaway local cluster with default settings.
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,
    /// Rows of the bulk statements, and of the table the single-row UPDATEs hit.
    #[arg(long, default_value_t = 200_000, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub rows: u64,
    /// Concurrent clients of the single-row workloads.
    #[arg(long, default_value_t = 2, value_name = "C", value_parser = clap::value_parser!(u32).range(1..=64))]
    pub clients: u32,
    /// Concurrent clients of the hash-chain INSERT workload.
    #[arg(long, default_value_t = 4, value_name = "C", value_parser = clap::value_parser!(u32).range(1..=64))]
    pub chain_clients: u32,
    /// Seconds of each throughput run.
    #[arg(long, default_value_t = 5.0, value_name = "S", value_parser = positive_seconds)]
    pub seconds: f64,
    /// Runs of each variant (the median is reported); variants alternate A B A B.
    #[arg(long, default_value_t = 3, value_name = "R", value_parser = clap::value_parser!(u32).range(1..=100))]
    pub repeat: u32,
    /// Audit-log sizes (events) at which the hash-chain INSERT throughput is measured.
    /// Default: 0, N/2 and 5N (0, 100k and 1M at the default N).
    #[arg(long, value_name = "E,E,…", value_delimiter = ',')]
    pub chain_sizes: Option<Vec<u64>>,
    /// Seconds between two seals of the background sealer (the `+sealer` variant).
    #[arg(long, default_value_t = 1.0, value_name = "S", value_parser = positive_seconds)]
    pub seal_interval: f64,
    /// `synchronous_commit` of the measured sessions (default: the server's). `off`
    /// takes the disk's flush latency out of single-row throughput, leaving the CPU cost.
    #[arg(long, value_enum, value_name = "on|off")]
    pub synchronous_commit: Option<OnOff>,
    /// Stages to run (default: all; `server` needs `pgbench`).
    #[arg(long, value_enum, value_delimiter = ',', value_name = "STAGE,…")]
    pub only: Option<Vec<Stage>>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Also write the results (text format) into this markdown file, between the lines
    /// `<!-- results:begin -->` and `<!-- results:end -->` (docs/performance.md).
    #[arg(long, value_name = "FILE")]
    pub write_doc: Option<std::path::PathBuf>,
    /// Do not run: render the results of an earlier `--format json` run from this file.
    #[arg(long, value_name = "FILE")]
    pub from_json: Option<std::path::PathBuf>,
    /// Instead of the capture benchmark: peak RSS, time and size of `archive` for one month
    /// partition of each `--archive-events` size, on a durable local cluster
    /// (docs/scaling.md).
    #[arg(long, conflicts_with_all = ["replica_lag", "from_json", "write_doc"])]
    pub archive_memory: bool,
    /// Sizes (events in the month) of `--archive-memory`.
    #[arg(long, value_name = "E,E,…", value_delimiter = ',', default_values_t = [100_000u64, 400_000])]
    pub archive_events: Vec<u64>,
    /// Instead of the capture benchmark: the lag of an audit replica (logical replication to
    /// a second local cluster) while `--clients` clients write for `--seconds`
    /// (docs/scaling.md).
    #[arg(long, conflicts_with_all = ["from_json", "write_doc"])]
    pub replica_lag: bool,
    /// Progress lines on stderr.
    #[arg(long, short)]
    pub verbose: bool,
}

/// Part of the benchmark.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Stage {
    /// One UPDATE, one INSERT and one DELETE of N rows.
    Bulk,
    /// Single-row UPDATE and INSERT transactions from C clients.
    Throughput,
    /// Single-row INSERTs with the hash chain as the log grows.
    Chain,
    /// Single-row UPDATE and INSERT transactions server-bound: pgbench, one batch per
    /// transaction, `synchronous_commit = off`; unaudited, classic and auditrum diff.
    Server,
}

/// A boolean setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OnOff {
    /// `on`.
    On,
    /// `off`.
    Off,
}

impl Options {
    /// SQL run on every measured session before it is used.
    pub fn session_sql(&self) -> String {
        match self.synchronous_commit {
            Some(OnOff::On) => "SET synchronous_commit = on".into(),
            Some(OnOff::Off) => "SET synchronous_commit = off".into(),
            None => String::new(),
        }
    }
}

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Tables for people (markdown).
    Text,
    /// One JSON document.
    Json,
}

impl Options {
    /// Options at the defaults, for a database at `url`.
    pub fn for_url(url: &str) -> Options {
        let mut options = Options::parse_from(["auditrum-bench"]);
        options.url = Some(url.to_owned());
        options
    }

    /// The log sizes of the chain stage.
    pub fn chain_sizes(&self) -> Vec<u64> {
        let mut sizes = self
            .chain_sizes
            .clone()
            .unwrap_or_else(|| vec![0, self.rows / 2, self.rows * 5]);
        sizes.sort_unstable();
        sizes.dedup();
        sizes
    }

    /// Whether `stage` runs.
    pub fn runs(&self, stage: Stage) -> bool {
        self.only.as_ref().is_none_or(|only| only.contains(&stage))
    }
}

fn positive_seconds(value: &str) -> Result<f64, String> {
    match value.parse::<f64>() {
        Ok(seconds) if seconds.is_finite() && seconds > 0.0 && seconds <= 3600.0 => Ok(seconds),
        _ => Err(format!("`{value}` is not a number of seconds in (0, 3600]")),
    }
}
