//! Monthly partitions and the DEFAULT partition.

use auditrum_diesel::{add_partitions_sql, AuditConfig, TrackSpec};
use auditrum_integration_tests::*;

#[test]
fn writes_to_a_month_without_partition_land_in_default_and_move_out_when_it_is_added() {
    let (_db, mut conn) = audited_database();
    exec(
        &mut conn,
        "CREATE TABLE notes (id int PRIMARY KEY, body text)",
    );
    track(
        &mut conn,
        &TrackSpec::builder("notes")
            .columns(["id", "body"])
            .build()
            .unwrap(),
    );
    // Remove the current month's partition: this month's events have nowhere but DEFAULT.
    exec(
        &mut conn,
        "DO $$ BEGIN EXECUTE format('DROP TABLE auditlog_p%s', to_char(now() AT TIME ZONE 'UTC', 'YYYYMM')); END $$",
    );
    exec(&mut conn, "INSERT INTO notes VALUES (1, 'a'), (2, 'b')");
    assert_eq!(count(&mut conn, "SELECT count(*) FROM auditlog_default"), 2);

    exec(&mut conn, &add_partitions_sql(&AuditConfig::default(), 3));
    assert_eq!(
        count(&mut conn, "SELECT count(*) FROM auditlog_default"),
        0,
        "moved out of DEFAULT"
    );
    assert_eq!(
        count(
            &mut conn,
            "SELECT count(*) FROM auditlog WHERE tableoid::regclass::text = 'auditlog_p' || to_char(now() AT TIME ZONE 'UTC', 'YYYYMM')"
        ),
        2
    );
    assert_eq!(
        events(&mut conn).iter().map(|e| e.id).collect::<Vec<_>>(),
        [1, 2],
        "ids kept"
    );
    // Current month through three months ahead, plus DEFAULT; running again adds none.
    let partitions = "SELECT count(*) FROM pg_inherits WHERE inhparent = 'auditlog'::regclass";
    assert_eq!(count(&mut conn, partitions), 5);
    exec(&mut conn, &add_partitions_sql(&AuditConfig::default(), 3));
    assert_eq!(count(&mut conn, partitions), 5);
}

#[test]
fn partition_bounds_are_utc_months_whatever_the_session_time_zone() {
    let (_db, mut conn) = audited_database();
    exec(
        &mut conn,
        "DO $$ DECLARE p text; BEGIN
           FOR p IN SELECT inhrelid::regclass::text FROM pg_inherits WHERE inhparent = 'auditlog'::regclass
                    AND inhrelid <> 'auditlog_default'::regclass LOOP
             EXECUTE format('DROP TABLE %s', p);
           END LOOP; END $$;
         SET TIME ZONE 'America/New_York';",
    );
    exec(&mut conn, &add_partitions_sql(&AuditConfig::default(), 2));
    exec(&mut conn, "SET TIME ZONE 'UTC'");
    let utc_months = count(
        &mut conn,
        "SELECT count(*) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
         WHERE i.inhparent = 'auditlog'::regclass AND c.relname <> 'auditlog_default'
           AND pg_get_expr(c.relpartbound, c.oid)
               ~ '^FOR VALUES FROM \\(''\\d{4}-\\d{2}-01 00:00:00\\+00''\\) TO \\(''\\d{4}-\\d{2}-01 00:00:00\\+00''\\)$'",
    );
    assert_eq!(
        utc_months, 3,
        "three partitions, each bounded by first-of-month midnights in UTC"
    );
}
