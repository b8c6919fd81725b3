//! The `auditrum-diesel` binary: the library's command line, for database-level operations.
//!
//! It sees no models: to generate migrations from `#[derive(Audited)]` models, run
//! `auditrum_diesel::cli::main()` from a binary of the crate that defines them.

fn main() -> std::process::ExitCode {
    auditrum_diesel::cli::main()
}
