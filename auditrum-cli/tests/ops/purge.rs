//! `purge`: removes exactly the events older than the cutoff, with and without dropping
//! partitions, and keeps everything newer.

use std::collections::BTreeMap;

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use diesel::PgConnection;

use crate::audited_notes;
use crate::common::{cli, count, stderr, stdout};

/// Events at `now() - k months` for k in 0..=36 but 24, and two right around the two-year cutoff
/// (an hour older, an hour newer), in monthly partitions for all of those months. Each
/// event has its own context row, as old as the event.
fn old_events(conn: &mut PgConnection) {
    conn.batch_execute(
        r#"DO $$ DECLARE m date; BEGIN
             FOR i IN 1..40 LOOP
               m := (date_trunc('month', now() AT TIME ZONE 'UTC') - make_interval(months => i))::date;
               EXECUTE format('CREATE TABLE auditlog_p%s PARTITION OF auditlog FOR VALUES FROM (%L) TO (%L)',
                 to_char(m, 'YYYYMM'), m::timestamp AT TIME ZONE 'UTC',
                 (m + interval '1 month')::timestamp AT TIME ZONE 'UTC');
             END LOOP; END $$;
           CREATE TEMP TABLE stamps AS
             SELECT (now() AT TIME ZONE 'UTC' - make_interval(months => k)) AT TIME ZONE 'UTC' AS at FROM generate_series(0, 36) k WHERE k <> 24
             UNION ALL SELECT (now() AT TIME ZONE 'UTC' - interval '2 years') AT TIME ZONE 'UTC' - interval '1 hour'
             UNION ALL SELECT (now() AT TIME ZONE 'UTC' - interval '2 years') AT TIME ZONE 'UTC' + interval '1 hour';
           WITH c AS (
             INSERT INTO auditlog_context (txid, created_at, context)
             SELECT 1000 + row_number() OVER (ORDER BY at), at, jsonb_build_object('at', at) FROM stamps
             RETURNING id, txid, created_at)
           INSERT INTO auditlog (changed_at, operation, table_schema, table_name, record_id, txid, context_id)
           SELECT created_at, 'INSERT', 'public', 'notes', id::text, txid, id FROM c;"#,
    )
    .unwrap();
}

/// Events per UTC month, and the ones that must survive a two-year purge.
fn by_month(conn: &mut PgConnection) -> BTreeMap<String, (i64, i64)> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = Text)]
        month: String,
        #[diesel(sql_type = BigInt)]
        all: i64,
        #[diesel(sql_type = BigInt)]
        newer: i64,
    }
    diesel::sql_query(
        "SELECT to_char(changed_at AT TIME ZONE 'UTC', 'YYYY-MM') AS month, count(*) AS all,
                count(*) FILTER (WHERE changed_at >= (now() AT TIME ZONE 'UTC' - interval '2 years') AT TIME ZONE 'UTC') AS newer
         FROM auditlog GROUP BY 1",
    )
    .load::<Row>(conn)
    .unwrap()
    .into_iter()
    .map(|r| (r.month, (r.all, r.newer)))
    .collect()
}

fn check_purge(extra: &[&str]) {
    let (db, mut conn) = audited_notes();
    old_events(&mut conn);
    let before = by_month(&mut conn);
    let contexts_before = count(&mut conn, "SELECT count(*) FROM auditlog_context");

    let mut args = vec!["purge", "--older-than", "2 years", "--dry-run"];
    args.extend(extra);
    let dry = cli(&args, Some(db.url()));
    assert_eq!(dry.status.code(), Some(0), "{}", stderr(&dry));
    assert_eq!(by_month(&mut conn), before, "a dry run changes nothing");

    args.retain(|a| *a != "--dry-run");
    args.extend(["--format", "json"]);
    let out = cli(&args, Some(db.url()));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let report: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();

    let after = by_month(&mut conn);
    for (month, (_, newer)) in &before {
        let kept = after.get(month).map_or(0, |(all, _)| *all);
        assert_eq!(
            kept, *newer,
            "month {month}: keeps exactly its events newer than the cutoff"
        );
    }
    let expected_removed: i64 = before.values().map(|(all, newer)| all - newer).sum();
    let dropped: i64 = report["dropped_partitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p[1].as_i64().unwrap())
        .sum();
    assert_eq!(
        report["deleted_events"].as_i64().unwrap() + dropped,
        expected_removed
    );
    // k = 25..=36 months back, and the one an hour older than two years.
    assert_eq!(expected_removed, 13);
    let contexts_after = count(&mut conn, "SELECT count(*) FROM auditlog_context");
    assert_eq!(
        contexts_before - contexts_after,
        expected_removed,
        "their contexts go too"
    );
    assert_eq!(
        count(&mut conn, "SELECT count(*) FROM auditlog_context c WHERE NOT EXISTS (SELECT FROM auditlog e WHERE e.context_id = c.id)"),
        0
    );
}

#[test]
fn purge_deletes_exactly_the_older_events() {
    check_purge(&[]);
}

#[test]
fn purge_with_drop_partitions_drops_whole_old_months_and_deletes_the_rest() {
    check_purge(&["--drop-partitions"]);
}

#[test]
fn purge_drops_only_partitions_entirely_older_than_the_cutoff() {
    let (db, mut conn) = audited_notes();
    old_events(&mut conn);
    let out = cli(
        &[
            "purge",
            "--older-than",
            "2 years",
            "--drop-partitions",
            "--format",
            "json",
        ],
        Some(db.url()),
    );
    let report: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    let dropped = report["dropped_partitions"].as_array().unwrap();
    // Partitions of the 40 months before this one were made; those ending before the
    // cutoff are the ones more than 24 full months back: 40 - 24 = 16.
    assert_eq!(dropped.len(), 16, "{report}");
    assert!(
        report["deleted_events"].as_i64().unwrap() >= 1,
        "the cutoff month is deleted row by row"
    );
}

#[test]
fn a_non_positive_interval_is_refused() {
    let (db, _conn) = audited_notes();
    for interval in ["--older-than=0 days", "--older-than=-1 year"] {
        let out = cli(&["purge", interval], Some(db.url()));
        assert_eq!(out.status.code(), Some(2), "{interval}");
        assert!(stderr(&out).contains("refused"), "{}", stderr(&out));
    }
    let out = cli(&["purge", "--older-than", "two years"], Some(db.url()));
    assert_eq!(out.status.code(), Some(2));
}
