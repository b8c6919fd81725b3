//! An application's own audit binary, as the docs tell users to write it: the command line
//! of `auditrum_diesel::cli`, with the application's models linked into the registry. The
//! `migrations` tests run it as a process.

mod models;

fn main() -> std::process::ExitCode {
    auditrum_diesel::cli::main()
}
