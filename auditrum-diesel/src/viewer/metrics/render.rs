//! The metrics as one table — name, help, samples — rendered in Prometheus' text format.

use std::fmt::Write;

use super::values::Values;

/// Samples of one metric: label values (one per label name) and values. `None` leaves the
/// metric out altogether.
type Samples = fn(&Values) -> Option<Vec<(Vec<String>, f64)>>;

/// What a metric is to Prometheus.
#[derive(Clone, Copy)]
enum Kind {
    /// Goes up and down.
    Gauge,
    /// Only goes up while the process lives (`rate()`, `increase()`).
    Counter,
}

/// One metric: its name, help text, kind, label names and samples.
struct Metric {
    name: &'static str,
    help: &'static str,
    kind: Kind,
    labels: &'static [&'static str],
    samples: Samples,
}

/// Every metric of `/metrics`, in the order they are printed.
const METRICS: &[Metric] = &[
    Metric {
        name: "auditrum_events_total",
        help: "Events committed to the audit log per table and operation, counted exactly since this process started counting (its first scrape).",
        kind: Kind::Counter,
        labels: &["table", "operation"],
        samples: |v| {
            Some(
                v.events_total
                    .iter()
                    .map(|((table, operation), n)| (vec![table.clone(), operation.clone()], *n as f64))
                    .collect(),
            )
        },
    },
    Metric {
        name: "auditrum_events_estimate",
        help: "Events in the audit log: the partitions' estimated row counts, plus the DEFAULT partition's exact count.",
        kind: Kind::Gauge,
        labels: &[],
        samples: |v| one(v.events),
    },
    Metric {
        name: "auditrum_table_events_estimate",
        help: "Events per audited table (table_name), estimated from each partition's statistics.",
        kind: Kind::Gauge,
        labels: &["table"],
        samples: |v| labelled(&v.per_table),
    },
    Metric {
        name: "auditrum_operation_events_estimate",
        help: "Events per operation, estimated from each partition's statistics.",
        kind: Kind::Gauge,
        labels: &["operation"],
        samples: |v| labelled(&v.per_operation),
    },
    Metric {
        name: "auditrum_tracked_tables",
        help: "Tables in the registry of installed specs.",
        kind: Kind::Gauge,
        labels: &[],
        samples: |v| one(v.tracked),
    },
    Metric {
        name: "auditrum_partitions",
        help: "Monthly partitions of the audit table.",
        kind: Kind::Gauge,
        labels: &[],
        samples: |v| one(v.partitions),
    },
    Metric {
        name: "auditrum_partition_runway_months",
        help: "Months from now until the end of the last monthly partition (negative: events already go to DEFAULT).",
        kind: Kind::Gauge,
        labels: &[],
        samples: |v| one(v.runway_months),
    },
    Metric {
        name: "auditrum_partitions_until_timestamp_seconds",
        help: "End of the last monthly partition (Unix time).",
        kind: Kind::Gauge,
        labels: &[],
        samples: |v| v.partitions_until.and_then(one),
    },
    Metric {
        name: "auditrum_default_partition_rows",
        help: "Events in the DEFAULT partition (their month has no partition; should be 0).",
        kind: Kind::Gauge,
        labels: &[],
        samples: |v| one(v.default_rows),
    },
    Metric {
        name: "auditrum_hash_chain_enabled",
        help: "1 when the hash chain is enabled.",
        kind: Kind::Gauge,
        labels: &[],
        samples: |v| one(v.chain_enabled),
    },
    Metric {
        name: "auditrum_hash_chain_links",
        help: "Links sealed so far (the head's sequence number).",
        kind: Kind::Gauge,
        labels: &[],
        samples: |v| v.chain_links.and_then(one),
    },
    Metric {
        name: "auditrum_hash_chain_sealed_timestamp_seconds",
        help: "When the head link was sealed (Unix time).",
        kind: Kind::Gauge,
        labels: &[],
        samples: |v| v.chain_sealed_at.and_then(one),
    },
    Metric {
        name: "auditrum_hash_chain_seal_lag_seconds",
        help: "Age of the oldest committed transaction not sealed yet (0 when all are): its events are not tamper-evident yet.",
        kind: Kind::Gauge,
        labels: &[],
        samples: |v| v.chain_seal_lag.and_then(one),
    },
    Metric {
        name: "auditrum_hash_chain_verified_timestamp_seconds",
        help: "When this viewer last verified the hash chain (Unix time).",
        kind: Kind::Gauge,
        labels: &[],
        samples: |v| v.verification.as_ref().and_then(|v| one(v.at)),
    },
    Metric {
        name: "auditrum_hash_chain_intact",
        help: "1 when the last verification found the chain intact; 0 when broken, not enabled, or not verifiable.",
        kind: Kind::Gauge,
        labels: &[],
        samples: |v| v.verification.as_ref().and_then(|v| one(v.intact)),
    },
    Metric {
        name: "auditrum_hash_chain_breaks",
        help: "Breaks the last verification found.",
        kind: Kind::Gauge,
        labels: &[],
        samples: |v| v.verification.as_ref().and_then(|v| one(v.breaks)),
    },
    Metric {
        name: "auditrum_hash_chain_verify_error",
        help: "1 when the last verification could not run.",
        kind: Kind::Gauge,
        labels: &[],
        samples: |v| v.verification.as_ref().and_then(|v| one(v.error)),
    },
];

fn one(value: f64) -> Option<Vec<(Vec<String>, f64)>> {
    Some(vec![(Vec::new(), value)])
}

/// One sample per label value, counts rounded (they are estimates).
fn labelled(values: &std::collections::BTreeMap<String, f64>) -> Option<Vec<(Vec<String>, f64)>> {
    Some(
        values
            .iter()
            .map(|(k, v)| (vec![k.clone()], v.round()))
            .collect(),
    )
}

/// The values as Prometheus' text exposition format.
pub(super) fn render(values: &Values) -> String {
    let mut out = Exposition::default();
    for metric in METRICS {
        let Some(samples) = (metric.samples)(values) else {
            continue;
        };
        out.family(metric.name, metric.help, metric.kind);
        for (values, value) in samples {
            let labels: Vec<(&str, &str)> = metric
                .labels
                .iter()
                .copied()
                .zip(values.iter().map(String::as_str))
                .collect();
            out.sample(metric.name, &labels, value);
        }
    }
    out.text
}

/// Prometheus' text exposition format.
#[derive(Default)]
struct Exposition {
    text: String,
}

impl Exposition {
    fn family(&mut self, name: &str, help: &str, kind: Kind) {
        let _ = writeln!(
            self.text,
            "# HELP {name} {}",
            help.replace('\\', "\\\\").replace('\n', "\\n")
        );
        let kind = match kind {
            Kind::Gauge => "gauge",
            Kind::Counter => "counter",
        };
        let _ = writeln!(self.text, "# TYPE {name} {kind}");
    }

    fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: f64) {
        self.text.push_str(name);
        if !labels.is_empty() {
            self.text.push('{');
            for (i, (label, v)) in labels.iter().enumerate() {
                if i > 0 {
                    self.text.push(',');
                }
                let _ = write!(self.text, "{label}=\"{}\"", escape_label(v));
            }
            self.text.push('}');
        }
        let _ = writeln!(self.text, " {value}");
    }
}

/// A label value: backslash, double quote and newline escaped.
fn escape_label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped() {
        let mut out = Exposition::default();
        out.sample("m", &[("table", "a\"b\\c\nd")], 1.0);
        assert_eq!(out.text, "m{table=\"a\\\"b\\\\c\\nd\"} 1\n");
    }
}
