//! `/metrics`, parsed by a Prometheus text-format parser.

use std::time::Duration;

use auditrum_diesel::ops::chain;
use auditrum_diesel::AuditConfig;
use prometheus_parse::{Sample, Scrape, Value};

use super::*;

async fn scrape(server: &Server) -> Scrape {
    let reply = server.get("/metrics").await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(
        reply.header("content-type"),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    Scrape::parse(reply.body.lines().map(|l| Ok(l.to_owned()))).expect("Prometheus text format")
}

fn value(scrape: &Scrape, metric: &str, label: Option<(&str, &str)>) -> Option<f64> {
    scrape
        .samples
        .iter()
        .filter(|s: &&Sample| s.metric == metric)
        .find(|s| label.is_none_or(|(name, v)| s.labels.get(name) == Some(v)))
        .map(|s| match s.value {
            Value::Gauge(v) | Value::Counter(v) | Value::Untyped(v) => v,
            _ => panic!("{metric} is not a plain value"),
        })
}

on_both_logs!(#[tokio::test(flavor = "multi_thread", worker_threads = 2)] async metrics_estimate_events_per_table_and_operation_and_report_partitions);
async fn metrics_estimate_events_per_table_and_operation_and_report_partitions(
    config: AuditConfig,
) {
    let mut fixture = Fixture::new(&config).with_items();
    // Estimates come from the planner's statistics: what autovacuum keeps up to date.
    let analyze = format!("ANALYZE {}", fixture.log());
    exec(&mut fixture.reader, &analyze);
    let server = fixture.serve(|v| v).await;
    let scrape = scrape(&server).await;
    assert!(scrape.docs.contains_key("auditrum_table_events_estimate"));

    let table = |t| {
        value(
            &scrape,
            "auditrum_table_events_estimate",
            Some(("table", t)),
        )
    };
    assert_eq!(table("items"), Some(500.0));
    assert_eq!(table("users"), Some(5.0));
    // Seen once in the sample: not among the most common values, counted as the rest.
    assert_eq!(table("orders"), None);
    assert_eq!(table("(other)"), Some(1.0));
    let operation = |o| {
        value(
            &scrape,
            "auditrum_operation_events_estimate",
            Some(("operation", o)),
        )
    };
    assert_eq!(operation("INSERT"), Some(503.0));
    assert_eq!(operation("UPDATE"), Some(3.0));
    assert_eq!(operation("DELETE"), None);
    assert_eq!(
        value(&scrape, "auditrum_events_estimate", None),
        Some(506.0)
    );
    assert_eq!(value(&scrape, "auditrum_tracked_tables", None), Some(3.0));

    // init-schema made this month's and next month's partitions: 1 to 2 months ahead.
    let runway = value(&scrape, "auditrum_partition_runway_months", None).unwrap();
    assert!((0.0..=2.1).contains(&runway), "runway {runway}");
    assert_eq!(value(&scrape, "auditrum_partitions", None), Some(2.0));
    assert_eq!(
        value(&scrape, "auditrum_default_partition_rows", None),
        Some(0.0)
    );
    assert_eq!(
        value(&scrape, "auditrum_hash_chain_enabled", None),
        Some(0.0)
    );
    assert_eq!(
        value(&scrape, "auditrum_hash_chain_intact", None),
        None,
        "never verified"
    );

    // An event of a month without a partition lands in DEFAULT, and is counted exactly.
    exec(
        &mut fixture.reader,
        &format!(
            "INSERT INTO {} (changed_at, operation, table_schema, table_name, record_id, txid)
         VALUES ('2100-01-01', 'INSERT', 'public', 'items', '9999', 1)",
            config.qualified_table()
        ),
    );
    let scrape = super::metrics::scrape(&server).await;
    assert_eq!(
        value(&scrape, "auditrum_default_partition_rows", None),
        Some(1.0)
    );
    assert_eq!(
        value(&scrape, "auditrum_events_estimate", None),
        Some(507.0)
    );
}

on_both_logs!(#[tokio::test(flavor = "multi_thread", worker_threads = 2)] async metrics_report_the_last_hash_chain_verification);
async fn metrics_report_the_last_hash_chain_verification(config: AuditConfig) {
    let mut fixture = Fixture::new(&config);
    chain::enable(&mut fixture.reader, &config).unwrap();
    exec(
        &mut fixture.reader,
        "INSERT INTO items VALUES (1, 'one'), (2, 'two')",
    );
    exec(
        &mut fixture.reader,
        "UPDATE items SET label = 'uno' WHERE id = 1",
    );

    let verified = |scrape: &Scrape| value(scrape, "auditrum_hash_chain_intact", None);
    let server = fixture
        .serve(|v| v.verify_chain_every(Duration::from_secs(3600)))
        .await;
    let scrape = wait_for(&server, verified).await;
    assert_eq!(verified(&scrape), Some(1.0));
    assert_eq!(
        value(&scrape, "auditrum_hash_chain_breaks", None),
        Some(0.0)
    );
    assert_eq!(
        value(&scrape, "auditrum_hash_chain_enabled", None),
        Some(1.0)
    );
    assert_eq!(value(&scrape, "auditrum_hash_chain_links", None), Some(2.0));
    // The verification sealed everything first: nothing waits for its link.
    assert_eq!(
        value(&scrape, "auditrum_hash_chain_seal_lag_seconds", None),
        Some(0.0)
    );
    let at = value(
        &scrape,
        "auditrum_hash_chain_verified_timestamp_seconds",
        None,
    )
    .unwrap();
    assert!((chrono::Utc::now().timestamp() as f64 - at).abs() < 120.0);
    let status = server.get("/status").await.body;
    assert!(status.contains("intact</span> (2 links)"), "{status}");

    // Tampering, then a new viewer: its first verification finds the break.
    exec(
        &mut fixture.reader,
        &format!(
            "UPDATE {} SET new_data = '{{\"id\": 2, \"label\": \"forged\"}}' WHERE record_id = '2' AND table_name = 'items'",
            config.qualified_table()
        ),
    );
    let server = fixture
        .serve(|v| v.verify_chain_every(Duration::from_secs(3600)))
        .await;
    let scrape = wait_for(&server, verified).await;
    assert_eq!(verified(&scrape), Some(0.0));
    assert!(value(&scrape, "auditrum_hash_chain_breaks", None).unwrap() >= 1.0);
    assert_eq!(
        value(&scrape, "auditrum_hash_chain_verify_error", None),
        Some(0.0)
    );
}

/// Scrapes until `ready` gives a value (the verification thread has reported), for at
/// most 30 s.
async fn wait_for(server: &Server, ready: impl Fn(&Scrape) -> Option<f64>) -> Scrape {
    for _ in 0..300 {
        let scrape = scrape(server).await;
        if ready(&scrape).is_some() {
            return scrape;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("the viewer never reported a verification");
}
