//! Errors, with the exit code they deserve.

use std::fmt;

/// Why the benchmark stopped.
#[derive(Debug)]
pub enum BenchError {
    /// The database cannot be reached or refuses us (exit 2).
    Connect(String),
    /// Something failed while benchmarking (exit 1).
    Run(String),
}

impl BenchError {
    /// The process exit code: 2 for an unreachable database, 1 for a failed run.
    pub fn exit_code(&self) -> u8 {
        match self {
            BenchError::Connect(_) => 2,
            BenchError::Run(_) => 1,
        }
    }
}

impl fmt::Display for BenchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BenchError::Connect(message) | BenchError::Run(message) => f.write_str(message),
        }
    }
}

impl std::error::Error for BenchError {}

impl From<diesel::result::Error> for BenchError {
    fn from(error: diesel::result::Error) -> Self {
        BenchError::Run(format!("database error: {error}"))
    }
}

impl From<auditrum_diesel::Error> for BenchError {
    fn from(error: auditrum_diesel::Error) -> Self {
        BenchError::Run(format!("auditrum error: {error}"))
    }
}

/// `url` with its password hidden.
pub fn redact(url: &str) -> String {
    if let Some((scheme, rest)) = url.split_once("://") {
        if let Some((userinfo, host)) = rest.split_once('@') {
            if let Some((user, _)) = userinfo.split_once(':') {
                return format!("{scheme}://{user}:***@{host}");
            }
        }
    }
    url.split_whitespace()
        .map(|part| {
            if part.starts_with("password=") {
                "password=***"
            } else {
                part
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}
