//! `status`: is the audit log healthy? Partitions ahead, rows in DEFAULT, and for each
//! tracked table whether its triggers are the ones its installed spec generates.

use chrono::{DateTime, Months, Utc};
use diesel::prelude::*;
use diesel::sql_types::{Text, Timestamptz};
use serde::Serialize;

mod privileges;
mod triggers;

use super::chain::{self, ChainTip};
use super::partitions::{self, Partition};
use crate::sql::{self, CoreStamp};
use crate::{introspect, AuditConfig, Error, TrackSpec};

/// The health of an audit log. `problems` is empty when all is well.
#[derive(Debug, Clone, Serialize)]
pub struct Status {
    /// `schema.table` of the audit log.
    pub audit_table: String,
    /// Its partitions, DEFAULT first.
    pub partitions: Vec<Partition>,
    /// The exclusive upper bound of the last monthly partition (UTC).
    pub partitions_until: Option<DateTime<Utc>>,
    /// Rows in the DEFAULT partition (there should be none: their month has no partition).
    pub default_rows: i64,
    /// Each tracked table, from the registry table.
    pub tables: Vec<TableStatus>,
    /// The hash chain's head, when the chain is enabled.
    pub hash_chain: Option<ChainTip>,
    /// Seconds the oldest committed, unsealed transaction has waited for its link (0 when
    /// all are sealed); `None` without a chain. Keep it low with `seal-chain --watch`.
    pub seal_lag_seconds: Option<f64>,
    /// Whether the DDL guard `harden` installs is in place (and enabled).
    pub ddl_guard: bool,
    /// The stamp of the installed core schema (version and hash; version 1 without hash is
    /// 0.1's), to compare with [`CoreStamp::current`].
    pub core: CoreStamp,
    /// Everything that needs attention, one sentence each.
    pub problems: Vec<String>,
}

/// One tracked table.
#[derive(Debug, Clone, Serialize)]
pub struct TableStatus {
    /// Schema of the table.
    pub schema: String,
    /// Name of the table.
    pub table: String,
    /// Fingerprint of the installed spec.
    pub fingerprint: String,
    /// When the spec was installed.
    pub installed_at: DateTime<Utc>,
    /// Columns masked at write (`mask(...)`): events record only that they changed.
    pub masked: Vec<String>,
    /// Columns hashed at write (`hash(...)`): stored as HMAC-SHA256.
    pub hashed: Vec<String>,
    /// Drift: missing or disabled triggers, functions or registry entries changed by hand.
    pub problems: Vec<String>,
}

#[derive(QueryableByName)]
struct RegistryRow {
    #[diesel(sql_type = Text)]
    table_schema: String,
    #[diesel(sql_type = Text)]
    table_name: String,
    #[diesel(sql_type = Text)]
    spec: String,
    #[diesel(sql_type = Text)]
    fingerprint: String,
    #[diesel(sql_type = Text)]
    checksum: String,
    #[diesel(sql_type = Timestamptz)]
    installed_at: DateTime<Utc>,
}

/// Reads the status of the audit log. Warns when partitions reach less than one month
/// ahead of `now`.
pub fn read(conn: &mut PgConnection, config: &AuditConfig) -> Result<Status, Error> {
    let partitions = partitions::list(conn, config)?;
    let default_rows = partitions
        .iter()
        .find(|p| p.is_default)
        .and_then(|p| p.rows)
        .unwrap_or(0);
    let partitions_until = partitions.iter().filter_map(|p| p.to).max();
    let mut problems = Vec::new();
    let horizon = Utc::now() + Months::new(1);

    match partitions_until {
        Some(until) if until >= horizon => {}
        Some(until) => problems.push(format!(
            "partitions reach only until {until} (less than a month ahead): run `auditrum-diesel add-partitions --months 3`"
        )),
        None => problems.push(
            "the audit table has no monthly partition: run `auditrum-diesel add-partitions --months 3`".to_owned(),
        ),
    }
    if !partitions.iter().any(|p| p.is_default) {
        problems.push(
            "the DEFAULT partition is missing: an event of a month without partition fails its write".to_owned(),
        );
    }
    let now = Utc::now();
    let this_month = partitions
        .iter()
        .any(|p| p.from.is_some_and(|from| from <= now) && p.to.is_some_and(|to| now < to));
    if partitions_until.is_some() && !this_month {
        problems.push(
            "no partition holds the current month: its events go to DEFAULT; run `auditrum-diesel add-partitions`".to_owned(),
        );
    }
    if default_rows > 0 {
        problems.push(format!(
            "{default_rows} event(s) in the DEFAULT partition: `add-partitions` moves them into their month"
        ));
    }
    let core = crate::sync::installed_stamp(conn, config)?;
    problems.extend(core_problem(&core, config));
    let tables = tables(conn, config)?;
    let hash_chain = match chain::head(conn, config) {
        Ok(tip) => Some(tip),
        Err(Error::Refused(_)) => None, // not enabled
        Err(e) => return Err(e),
    };
    let seal_lag_seconds = chain::seal_lag(conn, config)?;
    problems.extend(chain::state_problem(conn, config)?);
    let ddl_guard = super::ddl_guard::installed(conn, config)?;
    problems.extend(privileges::problems(conn, config)?);
    for table in &tables {
        for problem in &table.problems {
            problems.push(format!("{}.{}: {problem}", table.schema, table.table));
        }
    }
    Ok(Status {
        audit_table: format!("{}.{}", config.schema(), config.table()),
        partitions,
        partitions_until,
        default_rows,
        tables,
        hash_chain,
        seal_lag_seconds,
        ddl_guard,
        core,
        problems,
    })
}

/// An installed core schema that is not this build's: its triggers and functions are
/// another version's until it is upgraded.
fn core_problem(installed: &CoreStamp, config: &AuditConfig) -> Option<String> {
    let current = CoreStamp::current(config);
    if *installed == current {
        return None;
    }
    Some(if installed.version > current.version {
        format!(
            "the core schema is version {}, newer than this build's {}: upgrade auditrum-diesel",
            installed.version, current.version
        )
    } else {
        format!(
            "the core schema is version {} ({}), this build installs version {}: run `auditrum-diesel makemigrations` and `diesel migration run`, or `auditrum-diesel sync`",
            installed.version,
            installed.hash.as_deref().map_or("as 0.1 made it", |_| "another build's SQL"),
            current.version
        )
    })
}

fn tables(conn: &mut PgConnection, config: &AuditConfig) -> Result<Vec<TableStatus>, Error> {
    let rows: Vec<RegistryRow> = diesel::sql_query(format!(
        "SELECT table_schema, table_name, spec::text AS spec, fingerprint, checksum, installed_at
         FROM {} ORDER BY table_schema, table_name",
        config.qualified_registry_table()
    ))
    .load(conn)?;
    rows.into_iter()
        .map(|row| {
            let problems = drift(conn, config, &row)?;
            // What the installed spec protects (empty when it is unreadable: a problem then).
            let (masked, hashed) = serde_json::from_str::<TrackSpec>(&row.spec)
                .map(|spec| (spec.mask().to_vec(), spec.hash().to_vec()))
                .unwrap_or_default();
            Ok(TableStatus {
                masked,
                hashed,
                schema: row.table_schema,
                table: row.table_name,
                fingerprint: row.fingerprint,
                installed_at: row.installed_at,
                problems,
            })
        })
        .collect()
}

/// How the catalog differs from what the registry says is installed.
fn drift(
    conn: &mut PgConnection,
    config: &AuditConfig,
    row: &RegistryRow,
) -> Result<Vec<String>, Error> {
    let spec: TrackSpec = match serde_json::from_str(&row.spec) {
        Ok(spec) => spec,
        Err(e) => return Ok(vec![format!("the registry holds an unreadable spec ({e})")]),
    };
    let mut problems = Vec::new();
    if spec.schema() != row.table_schema || spec.table() != row.table_name {
        problems.push("the registry entry names another table than its spec".to_owned());
    }
    if spec.fingerprint() != row.fingerprint {
        problems
            .push("the registry's fingerprint does not match its spec (edited by hand)".to_owned());
    }
    if sql::checksum(&spec, config)? != row.checksum {
        problems.push(
            "the registry's checksum does not match the spec's trigger SQL (edited by hand, or installed by another version)".to_owned(),
        );
    }
    problems.extend(column_drift(conn, &spec)?);
    if sql::expected_triggers(&spec, config).is_ok() && table_exists(conn, &spec)? {
        problems.extend(super::trust::problems(conn, &spec)?);
    }
    for expected in sql::expected_triggers(&spec, config)? {
        match triggers::drift(conn, config, &spec, &expected)? {
            Some(problem) if !problems.contains(&problem) => problems.push(problem),
            _ => {}
        }
    }
    Ok(problems)
}

fn table_exists(conn: &mut PgConnection, spec: &TrackSpec) -> Result<bool, Error> {
    #[derive(QueryableByName)]
    struct Exists {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        exists: bool,
    }
    let table = crate::quote::qualified(spec.schema(), spec.table());
    let found: Exists = diesel::sql_query("SELECT to_regclass($1) IS NOT NULL AS exists")
        .bind::<Text, _>(&table)
        .get_result(conn)?;
    Ok(found.exists)
}

/// Columns the spec names that the table lost (every write then fails), and columns the
/// table gained that a spec tracking "all but …" does not know (not audited).
fn column_drift(conn: &mut PgConnection, spec: &TrackSpec) -> Result<Vec<String>, Error> {
    let live = match introspect::columns(conn, &spec.name()) {
        Ok(live) => live,
        Err(Error::TableNotFound { .. }) => return Ok(Vec::new()), // reported by the triggers' check
        Err(e) => return Err(e),
    };
    let live: Vec<String> = live.into_iter().map(|c| c.name).collect();
    let mut problems = Vec::new();
    let named = spec
        .key()
        .iter()
        .chain(spec.meta())
        .cloned()
        .chain(spec.tracked_columns().into_iter().map(|c| c.name));
    let mut reported = Vec::new();
    for column in named {
        if !live.contains(&column) && !reported.contains(&column) {
            problems.push(format!(
                "column {column} is in the spec but not in the table: every write to the table fails until the spec is re-installed"
            ));
            reported.push(column);
        }
    }
    if spec.tracks_all_columns_of_the_table() {
        for column in live
            .iter()
            .filter(|c| !spec.columns().iter().any(|k| &k.name == *c))
        {
            problems.push(format!(
                "column {column} was added after the spec was installed and is not audited: re-install the spec (`track`, or `makemigrations`)"
            ));
        }
    }
    Ok(problems)
}
