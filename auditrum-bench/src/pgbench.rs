//! Server-bound single-row transactions: `pgbench` runs a script whose every transaction is
//! one batch (`BEGIN \; SET LOCAL <context> \; <write> \; COMMIT`), so the client and the
//! round trips cost next to nothing and the figure is what the server spends per write.
//!
//! Commits do not wait for the disk (`synchronous_commit = off`, set per session through
//! `PGOPTIONS`): the server's CPU is the limit, which is what capture costs.

use std::path::PathBuf;
use std::process::{Command, Stdio};

use crate::error::BenchError;
use crate::workload::{Variant, CONTEXT_SETTING};

/// What one pgbench run did.
#[derive(Debug, Clone, Copy)]
pub struct Bench {
    /// Transactions per second (pgbench's figure without connection time).
    pub tps: f64,
    /// Transactions it completed.
    pub transactions: Option<u64>,
}

/// Where `pgbench` is: next to the server binaries, or on PATH. Debian and Ubuntu ship it
/// in `postgresql-<version>` (with `postgresql-contrib` on older releases).
pub fn find() -> Option<PathBuf> {
    let mut candidates: Vec<PathBuf> = Vec::new();
    if let Some(dir) = auditrum_testdb::pg_bindir() {
        candidates.push(dir.join("pgbench"));
    }
    if let Some(path) = std::env::var_os("PATH") {
        candidates.extend(std::env::split_paths(&path).map(|dir| dir.join("pgbench")));
    }
    candidates.into_iter().find(|path| path.is_file())
}

/// The script of one transaction: `:id` is a random row of `ids`, and each transaction
/// sets a context of its own (a web request's worth: user, request id, source, method,
/// path) the way `variant` reads it. `\;` keeps the statements in one batch.
pub fn script(statement: &str, ids: u64, variant: Variant) -> String {
    let statement = statement.split_whitespace().collect::<Vec<_>>().join(" ");
    format!(
        "\\set id random(1, {ids})\n\
         \\set request random(1, 2000000000)\n\
         \\set context random(100000000000, 999999999999)\n\
         BEGIN \\; {} \\; {statement} \\; COMMIT;\n",
        context_sql(variant)
    )
}

/// The `SET LOCAL`s of one request's context: `auditrum.context` as auditrum-diesel's
/// connection sends it; for the Python package, what its middleware sets — a context id
/// (a UUID) and the metadata, whose `user_id` is an integer there.
fn context_sql(variant: Variant) -> String {
    let request = "\"request_id\": \"req-:client_id-:request\", \"source\": \"auditrum-bench\", \
                   \"method\": \"POST\", \"path\": \"/items\"";
    match variant {
        Variant::Python => format!(
            "SET LOCAL auditrum.context_id = '00000000-0000-4000-8000-:context' \\; \
             SET LOCAL auditrum.context_metadata = '{{\"user_id\": :client_id, {request}}}'"
        ),
        _ => format!(
            "SET LOCAL {CONTEXT_SETTING} = '{{\"user_id\": \"user-:client_id\", {request}}}'"
        ),
    }
}

/// Runs `script` from `clients` clients for `seconds` against `url`.
pub fn run(
    pgbench: &PathBuf,
    url: &str,
    script: &str,
    clients: u32,
    seconds: f64,
) -> Result<Bench, BenchError> {
    let dir = std::env::temp_dir().join(format!("auditrum-bench-pgbench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)
        .map_err(|e| BenchError::Run(format!("cannot create {}: {e}", dir.display())))?;
    let file = dir.join("transaction.sql");
    std::fs::write(&file, script)
        .map_err(|e| BenchError::Run(format!("cannot write {}: {e}", file.display())))?;
    let output = Command::new(pgbench)
        .env("PGOPTIONS", "-c synchronous_commit=off")
        .args(["--no-vacuum", "--protocol=simple", "--client"])
        .arg(clients.to_string())
        .arg("--jobs")
        .arg(clients.to_string())
        .arg("--time")
        .arg(format!("{}", seconds.ceil().max(1.0) as u64))
        .arg("--file")
        .arg(&file)
        .arg(url)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| BenchError::Run(format!("cannot run {}: {e}", pgbench.display())))?;
    let _ = std::fs::remove_dir_all(&dir);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        return Err(BenchError::Run(format!(
            "pgbench failed ({}): {}",
            output.status,
            stderr.trim()
        )));
    }
    let tps = parse_tps(&stdout).ok_or_else(|| {
        BenchError::Run(format!("pgbench printed no tps line:\n{stdout}\n{stderr}"))
    })?;
    Ok(Bench {
        tps,
        transactions: parse_transactions(&stdout),
    })
}

/// `number of transactions actually processed: 12345` → 12345.
fn parse_transactions(stdout: &str) -> Option<u64> {
    stdout
        .lines()
        .find_map(|line| line.strip_prefix("number of transactions actually processed: "))?
        .split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()
}

/// `tps = 1234.567 (without initial connection time)` → 1234.567.
fn parse_tps(stdout: &str) -> Option<f64> {
    stdout
        .lines()
        .filter(|line| line.starts_with("tps = "))
        .find(|line| line.contains("without"))
        .or_else(|| stdout.lines().find(|line| line.starts_with("tps = ")))?
        .strip_prefix("tps = ")?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_the_tps_without_connection_time() {
        let out = "number of failed transactions: 0 (0.000%)\n\
                   latency average = 0.5 ms\n\
                   initial connection time = 3.1 ms\n\
                   tps = 3947.251 (without initial connection time)\n";
        assert_eq!(super::parse_tps(out), Some(3947.251));
        assert_eq!(super::parse_tps("nothing"), None);
        let out = "number of transactions actually processed: 19736\nlatency average = 0.5 ms\n";
        assert_eq!(super::parse_transactions(out), Some(19736));
        assert_eq!(super::parse_transactions("nothing"), None);
    }

    #[test]
    fn one_batch_per_transaction() {
        use crate::workload::Variant;
        let script = super::script("UPDATE t\n   SET a = 1 WHERE id = :id", 10, Variant::diff());
        let last = script.lines().last().unwrap();
        assert!(last.starts_with("BEGIN \\; SET LOCAL auditrum.context = '{"));
        assert!(last.ends_with("UPDATE t SET a = 1 WHERE id = :id \\; COMMIT;"));
        let python = super::script("UPDATE t SET a = 1", 10, Variant::Python);
        assert!(python.contains("SET LOCAL auditrum.context_id = '00000000-0000-4000-8000-:context' \\; SET LOCAL auditrum.context_metadata = '{\"user_id\": :client_id,"), "{python}");
    }
}
