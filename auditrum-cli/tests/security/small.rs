//! Finding 7, the smaller ones: template placeholders in CLI values, escape sequences from
//! the log on the operator's terminal.

use diesel::connection::SimpleConnection;

use crate::Scene;

#[test]
fn a_placeholder_in_a_cli_value_is_not_expanded() {
    let scene = Scene::new();
    // Before: `{{x}}` panicked (exit 101) and `{{schema}}` was replaced by the log's schema.
    for role in ["app{{x}}", "app{{schema}}"] {
        let (code, _, err) = scene.run(&["harden", "--app-role", role]);
        assert_eq!(code, 2, "{role}: {err}");
        assert!(
            err.contains(&format!("role {role} does not exist")),
            "{role}: {err}"
        );
    }
    let (code, out, err) = scene.run(&["harden", "--app-role", "app{{x}}", "--dry-run"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("'app{{x}}'"), "{out}");
}

#[test]
fn history_and_blame_do_not_print_escape_sequences_from_the_log() {
    let scene = Scene::new();
    scene.harden();
    scene
        .as_app()
        .batch_execute(
            r#"BEGIN;
               SET LOCAL auditrum.context = '{"user_id": "\u001b[2Jmallory\r", "change_reason": "\u001b[31mforged line"}';
               INSERT INTO app.items VALUES (1, E'\x1b[2J\x1b[31mforged line\r');
               COMMIT;"#,
        )
        .unwrap();
    for args in [
        &["history", "app.items", "1"][..],
        &["blame", "app.items", "1"],
        &["blame", "app.items", "1", "body"],
    ] {
        let out = scene.ok(args);
        assert!(out.contains("forged line"), "{args:?}: {out}");
        assert!(
            !out.contains('\u{1b}') && !out.contains('\r'),
            "{args:?} printed raw control characters: {out:?}"
        );
    }
}

#[test]
fn revert_refuses_tables_not_audited_and_columns_not_tracked() {
    let mut scene = Scene::new();
    scene
        .as_app()
        .batch_execute("INSERT INTO app.items VALUES (1, 'a'); UPDATE app.items SET body = 'b';")
        .unwrap();
    let update = crate::count(&mut scene.operator, "SELECT max(id) FROM auditlog").to_string();

    // The body column is no longer tracked: its old value must not be written back.
    scene.ok(&["track", "app.items", "--exclude", "body"]);
    let (code, _, err) = scene.run(&["revert", "--event", &update]);
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("column body") && err.contains("not tracked"),
        "{err}"
    );

    // The table is no longer audited at all.
    scene.ok(&["untrack", "app.items"]);
    let (code, _, err) = scene.run(&["revert", "--event", &update]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("app.items is not audited"), "{err}");
    assert_eq!(
        crate::count(
            &mut scene.operator,
            "SELECT count(*) FROM app.items WHERE body = 'b'"
        ),
        1,
        "nothing was written"
    );
}

#[test]
fn an_overlong_user_id_does_not_fail_the_write_and_is_kept() {
    let mut scene = Scene::new();
    scene.harden();
    let long = "u".repeat(5000);
    let wide = "é".repeat(2000); // 4000 bytes in 2000 characters
    scene
        .as_app()
        .batch_execute(&format!(
            r#"BEGIN; SET LOCAL auditrum.context = '{{"user_id": "{long}", "request_id": "{wide}"}}';
               INSERT INTO app.items VALUES (1, 'a'); COMMIT;"#
        ))
        .expect("a context of any size does not fail the write");
    let kept = crate::count(
        &mut scene.operator,
        &format!(
            "SELECT count(*) FROM auditlog e LEFT JOIN auditlog_context c ON c.id = e.context_id
             CROSS JOIN LATERAL (SELECT COALESCE(e.context, c.context) AS ctx) x
             WHERE x.ctx->>'user_id' = repeat('u', 512)
               AND x.ctx->'auditrum_overlong'->>'user_id' = '{long}'
               AND x.ctx->'auditrum_overlong'->>'request_id' = '{wide}'"
        ),
    );
    assert_eq!(kept, 1, "the indexed key is cut, the whole value kept");
}
