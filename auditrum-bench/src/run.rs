//! The three stages: bulk statements, single-row throughput, hash chain as the log grows.

use std::time::{Duration, Instant};

use auditrum_diesel::context::with_context;
use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection, RunQueryDsl};

use crate::args::{Options, Stage};
use crate::drive::{self, Sealer};
use crate::error::{redact, BenchError};
use crate::measure::{self, median, median_ratio};
use crate::pgbench;
use crate::report::{Report, Row};
use crate::server_cpu::Postmaster;
use crate::workload::{Scratch, Setup, Variant, Workload};

/// Rows per transaction when the chain stage fills the log up to a size.
const FILL_BATCH: u64 = 1_000;

/// One run of one variant.
#[derive(Debug, Clone, Default)]
struct Run {
    /// Seconds (bulk) or transactions per second (throughput).
    value: f64,
    /// Events in the log and its bytes on disk after the run.
    footprint: Option<(i64, i64)>,
    /// Temp-file bytes the run made the server write.
    temp_bytes: Option<i64>,
    /// Seal after the run: links, seconds.
    seal: Option<(i64, f64)>,
    /// Server stage: CPU microseconds of the whole server per transaction.
    cpu_us: Option<f64>,
}

/// Runs the benchmark against the database at `url`.
pub fn run(options: &Options, url: &str, local_server: bool) -> Result<Report, BenchError> {
    let started = Instant::now();
    let mut control = PgConnection::establish(url)
        .map_err(|e| BenchError::Connect(format!("cannot connect to {}: {e}", redact(url))))?;
    let machine = measure::machine(&mut control, local_server)?;
    if machine.postgres_version_num < 150_000 {
        progress(
            options,
            "note: PostgreSQL before 15: temp-file bytes may be reported late or not at all",
        );
    }
    let scratch = Scratch {
        schema: format!("auditrum_bench_{}", std::process::id()),
    };
    let exists = measure::bigint(
        &mut control,
        &format!(
            "SELECT count(*) FROM pg_namespace WHERE nspname = {}",
            auditrum_diesel::quote::literal(&scratch.schema)
        ),
    )?;
    if exists > 0 {
        return Err(BenchError::Run(format!(
            "schema {} already exists; not touching it",
            scratch.schema
        )));
    }
    let postmaster = Postmaster::find(&mut control);
    let mut notes = Vec::new();
    if postmaster.is_none() && options.runs(Stage::Server) {
        notes.push(
            "server CPU per transaction not measured: the server is not on this host, or this \
             role may not read its postmaster.pid (superuser or pg_read_server_files)"
                .into(),
        );
    }
    let mut bench = Bench {
        options,
        url,
        scratch,
        control,
        postmaster,
        rows: Vec::new(),
        notes,
    };
    let outcome = bench.stages();
    let dropped = bench.scratch.drop(&mut bench.control);
    outcome?;
    dropped?;
    Ok(Report::new(
        machine,
        options,
        bench.rows,
        bench.notes,
        started.elapsed().as_secs_f64(),
    ))
}

struct Bench<'a> {
    options: &'a Options,
    url: &'a str,
    scratch: Scratch,
    control: PgConnection,
    /// The local server's postmaster, for the server stage's CPU per transaction.
    postmaster: Option<Postmaster>,
    rows: Vec<Row>,
    notes: Vec<String>,
}

fn progress(options: &Options, message: &str) {
    if options.verbose {
        eprintln!("auditrum-bench: {message}");
    }
}

impl Bench<'_> {
    fn stages(&mut self) -> Result<(), BenchError> {
        if !measure::checkpoint(&mut self.control) {
            self.notes.push(
                "CHECKPOINT was refused (not a superuser): checkpoints may land inside timed runs"
                    .into(),
            );
        }
        if self.options.runs(Stage::Bulk) {
            for workload in [
                Workload::BulkUpdate,
                Workload::BulkUpdateOneColumn,
                Workload::BulkInsert,
                Workload::BulkDelete,
            ] {
                let variants = Variant::for_workload(workload);
                self.alternate(Stage::Bulk, workload, &variants, |bench, variant| {
                    bench.bulk_run(workload, variant)
                })?;
            }
        }
        if self.options.runs(Stage::Throughput) {
            for workload in [Workload::RowUpdate, Workload::RowInsert] {
                let variants = Variant::for_workload(workload);
                self.alternate(Stage::Throughput, workload, &variants, |bench, variant| {
                    bench.throughput_run(workload, variant)
                })?;
            }
        }
        if self.options.runs(Stage::Server) {
            let pgbench = pgbench::find().ok_or_else(|| {
                BenchError::Run(
                    "the server stage needs `pgbench` (Debian: package postgresql-15 or \
                     postgresql-contrib); install it or leave out --only server"
                        .into(),
                )
            })?;
            let variants = [
                Variant::Unaudited,
                Variant::Classic,
                Variant::Python,
                Variant::diff(),
            ];
            for workload in [Workload::RowUpdate, Workload::RowInsert] {
                self.alternate(Stage::Server, workload, &variants, |bench, variant| {
                    bench.server_run(&pgbench, workload, variant)
                })?;
            }
        }
        if self.options.runs(Stage::Chain) {
            self.chain_stage()?;
        }
        Ok(())
    }

    /// Runs every variant of `workload` R times, alternating A B C … A B C …, and
    /// records the rows.
    fn alternate(
        &mut self,
        stage: Stage,
        workload: Workload,
        variants: &[Variant],
        mut one: impl FnMut(&mut Self, Variant) -> Result<Run, BenchError>,
    ) -> Result<(), BenchError> {
        let mut runs: Vec<Vec<Run>> = vec![Vec::new(); variants.len()];
        for round in 0..self.options.repeat {
            for (i, &variant) in variants.iter().enumerate() {
                progress(
                    self.options,
                    &format!(
                        "{}: {} (round {}/{})",
                        workload.label(),
                        variant.label(),
                        round + 1,
                        self.options.repeat
                    ),
                );
                let run = one(self, variant)?;
                progress(self.options, &format!("  -> {:.3}", run.value));
                runs[i].push(run);
            }
        }
        let values = |variant: Variant| -> Option<Vec<f64>> {
            let i = variants.iter().position(|v| *v == variant)?;
            Some(runs[i].iter().map(|r| r.value).collect())
        };
        let unaudited = values(Variant::Unaudited).expect("always measured");
        let classic = values(Variant::Classic);
        for (i, &variant) in variants.iter().enumerate() {
            let mine: Vec<f64> = runs[i].iter().map(|r| r.value).collect();
            let floor = variant.floor().and_then(values);
            let mut row = Row::from_runs(
                stage,
                workload,
                variant,
                None,
                &runs_view(&runs[i]),
                Some(median_ratio(&mine, &unaudited)),
                floor.map(|floor| median_ratio(&mine, &floor)),
                None,
            );
            if variant.auditrum_log() {
                row.vs_classic = classic.as_ref().map(|c| median_ratio(&mine, c));
            }
            row.cpu_vs_classic = cpu_ratio(i, variants, &runs, Variant::Classic);
            row.cpu_vs_unaudited = cpu_ratio(i, variants, &runs, Variant::Unaudited);
            self.rows.push(row);
        }
        Ok(())
    }

    /// Fresh schema, table of `rows` rows, the variant installed, vacuumed, checkpointed.
    fn prepare(&mut self, workload: Workload, variant: Variant) -> Result<(), BenchError> {
        let scratch = self.scratch.clone();
        self.scratch.reset(&mut self.control)?;
        self.scratch.create_items(
            &mut self.control,
            "items",
            workload.initial_rows(self.options.rows),
        )?;
        Self::target(&scratch, variant).install(&mut self.control)?;
        self.control.batch_execute(&format!(
            "VACUUM ANALYZE {}",
            self.scratch.qualified("items")
        ))?;
        measure::checkpoint(&mut self.control);
        Ok(())
    }

    fn target(scratch: &Scratch, variant: Variant) -> Setup<'_> {
        Setup {
            scratch,
            table: "items",
            log: if variant == Variant::Classic {
                "classic_log"
            } else {
                "auditlog"
            },
            variant,
        }
    }

    fn bulk_run(&mut self, workload: Workload, variant: Variant) -> Result<Run, BenchError> {
        self.prepare(workload, variant)?;
        let scratch = self.scratch.clone();
        let sql = Self::target(&scratch, variant).statement(workload, self.options.rows, "0");
        let baseline = Self::target(&scratch, variant).footprint(&mut self.control)?;
        let mut conn = drive::connect(self.url, &self.options.session_sql())?;
        let temp_before = measure::temp_bytes(conn.inner_mut());
        let start = Instant::now();
        with_context(drive::context(0, 0), || {
            conn.transaction(|c| diesel::sql_query(&sql).execute(c).map(|_| ()))
        })?;
        let seconds = start.elapsed().as_secs_f64();
        let temp_after = measure::temp_bytes(conn.inner_mut());
        let target = Self::target(&scratch, variant);
        let seal = target
            .seal(&mut self.control)?
            .map(|(links, s)| (i64::from(links), s));
        let footprint = grown(
            Self::target(&scratch, variant).footprint(&mut self.control)?,
            baseline,
        );
        Ok(Run {
            value: seconds,
            footprint,
            temp_bytes: temp_before.zip(temp_after).map(|(b, a)| a - b),
            seal,
            cpu_us: None,
        })
    }

    fn throughput_run(&mut self, workload: Workload, variant: Variant) -> Result<Run, BenchError> {
        self.prepare(workload, variant)?;
        let scratch = self.scratch.clone();
        let baseline = Self::target(&scratch, variant).footprint(&mut self.control)?;
        let statement =
            Self::target(&scratch, variant).statement(workload, self.options.rows, "$ID");
        let driven = drive::drive(
            self.url,
            self.options.clients,
            self.options.seconds,
            self.options.rows,
            &statement,
            None,
            &self.options.session_sql(),
        )?;
        let target = Self::target(&scratch, variant);
        let seal = target
            .seal(&mut self.control)?
            .map(|(links, s)| (i64::from(links), s));
        let footprint = grown(
            Self::target(&scratch, variant).footprint(&mut self.control)?,
            baseline,
        );
        Ok(Run {
            value: driven.transactions as f64 / driven.seconds,
            footprint,
            temp_bytes: None,
            seal,
            cpu_us: None,
        })
    }

    /// Server-bound single-row transactions: pgbench, one batch per transaction.
    fn server_run(
        &mut self,
        pgbench: &std::path::PathBuf,
        workload: Workload,
        variant: Variant,
    ) -> Result<Run, BenchError> {
        self.prepare(workload, variant)?;
        let scratch = self.scratch.clone();
        let baseline = Self::target(&scratch, variant).footprint(&mut self.control)?;
        let statement =
            Self::target(&scratch, variant).statement(workload, self.options.rows, ":id");
        let script = pgbench::script(&statement, self.options.rows, variant);
        let cpu_before = self.postmaster.and_then(|p| p.cpu_seconds());
        let bench = pgbench::run(
            pgbench,
            self.url,
            &script,
            self.options.clients,
            self.options.seconds,
        )?;
        // The postmaster reaps pgbench's backends (and adds their time to its children's)
        // a moment after they exit.
        std::thread::sleep(std::time::Duration::from_millis(300));
        let cpu_after = self.postmaster.and_then(|p| p.cpu_seconds());
        let cpu_us = match (cpu_before, cpu_after, bench.transactions) {
            (Some(before), Some(after), Some(n)) if n > 0 => {
                Some((after - before) * 1e6 / n as f64)
            }
            _ => None,
        };
        let footprint = grown(
            Self::target(&scratch, variant).footprint(&mut self.control)?,
            baseline,
        );
        Ok(Run {
            value: bench.tps,
            footprint,
            temp_bytes: None,
            seal: None,
            cpu_us,
        })
    }

    /// Single-row INSERTs from `--chain-clients` clients while the log holds 0, N/2 and
    /// 5N events: unaudited, auditrum without the chain, with the chain (sealed after the
    /// run), and with the chain and a sealer running alongside.
    fn chain_stage(&mut self) -> Result<(), BenchError> {
        let scratch = self.scratch.clone();
        scratch.reset(&mut self.control)?;
        for table in ["items_u", "items_p", "items_c"] {
            scratch.create_items(&mut self.control, table, 0)?;
        }
        let plain = Variant::Auditrum {
            full: false,
            chain: false,
            sealer: false,
        };
        let chained = Variant::Auditrum {
            full: false,
            chain: true,
            sealer: false,
        };
        let sealed = Variant::Auditrum {
            full: false,
            chain: true,
            sealer: true,
        };
        let target = |variant: Variant| -> Setup<'_> {
            let (table, log) = match variant {
                Variant::Unaudited => ("items_u", "log_u"),
                Variant::Auditrum { chain: false, .. } => ("items_p", "log_p"),
                _ => ("items_c", "log_c"),
            };
            Setup {
                scratch: &scratch,
                table,
                log,
                variant,
            }
        };
        target(plain).install(&mut self.control)?;
        target(chained).install(&mut self.control)?;
        let variants = [Variant::Unaudited, plain, chained, sealed];
        let sealer = Sealer {
            config: scratch.log_config("log_c"),
            interval: Duration::from_secs_f64(self.options.seal_interval),
        };

        for size in self.options.chain_sizes() {
            progress(
                self.options,
                &format!("chain: filling the logs to {size} events"),
            );
            for variant in [plain, chained] {
                let t = target(variant);
                let events = t.footprint(&mut self.control)?.map_or(0, |(e, _)| e);
                let missing = size.saturating_sub(events.max(0) as u64);
                t.fill(&mut self.control, missing, FILL_BATCH)?;
            }
            let catch_up = target(chained).seal(&mut self.control)?;
            if let Some((links, seconds)) = catch_up {
                progress(
                    self.options,
                    &format!("chain: catch-up seal of {links} links took {seconds:.2} s"),
                );
            }
            for table in ["items_u", "items_p", "items_c", "log_p", "log_c"] {
                self.control
                    .batch_execute(&format!("VACUUM ANALYZE {}", scratch.qualified(table)))?;
            }
            measure::checkpoint(&mut self.control);
            let events_at_start = target(chained).footprint(&mut self.control)?.map(|f| f.0);
            let temp_before = measure::temp_bytes(&mut self.control);

            let mut runs: Vec<Vec<Run>> = vec![Vec::new(); variants.len()];
            for round in 0..self.options.repeat {
                for (i, &variant) in variants.iter().enumerate() {
                    progress(
                        self.options,
                        &format!(
                            "chain at {size}: {} (round {}/{})",
                            variant.label(),
                            round + 1,
                            self.options.repeat
                        ),
                    );
                    let t = target(variant);
                    let statement = t.statement(Workload::RowInsert, 0, "0");
                    let driven = drive::drive(
                        self.url,
                        self.options.chain_clients,
                        self.options.seconds,
                        1,
                        &statement,
                        (variant == sealed).then_some(&sealer),
                        &self.options.session_sql(),
                    )?;
                    let after = t.seal(&mut self.control)?;
                    // Sealing cost: the seal after the run, plus the background sealer's.
                    let seal = match (driven.sealed, after) {
                        (Some((l1, s1)), Some((l2, s2))) => Some((l1 + i64::from(l2), s1 + s2)),
                        (None, Some((l, s))) => Some((i64::from(l), s)),
                        _ => None,
                    };
                    let value = driven.transactions as f64 / driven.seconds;
                    progress(self.options, &format!("  -> {value:.0} tps"));
                    runs[i].push(Run {
                        value,
                        footprint: None,
                        temp_bytes: None,
                        seal,
                        cpu_us: None,
                    });
                }
            }
            // Clients have disconnected; their statistics are flushed at exit.
            std::thread::sleep(Duration::from_millis(500));
            let temp_after = measure::temp_bytes(&mut self.control);
            let values = |i: usize| -> Vec<f64> { runs[i].iter().map(|r| r.value).collect() };
            for (i, &variant) in variants.iter().enumerate() {
                let mut row = Row::from_runs(
                    Stage::Chain,
                    Workload::RowInsert,
                    variant,
                    Some((size, events_at_start.unwrap_or(0))),
                    &runs_view(&runs[i]),
                    Some(median_ratio(&values(i), &values(0))),
                    None,
                    variant
                        .chain()
                        .then(|| median_ratio(&values(i), &values(1))),
                );
                if i == 0 {
                    row.temp_bytes = temp_before.zip(temp_after).map(|(b, a)| (a - b) as f64);
                }
                self.rows.push(row);
            }
        }
        Ok(())
    }
}

/// Events written and bytes grown since `baseline` (the empty log after install: its
/// empty partitions and index pages are not charged to the events).
fn grown(after: Option<(i64, i64)>, baseline: Option<(i64, i64)>) -> Option<(i64, i64)> {
    let (events, bytes) = after?;
    let (events0, bytes0) = baseline.unwrap_or((0, 0));
    Some((events - events0, bytes - bytes0))
}

/// What a row needs from the runs.
pub struct RunsView {
    /// Values of the runs.
    pub values: Vec<f64>,
    /// Median bytes per event.
    pub bytes_per_event: Option<f64>,
    /// Median events per run.
    pub events: Option<f64>,
    /// Median temp bytes.
    pub temp_bytes: Option<f64>,
    /// Median seal seconds and median microseconds per link.
    pub seal: Option<(f64, f64)>,
    /// Median server CPU microseconds per transaction.
    pub cpu_us: Option<f64>,
}

/// Median of the per-round ratios of the server CPU per transaction of `variants[i]` to
/// that of `other` (`None` without CPU figures, or when `variants[i]` is `other`).
fn cpu_ratio(i: usize, variants: &[Variant], runs: &[Vec<Run>], other: Variant) -> Option<f64> {
    let j = variants
        .iter()
        .position(|v| *v == other)
        .filter(|&j| j != i)?;
    let cpu = |runs: &[Run]| -> Option<Vec<f64>> { runs.iter().map(|r| r.cpu_us).collect() };
    Some(median_ratio(&cpu(&runs[i])?, &cpu(&runs[j])?))
}

fn runs_view(runs: &[Run]) -> RunsView {
    let collect = |f: &dyn Fn(&Run) -> Option<f64>| -> Option<f64> {
        let values: Vec<f64> = runs.iter().filter_map(f).collect();
        (!values.is_empty()).then(|| median(&values))
    };
    RunsView {
        values: runs.iter().map(|r| r.value).collect(),
        bytes_per_event: collect(&|r| {
            r.footprint
                .filter(|(e, _)| *e > 0)
                .map(|(e, b)| b as f64 / e as f64)
        }),
        events: collect(&|r| r.footprint.map(|(e, _)| e as f64)),
        temp_bytes: collect(&|r| r.temp_bytes.map(|t| t as f64)),
        seal: collect(&|r| r.seal.map(|(_, s)| s)).zip(collect(&|r| {
            r.seal
                .filter(|(l, _)| *l > 0)
                .map(|(l, s)| s * 1e6 / l as f64)
        })),
        cpu_us: collect(&|r| r.cpu_us),
    }
}
