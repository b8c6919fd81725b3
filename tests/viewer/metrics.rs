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

/// `auditrum_events_total{table, operation}` of one scrape (`None`: no such series).
fn total(scrape: &Scrape, table: &str, operation: &str) -> Option<f64> {
    scrape
        .samples
        .iter()
        .filter(|s| s.metric == "auditrum_events_total")
        .find(|s| {
            s.labels.get("table") == Some(table) && s.labels.get("operation") == Some(operation)
        })
        .map(|s| match s.value {
            Value::Counter(v) => v,
            _ => panic!("auditrum_events_total is not a counter"),
        })
}

on_both_logs!(#[tokio::test(flavor = "multi_thread", worker_threads = 2)] async events_total_counts_every_committed_event_exactly_without_analyze);
async fn events_total_counts_every_committed_event_exactly_without_analyze(config: AuditConfig) {
    // 506 events before the viewer starts; no ANALYZE anywhere in this test.
    let mut fixture = Fixture::new(&config).with_items();
    let before = count(
        &mut fixture.reader,
        &format!("SELECT max(id) FROM {}", config.qualified_table()),
    );
    let server = fixture.serve(|v| v).await;

    // The first scrape starts every tracked table × operation at 0.
    let first = scrape(&server).await;
    for table in ["users", "orders", "items"] {
        for operation in ["INSERT", "UPDATE", "DELETE", "TRUNCATE"] {
            assert_eq!(
                total(&first, table, operation),
                Some(0.0),
                "{table} {operation}"
            );
        }
    }

    exec(
        &mut fixture.reader,
        "INSERT INTO items SELECT g, 'new ' || g FROM generate_series(1001, 1007) g;
         UPDATE items SET label = 'changed' WHERE id BETWEEN 1 AND 4;
         DELETE FROM items WHERE id IN (5, 6);
         UPDATE users SET name = 'Al' WHERE id = 1;
         INSERT INTO orders VALUES (11, 1, 5.00);",
    );
    // A rolled-back transaction writes nothing that counts.
    exec(
        &mut fixture.reader,
        "BEGIN; INSERT INTO items VALUES (2000, 'rolled back'); ROLLBACK;",
    );
    let second = scrape(&server).await;
    assert_eq!(total(&second, "items", "INSERT"), Some(7.0));
    assert_eq!(total(&second, "items", "UPDATE"), Some(4.0));
    assert_eq!(total(&second, "items", "DELETE"), Some(2.0));
    assert_eq!(total(&second, "users", "UPDATE"), Some(1.0));
    assert_eq!(total(&second, "orders", "INSERT"), Some(1.0));
    assert_eq!(total(&second, "users", "INSERT"), Some(0.0));

    // A transaction that takes its event ids first and commits last: a later scrape counts
    // it, although a scrape in between saw higher ids.
    let mut slow = PgConnection::establish(fixture.db.url()).unwrap();
    exec(&mut slow, "BEGIN; INSERT INTO items VALUES (3000, 'slow')");
    exec(
        &mut fixture.reader,
        "INSERT INTO items VALUES (3001, 'fast'); TRUNCATE orders;",
    );
    let third = scrape(&server).await;
    assert_eq!(
        total(&third, "items", "INSERT"),
        Some(8.0),
        "the fast one only"
    );
    assert_eq!(total(&third, "orders", "TRUNCATE"), Some(1.0));
    exec(&mut slow, "COMMIT");
    exec(&mut fixture.reader, "DELETE FROM items WHERE id = 3001");
    let fourth = scrape(&server).await;
    assert_eq!(
        total(&fourth, "items", "INSERT"),
        Some(9.0),
        "the slow one, once"
    );
    assert_eq!(total(&fourth, "items", "DELETE"), Some(3.0));
    // Nothing new: nothing more.
    let fifth = scrape(&server).await;
    assert_eq!(total(&fifth, "items", "INSERT"), Some(9.0));
    assert_eq!(total(&fifth, "items", "UPDATE"), Some(4.0));

    // The totals are the events written since the first scrape, as the log holds them.
    for (table, operation) in [
        ("items", "INSERT"),
        ("items", "UPDATE"),
        ("items", "DELETE"),
        ("users", "UPDATE"),
        ("orders", "TRUNCATE"),
    ] {
        let logged = count(
            &mut fixture.reader,
            &format!(
                "SELECT count(*) FROM {} WHERE id > {before} AND table_name = '{table}' AND operation::text = '{operation}'",
                config.qualified_table()
            ),
        );
        assert_eq!(
            Some(logged as f64),
            total(&fifth, table, operation),
            "{table} {operation}"
        );
    }
}

#[test]
fn counting_new_events_is_an_index_scan_on_txid_of_a_large_log() {
    for config in [AuditConfig::default(), other_config()] {
        let (_db, mut conn) = audited_database_with(&config);
        let log = config.qualified_table();
        // 200,000 events in 10,000 transactions, then statistics as autovacuum keeps them.
        exec(
            &mut conn,
            &format!(
                "INSERT INTO {log} (operation, table_schema, table_name, record_id, new_data, txid)
                 SELECT 'INSERT', 'public', 't' || (g % 20), g::text, '{{}}'::jsonb, 1000 + g / 20
                 FROM generate_series(1, 200000) g;
                 ANALYZE {log};"
            ),
        );
        #[derive(QueryableByName)]
        struct Line {
            #[diesel(sql_type = diesel::sql_types::Text, column_name = "QUERY PLAN")]
            line: String,
        }
        // The last scrape saw transactions up to 10,990; two were in progress.
        // ANALYZE runs it too (read-only), so the output shows what it costs.
        let plan: Vec<Line> = diesel::sql_query(format!(
            "EXPLAIN (ANALYZE, COSTS OFF) {}",
            auditrum_diesel::viewer::new_events_query(&config)
        ))
        .bind::<diesel::sql_types::BigInt, _>(10_990_i64)
        .bind::<diesel::sql_types::BigInt, _>(11_001_i64)
        .bind::<diesel::sql_types::Array<diesel::sql_types::BigInt>, _>(vec![10_900_i64, 10_950])
        .load(&mut conn)
        .unwrap();
        let plan: String = plan.into_iter().map(|l| l.line + "\n").collect();
        assert!(plan.contains("_txid_idx"), "{plan}");
        println!("{plan}");
        for scanned in plan.split("Seq Scan on ").skip(1) {
            let relation = scanned.split_whitespace().next().unwrap();
            let relation = format!("{}.{relation}", config.schema());
            let rows = count(&mut conn, &format!("SELECT count(*) FROM {relation}"));
            assert_eq!(rows, 0, "a sequential scan of {relation}\n{plan}");
        }
    }
}
