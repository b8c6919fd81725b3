//! CPU time the server spends: every process of the cluster, background workers included,
//! from Linux's `/proc`. On a shared machine, throughput moves with the neighbours' load
//! (steal time, preemption) while CPU time per transaction moves much less, and it is what
//! the users' servers pay. Only for a server on this host that this role may ask for its
//! postmaster's PID (`pg_read_file`, superuser or `pg_read_server_files`); otherwise `None`.

use diesel::PgConnection;

use crate::measure;

/// Linux reports process times in `USER_HZ` ticks, 100 per second on every architecture
/// (`sysconf(_SC_CLK_TCK)`; the kernel's own HZ does not leak into `/proc`).
const TICKS_PER_SECOND: f64 = 100.0;

/// The cluster's postmaster, found through its `postmaster.pid`.
#[derive(Debug, Clone, Copy)]
pub struct Postmaster {
    pid: u32,
}

impl Postmaster {
    /// The postmaster of the server `conn` is connected to, when it runs on this host.
    pub fn find(conn: &mut PgConnection) -> Option<Postmaster> {
        let file = measure::text(conn, "SELECT pg_read_file('postmaster.pid')").ok()?;
        let pid: u32 = file.lines().next()?.trim().parse().ok()?;
        let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).ok()?;
        // A PID of another host's server can name an unrelated process here.
        (comm.trim() == "postgres").then_some(Postmaster { pid })
    }

    /// CPU seconds so far of the postmaster, of its children that have exited (counted
    /// when the postmaster reaps them: pgbench's backends end with the run) and of its
    /// live children.
    pub fn cpu_seconds(&self) -> Option<f64> {
        let (own, reaped) = times(self.pid)?;
        let live: u64 = children(self.pid)
            .into_iter()
            .filter_map(|pid| times(pid).map(|(own, _)| own))
            .sum();
        Some((own + reaped + live) as f64 / TICKS_PER_SECOND)
    }
}

/// `(utime + stime, cutime + cstime)` of `pid`, in ticks.
fn times(pid: u32) -> Option<(u64, u64)> {
    let fields = stat_fields(pid)?;
    // Fields after the command: state is field 3, so field n is at index n - 3.
    let at = |n: usize| -> Option<u64> { fields.get(n - 3)?.parse().ok() };
    Some((at(14)? + at(15)?, at(16)? + at(17)?))
}

/// The processes whose parent is `parent`.
fn children(parent: u32) -> Vec<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&pid| {
            stat_fields(pid)
                .and_then(|fields| fields.get(4 - 3)?.parse::<u32>().ok())
                .is_some_and(|ppid| ppid == parent)
        })
        .collect()
}

/// The fields of `/proc/<pid>/stat` after the command name (which may hold spaces and
/// parentheses, so the split is at the last `)`).
fn stat_fields(pid: u32) -> Option<Vec<String>> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &stat[stat.rfind(')')? + 1..];
    Some(rest.split_whitespace().map(str::to_owned).collect())
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_this_process_times() {
        let (own, _) = super::times(std::process::id()).expect("/proc on Linux");
        // Busy until a tick is charged (10 ms of CPU), giving up after 5 s of wall time, so
        // a loaded machine that schedules this thread rarely still passes.
        let start = std::time::Instant::now();
        let mut after = own;
        while after == own && start.elapsed() < std::time::Duration::from_secs(5) {
            for _ in 0..1_000_000 {
                std::hint::black_box(0u64);
            }
            after = super::times(std::process::id()).unwrap().0;
        }
        assert!(
            after > own,
            "no CPU ticks charged in 5 s ({own} -> {after})"
        );
    }
}
