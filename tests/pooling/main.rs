//! Pools: diesel-async's deadpool and bb8 pools of `AsyncAuditedConnection` and r2d2 pools
//! of `AuditedConnection`, many requests over few connections, directly and behind a real
//! PgBouncer: every event carries exactly its own request's context.

mod async_connection;
mod async_pool;
mod async_requests;
mod behind_pgbouncer;
mod pgbouncer;
mod sync_requests;
mod workload;
