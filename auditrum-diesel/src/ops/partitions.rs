//! Monthly partitions of the audit table.

use chrono::{DateTime, Utc};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Integer, Nullable, Text, Timestamptz};
use serde::Serialize;

use crate::quote;
use crate::{AuditConfig, Error};

/// One partition of the audit table.
#[derive(Debug, Clone, PartialEq, QueryableByName, Serialize)]
pub struct Partition {
    /// Table name of the partition.
    #[diesel(sql_type = Text)]
    pub name: String,
    /// Whether it is the DEFAULT partition.
    #[diesel(sql_type = Bool)]
    pub is_default: bool,
    /// Inclusive lower bound (UTC); `None` for DEFAULT.
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub from: Option<DateTime<Utc>>,
    /// Exclusive upper bound (UTC); `None` for DEFAULT.
    #[diesel(sql_type = Nullable<Timestamptz>)]
    pub to: Option<DateTime<Utc>>,
    /// Rows: exact for DEFAULT, the planner's estimate (`pg_class.reltuples`) for months,
    /// `None` when the partition was never analyzed.
    #[diesel(sql_type = Nullable<BigInt>)]
    pub rows: Option<i64>,
}

/// Creates monthly partitions (UTC bounds) from the current month through `months` months
/// ahead; returns how many were created. Idempotent; concurrent runs wait on an advisory
/// lock; rows of a new month already in DEFAULT are moved into it in the same transaction.
#[tracing::instrument(name = "auditrum.partitions.add", skip(conn, config), fields(audit_table = %config.qualified_table()), err)]
pub fn add(conn: &mut PgConnection, config: &AuditConfig, months: u32) -> Result<i32, Error> {
    #[derive(QueryableByName)]
    struct Created {
        #[diesel(sql_type = Integer)]
        created: i32,
    }
    let query = format!("SELECT {}($1) AS created", config.object("_add_partitions"));
    let months = i32::try_from(months).unwrap_or(i32::MAX);
    let created = conn.transaction(|conn| {
        diesel::sql_query(query)
            .bind::<Integer, _>(months)
            .get_result::<Created>(conn)
    })?;
    Ok(created.created)
}

/// The partitions of the audit table, DEFAULT first, then by month.
pub fn list(conn: &mut PgConnection, config: &AuditConfig) -> Result<Vec<Partition>, Error> {
    let query = format!(
        "SELECT c.relname::text AS name, b.is_default, b.lower AS from, b.upper AS to,
                CASE WHEN c.reltuples < 0 THEN NULL ELSE c.reltuples::bigint END AS rows
         FROM pg_inherits i
         JOIN pg_class c ON c.oid = i.inhrelid
         CROSS JOIN LATERAL (
             SELECT pg_get_expr(c.relpartbound, c.oid) = 'DEFAULT' AS is_default,
                    substring(pg_get_expr(c.relpartbound, c.oid) FROM 'FROM \\(''([^'']+)''\\)')::timestamptz AS lower,
                    substring(pg_get_expr(c.relpartbound, c.oid) FROM 'TO \\(''([^'']+)''\\)')::timestamptz AS upper
         ) b
         WHERE i.inhparent = to_regclass({table})
         ORDER BY b.is_default DESC, b.lower",
        table = quote::literal(&config.qualified_table()),
    );
    // The bounds are printed in the session's time zone: read them in UTC.
    let mut partitions = conn.transaction(|conn| {
        conn.batch_execute("SET LOCAL TimeZone = 'UTC'")?;
        diesel::sql_query(query).load::<Partition>(conn)
    })?;
    // DEFAULT should be (nearly) empty: count it exactly.
    if let Some(default) = partitions.iter_mut().find(|p| p.is_default) {
        #[derive(QueryableByName)]
        struct Count {
            #[diesel(sql_type = BigInt)]
            n: i64,
        }
        let name = quote::qualified(config.schema(), &default.name);
        let count: Count =
            diesel::sql_query(format!("SELECT count(*) AS n FROM {name}")).get_result(conn)?;
        default.rows = Some(count.n);
    }
    Ok(partitions)
}
