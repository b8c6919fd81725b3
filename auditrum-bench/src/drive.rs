//! Concurrent clients running single-row transactions for a while, each through an
//! `AuditedConnection` with a context of its own (`BEGIN; SET LOCAL …` in one batch).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Barrier;
use std::time::{Duration, Instant};

use auditrum_diesel::connection::AuditedConnection;
use auditrum_diesel::context::{with_context, AuditContext};
use auditrum_diesel::AuditConfig;
use diesel::{Connection, PgConnection, RunQueryDsl};

use crate::error::BenchError;

/// The context of one measured transaction: about what a web request carries.
pub fn context(client: u32, n: u64) -> AuditContext {
    AuditContext::new()
        .user_id(format!("user-{client}"))
        .request_id(format!("req-{client}-{n}"))
        .source("auditrum-bench")
        .method("POST")
        .path("/items")
}

/// What a drive did.
#[derive(Debug, Clone, Default)]
pub struct Driven {
    /// Committed transactions.
    pub transactions: u64,
    /// Seconds from the start signal until the last client stopped.
    pub seconds: f64,
    /// Links made by the background sealer, and the seconds it spent sealing.
    pub sealed: Option<(i64, f64)>,
}

/// A measured session: an `AuditedConnection` with `session_sql` run on it.
pub fn connect(url: &str, session_sql: &str) -> Result<AuditedConnection, BenchError> {
    let mut conn = AuditedConnection::establish(url)
        .map_err(|e| BenchError::Run(format!("cannot connect a client: {e}")))?;
    if !session_sql.is_empty() {
        diesel::connection::SimpleConnection::batch_execute(conn.inner_mut(), session_sql)?;
    }
    Ok(conn)
}

/// A background sealer: the log's configuration and the pause between seals.
#[derive(Debug, Clone)]
pub struct Sealer {
    /// The chained log.
    pub config: AuditConfig,
    /// Pause between two seals.
    pub interval: Duration,
}

/// Runs `clients` clients for `seconds`; each transaction runs `statement(rng)`, where
/// `$ID` is replaced by a number from 1 to `ids`.
pub fn drive(
    url: &str,
    clients: u32,
    seconds: f64,
    ids: u64,
    statement: &str,
    sealer: Option<&Sealer>,
    session_sql: &str,
) -> Result<Driven, BenchError> {
    let mut connections = Vec::new();
    for _ in 0..clients {
        connections.push(connect(url, session_sql)?);
    }
    let mut sealer_connection = match sealer {
        Some(_) => Some(
            PgConnection::establish(url)
                .map_err(|e| BenchError::Run(format!("cannot connect the sealer: {e}")))?,
        ),
        None => None,
    };
    let start_line = Barrier::new(clients as usize + 1);
    let done = AtomicBool::new(false);
    let duration = Duration::from_secs_f64(seconds);
    let has_id = statement.contains("$ID");

    std::thread::scope(|scope| {
        let workers: Vec<_> = connections
            .into_iter()
            .enumerate()
            .map(|(client, mut conn)| {
                let start_line = &start_line;
                scope.spawn(move || -> Result<(u64, Instant), BenchError> {
                    let client = client as u32;
                    let mut rng = 0x9E37_79B9_7F4A_7C15_u64
                        ^ (u64::from(client) + 1).wrapping_mul(0xBF58_476D_1CE4_E5B9);
                    start_line.wait();
                    let deadline = Instant::now() + duration;
                    let mut n = 0;
                    while Instant::now() < deadline {
                        let sql = if has_id {
                            rng ^= rng << 13;
                            rng ^= rng >> 7;
                            rng ^= rng << 17;
                            statement.replace("$ID", &(1 + rng % ids.max(1)).to_string())
                        } else {
                            statement.to_owned()
                        };
                        with_context(context(client, n), || {
                            conn.transaction(|c| diesel::sql_query(&sql).execute(c).map(|_| ()))
                        })
                        .map_err(|e| BenchError::Run(format!("client {client}: {e}")))?;
                        n += 1;
                    }
                    Ok((n, Instant::now()))
                })
            })
            .collect();
        let sealing = match (sealer, sealer_connection.as_mut()) {
            (Some(sealer), Some(conn)) => {
                let done = &done;
                Some(scope.spawn(move || -> Result<(i64, f64), BenchError> {
                    let (mut links, mut busy) = (0_i64, 0.0);
                    let mut next = Instant::now() + sealer.interval;
                    while !done.load(Ordering::Relaxed) {
                        if Instant::now() < next {
                            std::thread::sleep(Duration::from_millis(10));
                            continue;
                        }
                        let started = Instant::now();
                        links +=
                            i64::from(auditrum_diesel::ops::chain::seal(conn, &sealer.config)?);
                        busy += started.elapsed().as_secs_f64();
                        next = Instant::now() + sealer.interval;
                    }
                    Ok((links, busy))
                }))
            }
            _ => None,
        };
        start_line.wait();
        let started = Instant::now();
        let mut driven = Driven::default();
        let mut failure = None;
        let mut last = started;
        for worker in workers {
            match worker.join().expect("client thread panicked") {
                Ok((n, finished)) => {
                    driven.transactions += n;
                    last = last.max(finished);
                }
                Err(error) => failure = Some(error),
            }
        }
        done.store(true, Ordering::Relaxed);
        if let Some(sealing) = sealing {
            match sealing.join().expect("sealer thread panicked") {
                Ok(sealed) => driven.sealed = Some(sealed),
                Err(error) => failure = Some(error),
            }
        }
        driven.seconds = (last - started).as_secs_f64();
        match failure {
            Some(error) => Err(error),
            None => Ok(driven),
        }
    })
}
