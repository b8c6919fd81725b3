//! The results: rows per workload and variant, the targets, and their rendering.

use std::fmt::Write;

use crate::args::{Options, Stage};
use crate::measure::{self, Machine};
use crate::run::RunsView;
use crate::workload::{Variant, Workload};

/// One variant of one workload (at one log size, in the chain stage).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Row {
    /// The stage.
    pub stage: Stage,
    /// The workload.
    pub workload: Workload,
    /// The variant's name.
    pub variant: String,
    /// The variant.
    pub variant_kind: Variant,
    /// Chain stage: the log size asked for, and the events the chained log held at the
    /// start of the measurement.
    pub log_events: Option<(u64, i64)>,
    /// Seconds per statement (bulk) or transactions per second (throughput, chain).
    pub unit: String,
    /// Every run, in order.
    pub runs: Vec<f64>,
    /// Their median.
    pub median: f64,
    /// Median of the per-round ratios to the unaudited run of the same round.
    pub vs_unaudited: Option<f64>,
    /// Median of the per-round ratios to the floor run of the same storage mode.
    pub vs_floor: Option<f64>,
    /// Chain stage: median per-round ratio to auditrum without the chain.
    pub vs_unchained: Option<f64>,
    /// Median of the per-round ratios to the classic trigger's run of the same round
    /// (auditrum and floor rows).
    #[serde(default)]
    pub vs_classic: Option<f64>,
    /// Median events written per run.
    pub events: Option<f64>,
    /// Median bytes on disk per event (log tables + indexes + TOAST, for auditrum also
    /// the context table and the chain's tables, / events).
    pub bytes_per_event: Option<f64>,
    /// Median temp-file bytes written by the server during the run (chain stage: during
    /// all runs at this log size, on the `unaudited` row).
    pub temp_bytes: Option<f64>,
    /// Median seconds of the seal after the run (chain stage: plus the background
    /// sealer's time).
    pub seal_seconds: Option<f64>,
    /// Median microseconds of sealing per transaction (link).
    pub seal_us_per_transaction: Option<f64>,
    /// Server stage: median CPU microseconds of the whole server per transaction.
    #[serde(default)]
    pub server_cpu_us: Option<f64>,
    /// Server stage: median of the per-round ratios of that CPU to the classic trigger's
    /// (below 1: cheaper for the server).
    #[serde(default)]
    pub cpu_vs_classic: Option<f64>,
    /// Server stage: the same against the unaudited run.
    #[serde(default)]
    pub cpu_vs_unaudited: Option<f64>,
}

impl Row {
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn from_runs(
        stage: Stage,
        workload: Workload,
        variant: Variant,
        log_events: Option<(u64, i64)>,
        runs: &RunsView,
        vs_unaudited: Option<f64>,
        vs_floor: Option<f64>,
        vs_unchained: Option<f64>,
    ) -> Row {
        Row {
            stage,
            workload,
            variant: variant.label(),
            variant_kind: variant,
            log_events,
            unit: if stage == Stage::Bulk { "s" } else { "tps" }.into(),
            median: measure::median(&runs.values),
            runs: runs.values.clone(),
            vs_unaudited: if variant == Variant::Unaudited {
                None
            } else {
                vs_unaudited
            },
            vs_floor,
            vs_unchained,
            vs_classic: None,
            events: runs.events,
            bytes_per_event: runs.bytes_per_event,
            temp_bytes: runs.temp_bytes,
            seal_seconds: runs.seal.map(|s| s.0),
            seal_us_per_transaction: runs.seal.map(|s| s.1),
            server_cpu_us: runs.cpu_us,
            cpu_vs_classic: None,
            cpu_vs_unaudited: None,
        }
    }
}

/// A target of design.md / issue 7, with the measured figure.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Target {
    /// What is compared.
    pub name: String,
    /// The target.
    pub target: String,
    /// The measured figure.
    pub measured: String,
    /// Met? `None` when its stage did not run.
    pub met: Option<bool>,
}

/// The options that shaped the run.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct RunOptions {
    /// `--rows`.
    pub rows: u64,
    /// `--clients`.
    pub clients: u32,
    /// `--chain-clients`.
    pub chain_clients: u32,
    /// `--seconds`.
    pub seconds: f64,
    /// `--repeat`.
    pub repeat: u32,
    /// `--chain-sizes`.
    pub chain_sizes: Vec<u64>,
    /// `--seal-interval`.
    pub seal_interval: f64,
    /// `--synchronous-commit` (`None`: the server's setting).
    pub synchronous_commit: Option<crate::args::OnOff>,
}

/// Everything measured.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Report {
    /// Server and machine.
    pub machine: Machine,
    /// The options.
    pub options: RunOptions,
    /// The results.
    pub rows: Vec<Row>,
    /// The targets.
    pub targets: Vec<Target>,
    /// This process's peak resident memory (`VmHWM`), KiB.
    pub client_peak_memory_kib: Option<u64>,
    /// Wall-clock seconds of the whole benchmark.
    pub elapsed_seconds: f64,
    /// Remarks on the run.
    pub notes: Vec<String>,
}

impl Report {
    pub(crate) fn new(
        machine: Machine,
        options: &Options,
        rows: Vec<Row>,
        notes: Vec<String>,
        elapsed_seconds: f64,
    ) -> Report {
        let mut report = Report {
            machine,
            options: RunOptions {
                rows: options.rows,
                clients: options.clients,
                chain_clients: options.chain_clients,
                seconds: options.seconds,
                repeat: options.repeat,
                chain_sizes: options.chain_sizes(),
                seal_interval: options.seal_interval,
                synchronous_commit: options.synchronous_commit,
            },
            rows,
            targets: Vec::new(),
            client_peak_memory_kib: measure::peak_memory_kib(),
            elapsed_seconds,
            notes,
        };
        report.targets = report.evaluate();
        report
    }

    fn find(&self, stage: Stage, workload: Workload, variant: Variant) -> Vec<&Row> {
        self.rows
            .iter()
            .filter(|r| r.stage == stage && r.workload == workload && r.variant_kind == variant)
            .collect()
    }

    /// Server stage, auditrum diff against classic: the median per-round ratio of server
    /// CPU per transaction, and the ratio of what each adds over unaudited (medians).
    fn server_cpu(&self, workload: Workload) -> Option<(f64, f64)> {
        let cpu = |variant| -> Option<&Row> {
            self.find(Stage::Server, workload, variant)
                .into_iter()
                .next()
        };
        let ours = cpu(Variant::diff())?;
        let classic = cpu(Variant::Classic)?.server_cpu_us?;
        let unaudited = cpu(Variant::Unaudited)?.server_cpu_us?;
        let capture = (ours.server_cpu_us? - unaudited) / (classic - unaudited);
        Some((ours.cpu_vs_classic?, capture))
    }

    fn evaluate(&self) -> Vec<Target> {
        let diff = Variant::Auditrum {
            full: false,
            chain: false,
            sealer: false,
        };
        let mut targets = Vec::new();

        let bulk = self.find(Stage::Bulk, Workload::BulkUpdate, diff);
        let ratio = bulk.first().and_then(|r| r.vs_floor);
        targets.push(Target {
            name: format!(
                "bulk UPDATE of {} rows, auditrum diff vs floor",
                self.options.rows
            ),
            target: "≤ 1.30 × floor".into(),
            measured: ratio.map_or("not run".into(), |r| format!("{r:.2} × floor")),
            met: ratio.map(|r| r <= 1.3),
        });
        // Issue 14's bulk goals, against the classic trigger.
        for (workload, goal) in [
            (Workload::BulkUpdate, 0.9),
            (Workload::BulkUpdateOneColumn, 0.6),
            (Workload::BulkInsert, 0.8),
            (Workload::BulkDelete, 0.8),
        ] {
            let ratio = self
                .find(Stage::Bulk, workload, diff)
                .first()
                .and_then(|r| r.vs_classic);
            targets.push(Target {
                name: format!(
                    "{} of {} rows, auditrum diff vs classic",
                    workload.label(),
                    self.options.rows
                ),
                target: format!("≤ {goal} × classic (issue 14)"),
                measured: ratio.map_or("not run".into(), |r| format!("{r:.2} × classic")),
                met: ratio.map(|r| r <= goal),
            });
        }
        let temp = |variant| {
            self.find(Stage::Bulk, Workload::BulkUpdate, variant)
                .first()
                .and_then(|r| r.temp_bytes)
        };
        let temps = temp(diff).zip(temp(Variant::Floor { full: false }));
        targets.push(Target {
            name: "temp bytes of the bulk UPDATE, auditrum diff vs floor".into(),
            target: "no more than the floor's (issue 14)".into(),
            measured: temps.map_or("not run".into(), |(ours, floor)| {
                format!("{} vs {}", bytes(Some(ours)), bytes(Some(floor)))
            }),
            met: temps.map(|(ours, floor)| ours <= floor),
        });

        let row = self.find(Stage::Throughput, Workload::RowUpdate, diff);
        let ratio = row.first().and_then(|r| r.vs_unaudited);
        targets.push(Target {
            name: format!(
                "single-row UPDATE throughput, {} clients, auditrum diff vs unaudited",
                self.options.clients
            ),
            target: "≥ 80 %".into(),
            measured: ratio.map_or("not run".into(), |r| format!("{:.0} %", r * 100.0)),
            met: ratio.map(|r| r >= 0.8),
        });

        for (variant, what) in [
            (
                Variant::Auditrum {
                    full: false,
                    chain: true,
                    sealer: true,
                },
                "with a sealer running alongside",
            ),
            (
                Variant::Auditrum {
                    full: false,
                    chain: true,
                    sealer: false,
                },
                "sealed after the run",
            ),
        ] {
            let rows = self.find(Stage::Chain, Workload::RowInsert, variant);
            let figures: Vec<(u64, f64, f64)> = rows
                .iter()
                .filter_map(|r| Some((r.log_events?.0, r.vs_unaudited?, r.vs_unchained?)))
                .collect();
            let measured = if figures.is_empty() {
                "not run".to_owned()
            } else {
                figures
                    .iter()
                    .map(|(size, u, c)| {
                        format!(
                            "{}: {:.0} % of unaudited, {:.0} % of unchained",
                            events(*size),
                            u * 100.0,
                            c * 100.0
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("; ")
            };
            targets.push(Target {
                name: format!(
                    "hash-chain single-row INSERT throughput, {} clients, {what}",
                    self.options.chain_clients
                ),
                target: "≥ 50 % at every log size".into(),
                measured,
                met: (!figures.is_empty()).then(|| figures.iter().all(|f| f.1 >= 0.5)),
            });
            let flat = match (figures.first(), figures.last()) {
                (Some(first), Some(last)) if figures.len() > 1 => Some((first, last)),
                _ => None,
            };
            targets.push(Target {
                name: format!("… flat from the smallest to the largest log ({what})"),
                target: "ratio to unaudited at the largest size ≥ 90 % of that at the smallest"
                    .into(),
                measured: flat.map_or("not run".into(), |(first, last)| {
                    format!(
                        "{:.0} % → {:.0} % ({:.0} % of the start)",
                        first.1 * 100.0,
                        last.1 * 100.0,
                        last.1 / first.1 * 100.0
                    )
                }),
                met: flat.map(|(first, last)| last.1 >= 0.9 * first.1),
            });
        }

        for workload in [Workload::RowUpdate, Workload::RowInsert] {
            let row = self.find(Stage::Server, workload, diff);
            let figures = row
                .first()
                .and_then(|r| Some((r.vs_classic?, r.vs_unaudited?)));
            let cpu = self
                .server_cpu(workload)
                .map_or(String::new(), |(whole, capture)| {
                    format!(
                        "; server CPU per transaction {whole:.2} × classic's, the capture's own \
                     (over unaudited) {capture:.2} × classic's"
                    )
                });
            targets.push(Target {
                name: format!(
                    "{} server-bound (pgbench), {} clients, auditrum diff",
                    workload.label(),
                    self.options.clients
                ),
                target: "≥ 1.1 × classic and ≥ 70 % of unaudited".into(),
                measured: figures.map_or("not run".into(), |(c, u)| {
                    format!("{c:.2} × classic, {:.0} % of unaudited{cpu}", u * 100.0)
                }),
                met: figures.map(|(c, u)| c >= 1.1 && u >= 0.7),
            });
        }

        let mut versus = Vec::new();
        for workload in [Workload::RowUpdate, Workload::RowInsert] {
            let of = |variant| {
                self.find(Stage::Server, workload, variant)
                    .first()
                    .and_then(|r| r.vs_unaudited)
            };
            if let (Some(ours), Some(python)) = (of(diff), of(Variant::Python)) {
                versus.push((workload.label(), ours / python));
            }
        }
        targets.push(Target {
            name: "single-row server-bound (pgbench), auditrum diff vs auditrum 0.9 (Python)"
                .into(),
            target: "faster (the README's comparison)".into(),
            measured: if versus.is_empty() {
                "not run".into()
            } else {
                versus
                    .iter()
                    .map(|(label, x)| format!("{label}: {x:.2} ×"))
                    .collect::<Vec<_>>()
                    .join("; ")
            },
            met: (!versus.is_empty()).then(|| versus.iter().all(|(_, x)| *x > 1.0)),
        });

        let mut figures = Vec::new();
        let mut all_below = true;
        for (stage, workload) in [
            (Stage::Bulk, Workload::BulkUpdate),
            (Stage::Bulk, Workload::BulkUpdateOneColumn),
            (Stage::Bulk, Workload::BulkInsert),
            (Stage::Bulk, Workload::BulkDelete),
            (Stage::Throughput, Workload::RowUpdate),
            (Stage::Throughput, Workload::RowInsert),
            (Stage::Server, Workload::RowUpdate),
            (Stage::Server, Workload::RowInsert),
        ] {
            let ours = self
                .find(stage, workload, diff)
                .first()
                .and_then(|r| r.bytes_per_event);
            let classic = self
                .find(stage, workload, Variant::Classic)
                .first()
                .and_then(|r| r.bytes_per_event);
            if let (Some(ours), Some(classic)) = (ours, classic) {
                all_below &= ours < classic;
                let server = if stage == Stage::Server {
                    " (server-bound)"
                } else {
                    ""
                };
                figures.push(format!(
                    "{}{server}: {ours:.0} vs {classic:.0}",
                    workload.label()
                ));
            }
        }
        targets.push(Target {
            name: "bytes per event, auditrum diff vs classic".into(),
            target: "below the classic trigger's".into(),
            measured: if figures.is_empty() {
                "not run".into()
            } else {
                figures.join("; ")
            },
            met: (!figures.is_empty()).then_some(all_below),
        });
        targets
    }

    /// Reads a report written by [`to_json`](Self::to_json). Its targets are evaluated
    /// again from its rows, so a report saved by an older build shows this build's targets.
    pub fn from_json(json: &str) -> Result<Report, String> {
        let mut report: Report = serde_json::from_str(json)
            .map_err(|e| format!("not a report of auditrum-bench: {e}"))?;
        report.targets = report.evaluate();
        Ok(report)
    }

    /// Replaces the lines between `<!-- results:begin -->` and `<!-- results:end -->` of
    /// `document` with the text report (for a run with `--synchronous-commit off`:
    /// between `<!-- results-sync-off:begin -->` and `<!-- results-sync-off:end -->`).
    pub fn into_document(&self, document: &str) -> Result<String, String> {
        let section = match self.options.synchronous_commit {
            Some(crate::args::OnOff::Off) => "results-sync-off",
            _ => "results",
        };
        let (begin_marker, end_marker) = (
            format!("<!-- {section}:begin -->"),
            format!("<!-- {section}:end -->"),
        );
        let (begin_line, end_line) = (begin_marker.as_str(), end_marker.as_str());
        // Markers count only on a line of their own.
        let find = |marker: &str| {
            let mut offset = 0;
            document.split_inclusive('\n').find_map(|line| {
                let start = offset;
                offset += line.len();
                (line.trim_end() == marker).then_some(start)
            })
        };
        let (Some(begin), Some(end)) = (find(begin_line), find(end_line)) else {
            return Err(format!(
                "the document has no `{begin_line}` … `{end_line}` lines"
            ));
        };
        if end < begin {
            return Err(format!("`{end_line}` comes before `{begin_line}`"));
        }
        Ok(format!(
            "{}{begin_line}\n\n{}\n{}",
            &document[..begin],
            self.to_text(),
            &document[end..]
        ))
    }

    /// JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("the report serializes")
    }

    /// Markdown tables.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let m = &self.machine;
        let o = &self.options;
        let _ = writeln!(out, "### Machine and settings\n");
        let _ = writeln!(out, "- server: {}", m.postgres);
        let _ = writeln!(
            out,
            "- server location: {}",
            if m.local_throwaway_server {
                "throwaway local cluster on this machine (initdb defaults), Unix socket"
            } else {
                "the database given by --url"
            }
        );
        let _ = writeln!(
            out,
            "- client: {} cores{}",
            m.client_cores,
            m.cpu
                .as_deref()
                .map(|c| format!(" ({c})"))
                .unwrap_or_default()
        );
        let settings: Vec<String> = m.settings.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let _ = writeln!(out, "- settings: {}", settings.join(", "));
        let _ = writeln!(
            out,
            "- options: --rows {} --clients {} --chain-clients {} --seconds {} --repeat {} \
             --chain-sizes {} --seal-interval {}",
            o.rows,
            o.clients,
            o.chain_clients,
            o.seconds,
            o.repeat,
            o.chain_sizes
                .iter()
                .map(u64::to_string)
                .collect::<Vec<_>>()
                .join(","),
            o.seal_interval
        );
        let _ = writeln!(
            out,
            "- synchronous_commit of the measured sessions: {}",
            match o.synchronous_commit {
                Some(crate::args::OnOff::On) => "on (--synchronous-commit on)",
                Some(crate::args::OnOff::Off) => "off (--synchronous-commit off)",
                None => "the server's setting (above)",
            }
        );
        let _ = writeln!(
            out,
            "- client peak memory (VmHWM): {}",
            self.client_peak_memory_kib
                .map_or("unknown".into(), |k| format!(
                    "{:.1} MiB",
                    k as f64 / 1024.0
                ))
        );
        let _ = writeln!(out, "- wall time: {:.0} s", self.elapsed_seconds);
        for note in &self.notes {
            let _ = writeln!(out, "- note: {note}");
        }

        let bulk: Vec<&Row> = self
            .rows
            .iter()
            .filter(|r| r.stage == Stage::Bulk)
            .collect();
        if !bulk.is_empty() {
            let _ = writeln!(
                out,
                "\n### Bulk statements ({} rows, one statement, one transaction)\n",
                o.rows
            );
            let _ = writeln!(
                out,
                "| workload | variant | median s | runs s | × unaudited | × floor | × classic | events | bytes/event | temp bytes | seal s (µs/tx) |"
            );
            let _ = writeln!(out, "|---|---|---:|---|---:|---:|---:|---:|---:|---:|---:|");
            for r in bulk {
                let _ = writeln!(
                    out,
                    "| {} | {} | {:.3} | {} | {} | {} | {} | {} | {} | {} | {} |",
                    r.workload.label(),
                    r.variant,
                    r.median,
                    runs(&r.runs, 3),
                    times(r.vs_unaudited),
                    times(r.vs_floor),
                    times(r.vs_classic),
                    count(r.events),
                    count(r.bytes_per_event),
                    bytes(r.temp_bytes),
                    seal(r)
                );
            }
        }

        let throughput: Vec<&Row> = self
            .rows
            .iter()
            .filter(|r| r.stage == Stage::Throughput)
            .collect();
        if !throughput.is_empty() {
            let _ = writeln!(
                out,
                "\n### Single-row transactions ({} clients, {} s per run, context set per transaction)\n",
                o.clients, o.seconds
            );
            let _ = writeln!(
                out,
                "| workload | variant | median tps | runs tps | % of unaudited | × floor | bytes/event | seal s (µs/tx) |"
            );
            let _ = writeln!(out, "|---|---|---:|---|---:|---:|---:|---:|");
            for r in throughput {
                let _ = writeln!(
                    out,
                    "| {} | {} | {:.0} | {} | {} | {} | {} | {} |",
                    r.workload.label(),
                    r.variant,
                    r.median,
                    runs(&r.runs, 0),
                    percent(r.vs_unaudited),
                    times(r.vs_floor),
                    count(r.bytes_per_event),
                    seal(r)
                );
            }
        }

        let server: Vec<&Row> = self
            .rows
            .iter()
            .filter(|r| r.stage == Stage::Server)
            .collect();
        if !server.is_empty() {
            let _ = writeln!(
                out,
                "\n### Single-row transactions, server-bound (pgbench, {} clients, {} s per run, \
                 `synchronous_commit = off`, one batch per transaction, context set per transaction)\n",
                o.clients, o.seconds
            );
            let _ = writeln!(
                out,
                "| workload | variant | median tps | runs tps | % of unaudited | × classic | bytes/event \
                 | server CPU µs/tx | CPU × unaudited | CPU × classic |"
            );
            let _ = writeln!(out, "|---|---|---:|---|---:|---:|---:|---:|---:|---:|");
            for r in server {
                let _ = writeln!(
                    out,
                    "| {} | {} | {:.0} | {} | {} | {} | {} | {} | {} | {} |",
                    r.workload.label(),
                    r.variant,
                    r.median,
                    runs(&r.runs, 0),
                    percent(r.vs_unaudited),
                    times(r.vs_classic),
                    count(r.bytes_per_event),
                    count(r.server_cpu_us),
                    times(r.cpu_vs_unaudited),
                    times(r.cpu_vs_classic),
                );
            }
        }

        let chain: Vec<&Row> = self
            .rows
            .iter()
            .filter(|r| r.stage == Stage::Chain)
            .collect();
        if !chain.is_empty() {
            let _ = writeln!(
                out,
                "\n### Hash chain: single-row INSERTs as the log grows ({} clients, {} s per run)\n",
                o.chain_clients, o.seconds
            );
            let _ = writeln!(
                out,
                "| log size | events at start | variant | median tps | runs tps | % of unaudited | % of unchained | seal s (µs/tx) | server temp bytes |"
            );
            let _ = writeln!(out, "|---:|---:|---|---:|---|---:|---:|---:|---:|");
            for r in chain {
                let (size, start) = r.log_events.unwrap_or((0, 0));
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {:.0} | {} | {} | {} | {} | {} |",
                    events(size),
                    start,
                    r.variant,
                    r.median,
                    runs(&r.runs, 0),
                    percent(r.vs_unaudited),
                    percent(r.vs_unchained),
                    seal(r),
                    bytes(r.temp_bytes)
                );
            }
        }

        let _ = writeln!(out, "\n### Targets\n");
        let _ = writeln!(out, "| target | goal | measured | met |");
        let _ = writeln!(out, "|---|---|---|---|");
        for t in &self.targets {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} |",
                t.name,
                t.target,
                t.measured,
                match t.met {
                    Some(true) => "**met**",
                    Some(false) => "**not met**",
                    None => "—",
                }
            );
        }
        out
    }
}

fn events(size: u64) -> String {
    match size {
        s if s >= 1_000_000 && s % 100_000 == 0 => format!("{}M", s as f64 / 1e6),
        s if s >= 1_000 && s % 1_000 == 0 => format!("{}k", s / 1_000),
        s => s.to_string(),
    }
}

fn runs(values: &[f64], decimals: usize) -> String {
    values
        .iter()
        .map(|v| format!("{v:.decimals$}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn times(ratio: Option<f64>) -> String {
    ratio.map_or("—".into(), |r| format!("{r:.2}"))
}

fn percent(ratio: Option<f64>) -> String {
    ratio.map_or("—".into(), |r| format!("{:.0} %", r * 100.0))
}

fn count(value: Option<f64>) -> String {
    value.map_or("—".into(), |v| format!("{v:.0}"))
}

fn bytes(value: Option<f64>) -> String {
    match value {
        None => "—".into(),
        Some(b) if b >= 1024.0 * 1024.0 => format!("{:.1} MiB", b / 1024.0 / 1024.0),
        Some(b) if b >= 1024.0 => format!("{:.0} KiB", b / 1024.0),
        Some(b) => format!("{b:.0}"),
    }
}

fn seal(r: &Row) -> String {
    match (r.seal_seconds, r.seal_us_per_transaction) {
        (Some(s), Some(us)) => format!("{s:.3} ({us:.0})"),
        (Some(s), None) => format!("{s:.3}"),
        _ => "—".into(),
    }
}
