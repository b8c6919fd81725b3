//! Finding 4: the owner of an audited table (the app) could disable or recreate its capture
//! triggers. harden's DDL guard refuses that to every role but the admin; what a superuser
//! still can do, `status` must see, each way of doing it. The
//! capture functions live in the log's schema, owned by the capture role, so the app cannot
//! drop or replace them even when it owns the table's schema.

use diesel::connection::SimpleConnection;

use crate::Scene;

#[test]
fn status_sees_every_way_the_app_disables_capture() {
    let scene = Scene::new();
    scene.harden();
    let function = "public.auditlog_app_items_update()";
    let attacks = [
        ("ALTER TABLE app.items ENABLE REPLICA TRIGGER auditlog_update", "fires only in replication sessions"),
        ("ALTER TABLE app.items ENABLE ALWAYS TRIGGER auditlog_update", "ENABLE ALWAYS"),
        ("ALTER TABLE app.items DISABLE TRIGGER auditlog_update", "is disabled"),
        ("DROP TRIGGER auditlog_update ON app.items", "is missing"),
        (
            "DROP TRIGGER auditlog_update ON app.items;
             CREATE TRIGGER auditlog_update AFTER INSERT ON app.items REFERENCING NEW TABLE AS new_rows
             FOR EACH STATEMENT EXECUTE FUNCTION public.auditlog_app_items_update()",
            "is not the installed AFTER UPDATE FOR EACH STATEMENT trigger",
        ),
        (
            "DROP TRIGGER auditlog_update ON app.items;
             CREATE TRIGGER auditlog_update AFTER UPDATE ON app.items FOR EACH ROW WHEN (false)
             EXECUTE FUNCTION public.auditlog_app_items_update()",
            "is not the installed AFTER UPDATE FOR EACH STATEMENT trigger",
        ),
        (
            "DROP TRIGGER auditlog_update ON app.items;
             CREATE FUNCTION app.nothing() RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NULL; END';
             CREATE TRIGGER auditlog_update AFTER UPDATE ON app.items REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
             FOR EACH STATEMENT EXECUTE FUNCTION app.nothing()",
            "does not call",
        ),
    ];
    let (code, report) = scene.status();
    assert_eq!(code, 0, "clean after harden: {report}");
    for (attack, seen) in attacks {
        // harden's DDL guard refuses it to the app, naming the admin role.
        let refused = scene
            .as_app()
            .batch_execute(attack)
            .expect_err(attack)
            .to_string();
        assert!(
            refused.contains(&format!("only the admin role {}", scene.admin)),
            "{attack}: {refused}"
        );
        // A superuser passes the guard (or switches it off): status still sees the result.
        scene
            .db
            .connect()
            .batch_execute(attack)
            .unwrap_or_else(|e| panic!("{attack}: {e}"));
        let (code, report) = scene.status();
        assert_eq!(code, 1, "{attack}: {report}");
        assert!(
            report.contains(seen),
            "{attack}: wanted {seen:?} in {report}"
        );
        // The operator puts it back.
        scene.ok(&["track", "app.items"]);
        scene
            .db
            .connect()
            .batch_execute("DROP FUNCTION IF EXISTS app.nothing()")
            .unwrap();
        let (code, report) = scene.status();
        assert_eq!(code, 0, "after re-tracking: {report}");
    }

    // The functions are out of the app's reach, although it owns the table and its schema.
    for attack in [
        format!("DROP FUNCTION {function} CASCADE"),
        format!("CREATE OR REPLACE FUNCTION {function} RETURNS trigger LANGUAGE plpgsql AS 'BEGIN RETURN NULL; END'"),
        format!("ALTER FUNCTION {function} SECURITY INVOKER"),
    ] {
        let error = scene.as_app().batch_execute(&attack).expect_err(&attack).to_string();
        assert!(
            error.contains("must be owner") || error.contains("permission denied"),
            "{attack}: {error}"
        );
    }
}
