//! Clocks, statistics and what the server tells about itself.

use diesel::connection::SimpleConnection;
use diesel::{PgConnection, QueryableByName, RunQueryDsl};

use crate::error::BenchError;

/// The median (mean of the two middle values for an even count).
pub fn median(values: &[f64]) -> f64 {
    let mut sorted: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted.sort_by(f64::total_cmp);
    let mid = sorted.len() / 2;
    if sorted.len() % 2 == 1 {
        sorted[mid]
    } else {
        (sorted[mid - 1] + sorted[mid]) / 2.0
    }
}

/// The median of the ratios `a[i] / b[i]` of runs made side by side.
pub fn median_ratio(a: &[f64], b: &[f64]) -> f64 {
    let ratios: Vec<f64> = a.iter().zip(b).map(|(a, b)| a / b).collect();
    median(&ratios)
}

#[derive(QueryableByName)]
struct Text {
    #[diesel(sql_type = diesel::sql_types::Text)]
    value: String,
}

#[derive(QueryableByName)]
struct Big {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    value: i64,
}

/// The value of `sql`, a scalar query or expression, as text.
pub fn text(conn: &mut PgConnection, sql: &str) -> Result<String, BenchError> {
    Ok(diesel::sql_query(format!("SELECT ({sql})::text AS value"))
        .get_result::<Text>(conn)?
        .value)
}

/// The value of `sql`, a scalar query or expression, as a bigint.
pub fn bigint(conn: &mut PgConnection, sql: &str) -> Result<i64, BenchError> {
    Ok(
        diesel::sql_query(format!("SELECT ({sql})::bigint AS value"))
            .get_result::<Big>(conn)?
            .value,
    )
}

/// Bytes of temporary files this database has written (`pg_stat_database.temp_bytes`),
/// after flushing this backend's pending statistics. `None` when not allowed.
pub fn temp_bytes(conn: &mut PgConnection) -> Option<i64> {
    // PostgreSQL 15+: flush pending statistics when this statement ends.
    let _ = conn.batch_execute("SELECT pg_stat_force_next_flush()");
    bigint(
        conn,
        "SELECT temp_bytes FROM pg_stat_database WHERE datname = current_database()",
    )
    .ok()
}

/// Asks for a checkpoint, so that one does not land in the middle of a timed run. Needs
/// superuser (or `pg_checkpoint`); skipped quietly when refused.
pub fn checkpoint(conn: &mut PgConnection) -> bool {
    conn.batch_execute("CHECKPOINT").is_ok()
}

/// This process's peak resident memory in KiB (`VmHWM`), on Linux.
pub fn peak_memory_kib() -> Option<u64> {
    std::fs::read_to_string("/proc/self/status")
        .ok()?
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// The server and the machine.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Machine {
    /// `SELECT version()`.
    pub postgres: String,
    /// `server_version_num`.
    pub postgres_version_num: i64,
    /// Cores this client may use (`available_parallelism`); the server's too when it is
    /// the throwaway local one.
    pub client_cores: usize,
    /// Whether the server is the benchmark's own throwaway cluster on this machine.
    pub local_throwaway_server: bool,
    /// Settings that change the numbers.
    pub settings: Vec<(String, String)>,
    /// `/proc/cpuinfo`'s model name, when there is one.
    pub cpu: Option<String>,
}

/// Reads the server's version and settings.
pub fn machine(conn: &mut PgConnection, local: bool) -> Result<Machine, BenchError> {
    let postgres = text(conn, "SELECT version()")?;
    let postgres_version_num = bigint(conn, "SELECT current_setting('server_version_num')")?;
    let mut settings = Vec::new();
    for name in [
        "fsync",
        "synchronous_commit",
        "full_page_writes",
        "wal_level",
        "shared_buffers",
        "work_mem",
        "max_wal_size",
        "checkpoint_timeout",
        "data_checksums",
        "jit",
    ] {
        let value = text(
            conn,
            &format!("SELECT current_setting('{name}', true) AS value"),
        )
        .unwrap_or_else(|_| "?".into());
        settings.push((name.to_owned(), value));
    }
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find_map(|line| line.strip_prefix("model name"))
                .map(|rest| rest.trim_start_matches([' ', '\t', ':']).trim().to_owned())
        });
    Ok(Machine {
        postgres,
        postgres_version_num,
        client_cores: std::thread::available_parallelism().map_or(0, |n| n.get()),
        local_throwaway_server: local,
        settings,
        cpu,
    })
}
