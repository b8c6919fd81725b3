//! `harden`: the app role writes audited tables and reads the log, and cannot change it.

use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};

use crate::audited_notes;
use crate::common::{cli, count, stderr, Roles};

#[test]
fn the_app_role_can_only_add_events_and_the_admin_can_purge() {
    let (db, mut conn) = audited_notes();
    let roles = Roles::create(&db, "notes");
    let (app, admin) = (roles.app.clone(), roles.admin.clone());

    for _ in 0..2 {
        let out = cli(
            &["harden", "--app-role", &app, "--admin-role", &admin],
            Some(db.url()),
        );
        assert_eq!(out.status.code(), Some(0), "re-runnable: {}", stderr(&out));
    }

    let mut as_app = PgConnection::establish(&roles.url_for(&app)).unwrap();
    as_app
        .batch_execute(
            r#"INSERT INTO notes VALUES (1, 'a');
               BEGIN; SET LOCAL auditrum.context = '{"user_id": "u"}'; UPDATE notes SET body = 'b'; COMMIT;
               DELETE FROM notes;"#,
        )
        .expect("audited writes still work through the triggers");
    assert_eq!(
        count(&mut as_app, "SELECT count(*) FROM auditlog"),
        3,
        "the app may read"
    );
    for forbidden in [
        "UPDATE auditlog SET diff = NULL",
        "DELETE FROM auditlog",
        "TRUNCATE auditlog",
        "INSERT INTO auditlog (operation, table_schema, table_name, txid) VALUES ('INSERT', 'x', 'y', 1)",
        "UPDATE auditlog_context SET context = '{}'",
        "DELETE FROM auditlog_context",
        "TRUNCATE auditlog_context",
        "DELETE FROM auditlog_default",
        "DELETE FROM auditlog_tracked",
        "SELECT auditlog_add_partitions(6)",
    ] {
        let error = as_app.batch_execute(forbidden).expect_err(forbidden).to_string();
        assert!(error.contains("permission denied"), "{forbidden}: {error}");
    }
    assert_eq!(
        count(&mut conn, "SELECT count(*) FROM auditlog"),
        3,
        "nothing changed"
    );

    // The admin maintains the log.
    let admin_url = roles.url_for(&admin);
    let partitions = cli(&["add-partitions", "--months", "4"], Some(&admin_url));
    assert_eq!(partitions.status.code(), Some(0), "{}", stderr(&partitions));
    conn.batch_execute("UPDATE auditlog SET changed_at = changed_at - interval '3 years' WHERE operation = 'INSERT'")
        .unwrap();
    let purge = cli(&["purge", "--older-than", "2 years"], Some(&admin_url));
    assert_eq!(purge.status.code(), Some(0), "{}", stderr(&purge));
    assert_eq!(count(&mut conn, "SELECT count(*) FROM auditlog"), 2);
}

#[test]
fn harden_refuses_when_the_app_role_owns_the_log_and_no_admin_is_given() {
    let (db, mut conn) = audited_notes();
    let app = format!("{}_owner", db.name());
    conn.batch_execute(&format!(
        "CREATE ROLE {app}; ALTER TABLE auditlog OWNER TO {app};"
    ))
    .unwrap();
    let out = cli(&["harden", "--app-role", &app], Some(db.url()));
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--admin-role"), "{}", stderr(&out));
    conn.batch_execute(&format!(
        "REASSIGN OWNED BY {app} TO CURRENT_USER; DROP OWNED BY {app}; DROP ROLE {app};"
    ))
    .unwrap();
}

#[test]
fn harden_names_a_missing_role() {
    let (db, _conn) = audited_notes();
    let out = cli(&["harden", "--app-role", "no_such_role_x"], Some(db.url()));
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("no_such_role_x does not exist"),
        "{}",
        stderr(&out)
    );
}
