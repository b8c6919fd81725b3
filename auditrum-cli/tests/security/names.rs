//! Finding 2: a table the app names with a newline must not turn the operator's `track` /
//! `untrack` into the app's SQL (the name went unquoted into a `--` comment).

use diesel::connection::SimpleConnection;

use crate::{truth, Scene};

#[test]
fn a_table_name_with_a_newline_is_refused_by_track_and_untrack() {
    let mut scene = Scene::new();
    let app = scene.app.clone();
    let name = format!("t\nALTER ROLE {app} SUPERUSER;\n--");
    scene
        .as_app()
        .batch_execute(&format!(
            "CREATE TABLE app.\"{}\" (id int PRIMARY KEY)",
            name.replace('"', "\"\"")
        ))
        .unwrap();
    let qualified = format!("app.{name}");
    for command in ["track", "untrack"] {
        let (code, _, err) = scene.run(&[command, &qualified]);
        assert_eq!(code, 2, "{command}: {err}");
        assert!(err.contains("control character"), "{command}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
        assert!(
            !truth(
                &mut scene.operator,
                &format!("SELECT rolsuper FROM pg_roles WHERE rolname = '{app}'")
            ),
            "{command} ran the app's SQL as the operator"
        );
    }
}
