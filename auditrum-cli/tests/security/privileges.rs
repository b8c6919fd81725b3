//! Finding 3: `harden` checks effective privileges. (a) An app role that owns the log's
//! schema (or the database, which owns `public`) can drop the log whatever the grants:
//! `harden` refuses and `status` reports it. (b) Rights given through a group role are
//! revoked. (c) Rights `harden` cannot revoke (membership in `pg_write_all_data`) make it
//! refuse.

use diesel::connection::SimpleConnection;

use crate::{count, Scene};

#[test]
fn harden_refuses_when_the_app_owns_the_database_and_so_the_logs_schema() {
    let mut scene = Scene::new();
    let (db, app) = (scene.db.name().to_owned(), scene.app.clone());
    scene
        .operator
        .batch_execute(&format!("ALTER DATABASE \"{db}\" OWNER TO {app}"))
        .unwrap();
    let (code, _, err) = scene.run(&[
        "harden",
        "--app-role",
        &scene.app,
        "--admin-role",
        &scene.admin,
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("owns the schema public"), "{err}");
    let (code, report) = scene.status();
    assert_eq!(code, 1, "{report}");
    assert!(
        report.contains(&format!("role {app} owns the log's schema")),
        "{report}"
    );
    scene
        .operator
        .batch_execute(&format!("ALTER DATABASE \"{db}\" OWNER TO CURRENT_USER"))
        .unwrap();
}

#[test]
fn harden_revokes_what_a_group_role_gave_the_app() {
    let mut scene = Scene::new();
    let (app, group) = (scene.app.clone(), format!("{}_writers", scene.db.name()));
    scene
        .operator
        .batch_execute(&format!(
            "CREATE ROLE {group}; GRANT {group} TO {app};
             GRANT ALL ON ALL TABLES IN SCHEMA public TO {group};"
        ))
        .unwrap();
    scene
        .as_app()
        .batch_execute("INSERT INTO app.items VALUES (1, 'a')")
        .unwrap();
    let (code, report) = scene.status();
    assert_eq!(
        code, 1,
        "status reports the writers before harden: {report}"
    );
    assert!(
        report.contains(&format!("role {group} can DELETE"))
            && report.contains(&format!("role {app} can DELETE")),
        "{report}"
    );

    scene.harden();
    let mut as_app = scene.as_app();
    for attack in [
        "DELETE FROM public.auditlog",
        "UPDATE public.auditlog SET diff = NULL",
        "DELETE FROM public.auditlog_context",
        "INSERT INTO public.auditlog (operation, table_schema, table_name, txid) VALUES ('INSERT', 'app', 'items', 1)",
    ] {
        let error = as_app.batch_execute(attack).expect_err(attack).to_string();
        assert!(error.contains("permission denied"), "{attack}: {error}");
    }
    assert_eq!(
        count(&mut scene.operator, "SELECT count(*) FROM auditlog"),
        1
    );
    let (code, report) = scene.status();
    assert_eq!(code, 0, "{report}");
    scene
        .operator
        .batch_execute(&format!("DROP OWNED BY {group}; DROP ROLE {group};"))
        .unwrap();
}

#[test]
fn harden_refuses_rights_it_cannot_revoke() {
    let mut scene = Scene::new();
    let app = scene.app.clone();
    scene
        .operator
        .batch_execute(&format!("GRANT pg_write_all_data TO {app}"))
        .unwrap();
    let (code, _, err) = scene.run(&[
        "harden",
        "--app-role",
        &scene.app,
        "--admin-role",
        &scene.admin,
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("can still change the log") && err.contains(&app),
        "{err}"
    );
    let (code, report) = scene.status();
    assert_eq!(code, 1, "{report}");
    assert!(
        report.contains(&format!("role {app} can DELETE")),
        "{report}"
    );
}
