//! `makemigrations` and `sync` in the standalone binary, which links no model: it writes
//! the core schema, and refuses to remove tables it cannot see.

use std::path::PathBuf;
use std::process::{Command, Output};

use auditrum_diesel::migrations::Generator;
use auditrum_diesel::registry::Registry;
use auditrum_diesel::TrackSpec;

fn cli(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_auditrum-diesel"))
        .args(args)
        .env_remove("DATABASE_URL")
        .env_remove("MIGRATION_DIRECTORY")
        .output()
        .expect("the binary runs")
}

/// A fresh directory under the system's temporary directory, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let path = std::env::temp_dir().join(format!(
            "auditrum-cli-{name}-{}-{:?}",
            std::process::id(),
            std::time::SystemTime::now()
        ));
        std::fs::create_dir_all(&path).unwrap();
        TempDir(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn folders(dir: &std::path::Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn without_models_it_writes_the_core_schema_only() {
    let dir = TempDir::new("core");
    let dir_arg = dir.0.to_str().unwrap();
    let out = cli(&["makemigrations", "--dir", dir_arg]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let written = folders(&dir.0);
    assert_eq!(written.len(), 1);
    assert!(written[0].ends_with("_auditrum_core"), "{written:?}");
    let check = cli(&["makemigrations", "--dir", dir_arg, "--check"]);
    assert_eq!(check.status.code(), Some(0));
}

#[test]
fn without_models_it_refuses_to_remove_every_audited_table() {
    let dir = TempDir::new("refuse");
    let dir_arg = dir.0.to_str().unwrap();
    let users = TrackSpec::builder("users")
        .track_only(["email"])
        .build()
        .unwrap();
    Generator::new(&dir.0, Registry::new().with(users))
        .generate("2024-05-01T12:00:00Z".parse().unwrap())
        .unwrap();
    let before = folders(&dir.0);

    for extra in [&[][..], &["--check"][..]] {
        let mut args = vec!["makemigrations", "--dir", dir_arg];
        args.extend_from_slice(extra);
        let out = cli(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains("links no audited model"), "{stderr}");
        assert!(stderr.contains("--allow-empty"), "{stderr}");
    }
    assert_eq!(folders(&dir.0), before, "nothing written");

    let out = cli(&["makemigrations", "--dir", dir_arg, "--allow-empty"]);
    assert_eq!(out.status.code(), Some(0));
    let after = folders(&dir.0);
    assert_eq!(after.len(), before.len() + 1);
    assert!(after.last().unwrap().ends_with("_auditrum_untrack_users"));
}
