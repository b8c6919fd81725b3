//! `auditrum-bench`: see `docs/performance.md`.

use std::process::ExitCode;

use auditrum_bench::{Format, Options};
use clap::Parser;

fn main() -> ExitCode {
    let options = Options::parse();
    match auditrum_bench::run(&options) {
        Ok(report) => {
            match options.format {
                Format::Text => print!("{}", report.to_text()),
                Format::Json => println!("{}", report.to_json()),
            }
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("auditrum-bench: {error}");
            ExitCode::from(error.exit_code())
        }
    }
}
