//! A write to an audited table never succeeds without its audit rows.

use auditrum_diesel::TrackSpec;
use auditrum_integration_tests::*;
use diesel::connection::SimpleConnection;

#[test]
fn a_failing_trigger_rolls_back_the_users_write() {
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
    exec(&mut conn, "INSERT INTO notes VALUES (1, 'kept')");
    // Take away every partition the event could land in: the audit insert fails.
    exec(
        &mut conn,
        "DO $$ DECLARE p text; BEGIN
           FOR p IN SELECT inhrelid::regclass::text FROM pg_inherits WHERE inhparent = 'auditlog'::regclass LOOP
             EXECUTE format('ALTER TABLE auditlog DETACH PARTITION %s', p);
           END LOOP; END $$;",
    );
    let insert = conn.batch_execute("INSERT INTO notes VALUES (2, 'lost')");
    assert!(insert.is_err(), "the audit insert has nowhere to go");
    let update = conn.batch_execute("UPDATE notes SET body = 'changed'");
    assert!(update.is_err());
    let delete = conn.batch_execute("DELETE FROM notes");
    assert!(delete.is_err());
    assert_eq!(count(&mut conn, "SELECT count(*) FROM notes"), 1);
    assert_eq!(
        count(&mut conn, "SELECT count(*) FROM notes WHERE body = 'kept'"),
        1
    );
}
