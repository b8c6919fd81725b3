//! `auditrum-bench`: see `docs/performance.md`.

use std::process::ExitCode;

use auditrum_bench::{Format, Options};
use clap::Parser;

fn main() -> ExitCode {
    let options = Options::parse();
    if let Some(result) = auditrum_bench::run_scale(&options) {
        return match result {
            Ok(table) => {
                print!("{table}");
                ExitCode::SUCCESS
            }
            Err(error) => {
                eprintln!("auditrum-bench: {error}");
                ExitCode::from(error.exit_code())
            }
        };
    }
    let report = match &options.from_json {
        Some(path) => std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))
            .and_then(|json| auditrum_bench::Report::from_json(&json))
            .map_err(|message| (message, 2)),
        None => auditrum_bench::run(&options).map_err(|e| (e.to_string(), e.exit_code())),
    };
    match report {
        Ok(report) => {
            if let Some(path) = &options.write_doc {
                let written = std::fs::read_to_string(path)
                    .map_err(|e| e.to_string())
                    .and_then(|doc| report.into_document(&doc))
                    .and_then(|doc| std::fs::write(path, doc).map_err(|e| e.to_string()));
                if let Err(error) = written {
                    eprintln!("auditrum-bench: cannot update {}: {error}", path.display());
                    return ExitCode::from(1);
                }
            }
            match options.format {
                Format::Text => print!("{}", report.to_text()),
                Format::Json => println!("{}", report.to_json()),
            }
            ExitCode::SUCCESS
        }
        Err((message, code)) => {
            eprintln!("auditrum-bench: {message}");
            ExitCode::from(code)
        }
    }
}
