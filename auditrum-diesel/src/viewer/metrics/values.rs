//! The numbers a scrape reports, computed from what it read.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::counters::Totals;
use super::months_between;
use super::read::Reading;
use crate::viewer::chain_monitor::ChainVerification;

/// The label of the events of values too rare to be among a partition's most common.
const OTHER: &str = "(other)";

/// Every value of `/metrics`; `None` where the metric is left out.
pub(super) struct Values {
    /// Exact events per (table, operation) since the process started counting.
    pub events_total: Totals,
    pub events: f64,
    pub per_table: BTreeMap<String, f64>,
    pub per_operation: BTreeMap<String, f64>,
    pub tracked: f64,
    pub partitions: f64,
    pub runway_months: f64,
    pub partitions_until: Option<f64>,
    pub default_rows: f64,
    pub chain_enabled: f64,
    pub chain_links: Option<f64>,
    pub chain_sealed_at: Option<f64>,
    pub chain_seal_lag: Option<f64>,
    pub verification: Option<Verified>,
}

/// The last verification of the chain by this viewer.
pub(super) struct Verified {
    pub at: f64,
    pub intact: f64,
    pub breaks: f64,
    pub error: f64,
}

impl Values {
    pub fn compute(
        reading: &Reading,
        events_total: Totals,
        verification: Option<ChainVerification>,
        now: DateTime<Utc>,
    ) -> Self {
        let default_rows: i64 = reading
            .partitions
            .iter()
            .filter(|p| p.is_default)
            .filter_map(|p| p.rows)
            .sum();
        let (per_table, per_operation) = estimates(reading);
        let until = reading.partitions.iter().filter_map(|p| p.to).max();
        Values {
            events_total,
            events: (reading.analyzed_rows + default_rows as f64).round(),
            per_table,
            per_operation,
            tracked: reading.tracked as f64,
            partitions: reading.partitions.iter().filter(|p| !p.is_default).count() as f64,
            runway_months: until.map_or(0.0, |until| months_between(now, until)),
            partitions_until: until.map(|until| until.timestamp() as f64),
            default_rows: default_rows as f64,
            chain_enabled: f64::from(u8::from(reading.chain.is_some())),
            chain_links: reading.chain.as_ref().map(|c| c.last_seq as f64),
            chain_sealed_at: reading
                .chain
                .as_ref()
                .and_then(|c| c.sealed_at)
                .map(|at| at.timestamp() as f64),
            chain_seal_lag: reading.seal_lag,
            verification: verification.map(|v| Verified {
                at: v.at.timestamp() as f64,
                intact: f64::from(u8::from(v.is_intact())),
                breaks: v.breaks as f64,
                error: f64::from(u8::from(v.error.is_some())),
            }),
        }
    }
}

/// Events per table and per operation: each partition's rows times each value's frequency.
fn estimates(reading: &Reading) -> (BTreeMap<String, f64>, BTreeMap<String, f64>) {
    let mut per_table: BTreeMap<String, f64> = BTreeMap::new();
    let mut per_operation: BTreeMap<String, f64> = BTreeMap::new();
    for stats in &reading.stats {
        let target = match stats.column.as_str() {
            "table_name" => &mut per_table,
            _ => &mut per_operation,
        };
        let mut listed = 0.0;
        for (value, freq) in stats.values.iter().zip(&stats.freqs) {
            *target.entry(value.clone()).or_default() += stats.rows * f64::from(*freq);
            listed += f64::from(*freq);
        }
        // Values seen only once in the sample are never among the most common: their
        // share is what the list leaves.
        let rest = (1.0 - listed - f64::from(stats.null_frac)).max(0.0) * stats.rows;
        if rest >= 0.5 {
            *target.entry(OTHER.to_owned()).or_default() += rest;
        }
    }
    (per_table, per_operation)
}
