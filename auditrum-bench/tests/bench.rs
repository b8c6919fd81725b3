//! The benchmark at a tiny size against a test database: it runs every stage (the
//! server-bound one needs `pgbench`) and prints
//! every variant (numbers printed, not asserted); the floor writes exactly the audit rows
//! the trigger writes; bad arguments and an unreachable database exit 2.

use auditrum_bench::{Options, Scratch, Setup, Stage, Variant, Workload};
use auditrum_diesel::connection::AuditedConnection;
use auditrum_diesel::context::with_context;
use auditrum_diesel::context::AuditContext;
use diesel::connection::SimpleConnection;
use diesel::{Connection, QueryableByName, RunQueryDsl};

#[test]
fn tiny_run_prints_every_variant() {
    let db = auditrum_testdb::TestDatabase::new();
    let mut options = Options::for_url(db.url());
    options.rows = 300;
    options.seconds = 0.3;
    options.repeat = 1;
    options.chain_sizes = Some(vec![0, 200]);
    options.seal_interval = 0.1;
    let report = auditrum_bench::run(&options).expect("the benchmark runs");
    let text = report.to_text();
    println!("{text}");

    let expect = |stage: Stage, workload: Workload, variants: &[Variant]| {
        for variant in variants {
            let rows: Vec<_> = report
                .rows
                .iter()
                .filter(|r| {
                    r.stage == stage && r.workload == workload && r.variant_kind == *variant
                })
                .collect();
            assert!(!rows.is_empty(), "no row for {workload:?} {variant:?}");
            for row in rows {
                assert_eq!(row.runs.len(), 1, "{workload:?} {variant:?}");
                assert!(text.contains(&format!("| {} |", row.variant)));
            }
        }
    };
    for workload in [
        Workload::BulkUpdate,
        Workload::BulkUpdateOneColumn,
        Workload::BulkInsert,
        Workload::BulkDelete,
    ] {
        expect(Stage::Bulk, workload, &Variant::for_workload(workload));
    }
    for workload in [Workload::RowUpdate, Workload::RowInsert] {
        expect(
            Stage::Throughput,
            workload,
            &Variant::for_workload(workload),
        );
    }
    // Server-bound (pgbench): a run without pgbench fails loudly, never skips.
    for workload in [Workload::RowUpdate, Workload::RowInsert] {
        expect(
            Stage::Server,
            workload,
            &[
                Variant::Unaudited,
                Variant::Classic,
                Variant::Python,
                Variant::diff(),
            ],
        );
    }
    let server_ours = report
        .rows
        .iter()
        .find(|r| r.stage == Stage::Server && r.variant_kind == Variant::diff())
        .expect("a server-bound row of auditrum");
    assert!(server_ours.vs_classic.is_some(), "compared with classic");
    assert!(
        server_ours.bytes_per_event.is_some(),
        "pgbench's transactions wrote events"
    );
    let chain_rows = report
        .rows
        .iter()
        .filter(|r| r.stage == Stage::Chain)
        .count();
    assert_eq!(chain_rows, 2 * 4, "4 variants at 2 log sizes");
    assert!(text.contains("### Targets"));
    serde_json::from_str::<serde_json::Value>(&report.to_json()).expect("valid JSON");

    // Everything it made is gone.
    let mut conn = db.connect();
    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let left: Count = diesel::sql_query(
        "SELECT count(*) AS n FROM pg_namespace WHERE nspname LIKE 'auditrum_bench_%'",
    )
    .get_result(&mut conn)
    .unwrap();
    assert_eq!(left.n, 0, "the scratch schema is dropped");
}

/// The floor is only a floor if it writes what the trigger writes.
#[test]
fn floor_writes_what_the_trigger_writes() {
    let db = auditrum_testdb::TestDatabase::new();
    let mut control = db.connect();
    let scratch = Scratch {
        schema: "floor_check".into(),
    };
    #[derive(QueryableByName, Debug, PartialEq)]
    struct Event {
        #[diesel(sql_type = diesel::sql_types::Text)]
        event: String,
    }
    let cases = [
        (Workload::BulkUpdate, false),
        (Workload::BulkUpdate, true),
        (Workload::BulkUpdateOneColumn, false),
        (Workload::BulkInsert, false),
        (Workload::BulkDelete, false),
        (Workload::RowUpdate, false),
        (Workload::RowUpdate, true),
        (Workload::RowInsert, false),
    ];
    for (workload, full) in cases {
        scratch.reset(&mut control).unwrap();
        let mut events = Vec::new();
        for (table, variant) in [
            (
                "by_trigger",
                Variant::Auditrum {
                    full,
                    chain: false,
                    sealer: false,
                },
            ),
            ("by_floor", Variant::Floor { full }),
        ] {
            scratch
                .create_items(&mut control, table, workload.initial_rows(40))
                .unwrap();
            let setup = Setup {
                scratch: &scratch,
                table,
                log: &format!("log_{table}"),
                variant,
            };
            setup.install(&mut control).unwrap();
            let mut conn = AuditedConnection::establish(db.url()).unwrap();
            let sql = setup.statement(workload, 40, "7");
            with_context(AuditContext::new().user_id("u1"), || {
                conn.transaction(|c| diesel::sql_query(&sql).execute(c))
            })
            .unwrap();
            // A single-row INSERT stores now(): the two transactions differ there.
            let new_data = if workload == Workload::RowInsert {
                "e.new_data - 'updated_at'"
            } else {
                "e.new_data"
            };
            let rows: Vec<Event> = diesel::sql_query(format!(
                "SELECT jsonb_build_array(e.operation, e.table_schema, e.record_id, e.old_record_id,
                        e.diff, e.old_data, {new_data}, e.meta, e.context_id IS NULL,
                        COALESCE(e.context, c.context))::text AS event
                   FROM {} e LEFT JOIN {} c ON c.id = e.context_id
                  ORDER BY e.record_id::bigint",
                scratch.qualified(&format!("log_{table}")),
                scratch.qualified(&format!("log_{table}_context")),
            ))
            .load(&mut control)
            .unwrap();
            assert!(!rows.is_empty(), "{workload:?} full={full}: no events");
            events.push(rows);
        }
        assert_eq!(events[0], events[1], "{workload:?} full={full}");
    }
    scratch.drop(&mut control).unwrap();
}

/// The Python package's SQL, installed in the scratch schema as the benchmark does, captures
/// what the package captures (one event with its diff, the context upserted, the integer
/// user id) and creates nothing outside the scratch schema.
#[test]
fn the_python_variant_captures_as_the_package_does() {
    let db = auditrum_testdb::TestDatabase::new();
    let mut conn = db.connect();
    let scratch = Scratch {
        schema: "python_check".into(),
    };
    scratch.reset(&mut conn).unwrap();
    scratch.create_items(&mut conn, "items", 10).unwrap();
    let setup = Setup {
        scratch: &scratch,
        table: "items",
        log: "auditlog",
        variant: Variant::Python,
    };
    setup.install(&mut conn).unwrap();
    let update = setup.statement(Workload::RowUpdate, 10, "7");
    conn.batch_execute(&format!(
        "BEGIN;
         SET LOCAL auditrum.context_id = '00000000-0000-4000-8000-000000000042';
         SET LOCAL auditrum.context_metadata = '{{\"user_id\": 3, \"request_id\": \"req-1\"}}';
         {update};
         COMMIT;"
    ))
    .unwrap();
    #[derive(QueryableByName)]
    struct Captured {
        #[diesel(sql_type = diesel::sql_types::Text)]
        captured: String,
    }
    let row: Captured = diesel::sql_query(
        "SELECT jsonb_build_array(e.operation, e.object_id, e.user_id, e.context_id::text,
                (SELECT array_agg(k ORDER BY k) FROM jsonb_object_keys(e.diff) k),
                c.metadata ->> 'request_id',
                to_regclass('public.auditlog') IS NULL AND to_regclass('public.audit_context') IS NULL
                    AND to_regprocedure('public.jsonb_diff(jsonb, jsonb)') IS NULL)::text AS captured
           FROM python_check.auditlog e JOIN python_check.audit_context c ON c.id = e.context_id",
    )
    .get_result(&mut conn)
    .unwrap();
    assert_eq!(
        row.captured,
        r#"["UPDATE", "7", 3, "00000000-0000-4000-8000-000000000042", ["name", "note", "price", "qty", "updated_at"], "req-1", true]"#
    );
    scratch.drop(&mut conn).unwrap();
}

#[test]
fn bad_arguments_and_an_unreachable_database_exit_2() {
    let bench = env!("CARGO_BIN_EXE_auditrum-bench");
    let bad = std::process::Command::new(bench)
        .args(["--rows", "0"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(2));
    let unreachable = std::process::Command::new(bench)
        .args([
            "--url",
            "postgres://nobody@127.0.0.1:1/none?connect_timeout=2",
        ])
        .output()
        .unwrap();
    assert_eq!(unreachable.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&unreachable.stderr);
    assert!(stderr.contains("cannot connect to"), "{stderr}");
}

/// Runs the benchmark binary with `args`; (exit code, stdout, stderr).
fn bench(args: &[&str]) -> (Option<i32>, String, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_auditrum-bench"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn archive_memory_archives_each_size_and_reports_it() {
    let (code, out, err) = bench(&["--archive-memory", "--archive-events", "700,1500"]);
    assert_eq!(code, Some(0), "{err}");
    // One row per size; `run` fails unless the archive wrote every event.
    for size in ["| 700 |", "| 1500 |"] {
        assert!(out.contains(size), "{out}");
    }
    assert!(out.contains("peak RSS"), "{out}");
    let (code, _, err) = bench(&["--archive-memory", "--url", "postgres://x@127.0.0.1:1/x"]);
    assert_eq!(code, Some(2), "its own cluster only: {err}");
}

#[test]
fn replica_lag_replicates_the_load_and_reports_the_lag() {
    let (code, out, err) = bench(&["--replica-lag", "--seconds", "1"]);
    assert_eq!(code, Some(0), "{err}");
    // `run` fails unless the replica came to hold every event and the chain head.
    assert!(
        out.contains("an event visible on the replica after (ms)"),
        "{out}"
    );
    assert!(out.contains("the replica held all"), "{out}");
}
