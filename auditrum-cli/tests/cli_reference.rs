//! Every subcommand the binary offers is documented in `docs/cli.md`.

use std::process::Command;

#[test]
fn every_subcommand_is_in_the_cli_reference() {
    let help = Command::new(env!("CARGO_BIN_EXE_auditrum-diesel"))
        .arg("--help")
        .output()
        .expect("the binary runs");
    let help = String::from_utf8(help.stdout).unwrap();
    let subcommands: Vec<&str> = help
        .lines()
        .skip_while(|line| !line.starts_with("Commands:"))
        .skip(1)
        .take_while(|line| !line.trim().is_empty())
        .filter_map(|line| line.split_whitespace().next())
        .filter(|name| *name != "help")
        .collect();
    assert!(subcommands.len() >= 4, "parsed the help: {help}");
    let reference = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/cli.md"))
        .expect("docs/cli.md exists");
    let missing: Vec<&&str> = subcommands
        .iter()
        .filter(|name| !reference.contains(&format!("## `{name}")))
        .collect();
    assert!(
        missing.is_empty(),
        "docs/cli.md has no section for {missing:?}"
    );
}
