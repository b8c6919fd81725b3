//! The `auditrum-diesel` binary.

fn main() -> std::process::ExitCode {
    auditrum_cli::main_with(std::env::args_os())
}
