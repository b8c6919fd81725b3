//! Snapshots of the generated files, so a change to them shows in review. (The `apply`
//! tests run them.)

use std::fs;
use std::path::Path;

use auditrum_diesel::migrations::Generator;
use auditrum_diesel::{core_schema_down_sql, core_schema_sql, AuditConfig, Audited};

use crate::models::{v1, v2, Membership};
use crate::{at, registry};

/// The folders written, with their files; the core schema's body, snapshotted on its own in
/// `auditrum-diesel/tests/snapshots`, is checked here and shown as a placeholder.
fn written(paths: &[std::path::PathBuf]) -> String {
    let config = AuditConfig::default();
    let mut out = String::new();
    for path in paths {
        let name = path.file_name().unwrap().to_string_lossy();
        let core = [
            ("up.sql", core_schema_sql(&config), "[core_schema_sql()]\n"),
            (
                "down.sql",
                core_schema_down_sql(&config),
                "[core_schema_down_sql()]\n",
            ),
        ];
        for (file, body, placeholder) in core {
            let mut text = fs::read_to_string(path.join(file)).unwrap();
            if name.ends_with("_auditrum_core") {
                assert!(text.contains(&body), "{name}/{file} holds the core schema");
                text = text.replace(&body, placeholder);
            }
            out.push_str(&format!("==> {name}/{file} <==\n{text}\n"));
        }
    }
    out
}

fn generate(dir: &Path, specs: Vec<auditrum_diesel::TrackSpec>, now: &str) -> String {
    let paths = Generator::new(dir, registry(specs))
        .generate(at(now))
        .unwrap();
    written(&paths)
}

#[test]
fn first_run() {
    let dir = tempfile::tempdir().unwrap();
    insta::assert_snapshot!(generate(
        dir.path(),
        vec![v1::User::track_spec(), Membership::track_spec()],
        "2024-05-01T12:00:00Z"
    ));
}

#[test]
fn changed_spec() {
    let dir = tempfile::tempdir().unwrap();
    generate(
        dir.path(),
        vec![v1::User::track_spec()],
        "2024-05-01T12:00:00Z",
    );
    insta::assert_snapshot!(generate(
        dir.path(),
        vec![v2::User::track_spec()],
        "2024-06-01T12:00:00Z"
    ));
}

#[test]
fn removed_model() {
    let dir = tempfile::tempdir().unwrap();
    generate(
        dir.path(),
        vec![v1::User::track_spec(), Membership::track_spec()],
        "2024-05-01T12:00:00Z",
    );
    insta::assert_snapshot!(generate(
        dir.path(),
        vec![v1::User::track_spec()],
        "2024-06-01T12:00:00Z"
    ));
}
