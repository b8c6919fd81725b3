//! Finding 1: code the app controls (a cast of its column type to JSON, a function its
//! condition calls) runs inside the capture. After `harden` it runs as the capture role,
//! which may only append to the log: it cannot grant the app rights on the log, make it a
//! superuser, or delete events; and `track` / `status` name that code.

use diesel::connection::SimpleConnection;

use crate::{count, truth, Scene};

/// The app's payload: tries everything with the rights it runs with, swallowing failures so
/// the audited write itself goes through.
fn payload(app: &str) -> String {
    format!(
        "BEGIN
             BEGIN EXECUTE 'ALTER ROLE {app} SUPERUSER'; EXCEPTION WHEN OTHERS THEN NULL; END;
             BEGIN EXECUTE 'GRANT ALL ON public.auditlog, public.auditlog_context TO {app}'; EXCEPTION WHEN OTHERS THEN NULL; END;
             BEGIN EXECUTE 'DELETE FROM public.auditlog'; EXCEPTION WHEN OTHERS THEN NULL; END;
             BEGIN EXECUTE 'ALTER TABLE public.auditlog OWNER TO {app}'; EXCEPTION WHEN OTHERS THEN NULL; END;"
    )
}

fn assert_no_escalation(scene: &mut Scene, events_before: i64) {
    let app = scene.app.clone();
    assert!(
        !truth(
            &mut scene.operator,
            &format!("SELECT rolsuper FROM pg_roles WHERE rolname = '{app}'")
        ),
        "the app made itself superuser"
    );
    assert!(
        !truth(
            &mut scene.operator,
            &format!("has_table_privilege('{app}', 'public.auditlog', 'UPDATE, DELETE, TRUNCATE')")
        ),
        "the app granted itself rights on the log"
    );
    let deleted = scene.as_app().batch_execute("DELETE FROM public.auditlog");
    assert!(deleted.is_err(), "the app can delete events");
    assert!(
        count(&mut scene.operator, "SELECT count(*) FROM auditlog") > events_before,
        "events were deleted from inside the capture"
    );
}

#[test]
fn an_app_cast_on_a_column_type_runs_without_the_owners_rights_and_is_named() {
    let mut scene = Scene::new();
    scene.harden();
    let app = scene.app.clone();
    let mut as_app = scene.as_app();
    as_app
        .batch_execute(&format!(
            "INSERT INTO app.items VALUES (1, 'a');
             CREATE TYPE app.tag AS ENUM ('a', 'b');
             CREATE FUNCTION app.tag_json(app.tag) RETURNS json LANGUAGE plpgsql AS $f$
             {payload}
                 RETURN to_json($1::text);
             END $f$;
             CREATE CAST (app.tag AS json) WITH FUNCTION app.tag_json(app.tag);
             ALTER TABLE app.items ALTER COLUMN body TYPE app.tag USING body::app.tag;",
            payload = payload(&app)
        ))
        .unwrap();
    let before = count(&mut scene.operator, "SELECT count(*) FROM auditlog");
    as_app
        .batch_execute(
            "INSERT INTO app.items VALUES (2, 'b'); UPDATE app.items SET body = 'b' WHERE id = 1;",
        )
        .expect("the audited writes still work");
    assert_no_escalation(&mut scene, before);

    let (code, report) = scene.status();
    assert_eq!(code, 1, "{report}");
    assert!(
        report.contains("column body has type app.tag owned by")
            && report.contains("could forge events"),
        "{report}"
    );
}

#[test]
fn a_condition_calling_an_app_function_runs_without_the_owners_rights_and_is_named() {
    let mut scene = Scene::new();
    let app = scene.app.clone();
    scene
        .as_app()
        .batch_execute(
            "CREATE FUNCTION app.keep(int) RETURNS boolean LANGUAGE sql AS 'SELECT true'",
        )
        .unwrap();
    let (code, _, warning) = scene.run(&["track", "app.items", "--condition", "app.keep(NEW.id)"]);
    assert_eq!(code, 0, "{warning}");
    assert!(
        warning.contains("warning")
            && warning.contains("its condition calls function app.keep(integer)"),
        "track names the app's function: {warning}"
    );
    scene.harden();
    // The capture role must be allowed into the function's schema (docs/hardening.md); the
    // app then swaps the function's body for its payload (it owns it).
    let mut as_app = scene.as_app();
    as_app
        .batch_execute(&format!(
            "GRANT USAGE ON SCHEMA app TO auditrum_capture_public_auditlog;
             CREATE OR REPLACE FUNCTION app.keep(int) RETURNS boolean LANGUAGE plpgsql AS $f$
             {payload}
                 RETURN true;
             END $f$;",
            payload = payload(&app)
        ))
        .unwrap();
    as_app
        .batch_execute("INSERT INTO app.items VALUES (1, 'a'); UPDATE app.items SET body = 'b';")
        .expect("the audited writes still work");
    assert_no_escalation(&mut scene, 0);
    let (code, report) = scene.status();
    assert_eq!(code, 1, "{report}");
    assert!(
        report.contains("its condition calls function app.keep(integer) owned by"),
        "{report}"
    );
}

#[test]
fn the_capture_runs_as_a_nologin_role_that_may_only_append() {
    let mut scene = Scene::new();
    scene.harden();
    let role = "auditrum_capture_public_auditlog";
    assert!(truth(
        &mut scene.operator,
        &format!(
            "SELECT bool_and(pg_get_userbyid(p.proowner) = '{role}' AND p.prosecdef)
             FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid
             WHERE t.tgrelid = 'app.items'::regclass AND NOT t.tgisinternal"
        )
    ));
    assert!(truth(
        &mut scene.operator,
        &format!("SELECT NOT rolcanlogin AND NOT rolsuper FROM pg_roles WHERE rolname = '{role}'")
    ));
    for privilege in ["UPDATE", "DELETE", "TRUNCATE"] {
        assert!(
            !truth(
                &mut scene.operator,
                &format!("has_table_privilege('{role}', 'auditlog', '{privilege}')")
            ),
            "the capture role holds {privilege}"
        );
    }
    let (code, report) = scene.status();
    assert_eq!(code, 0, "{report}");
}
