//! `sync`: the registry's specs installed straight in a database, for applications that keep
//! no migration files.
//!
//! It reads what is installed from the audit log's own registry table (`<audit>_tracked`),
//! creates the core schema when it is missing (or upgrades it when an older version installed
//! it: the stamp in the audit table's comment, see `docs/upgrading.md`), installs new specs, replaces changed ones and
//! removes the triggers of tables no longer registered, in one transaction under an advisory
//! lock, so concurrent runs (several instances starting at once) apply each change once.
//! Running it again with nothing changed changes nothing.
//!
//! "No longer registered" includes tables tracked by hand (`auditrum-diesel track`): a
//! database that `sync` manages should be managed by `sync` only.
//!
//! ```no_run
//! use auditrum_diesel::registry::Registry;
//! use auditrum_diesel::{sync, AuditConfig};
//! use diesel::{Connection, PgConnection};
//!
//! let mut conn = PgConnection::establish("postgres://localhost/app")?;
//! let report = sync::sync(&mut conn, &Registry::linked(), &AuditConfig::default())?;
//! println!("{report}");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;

use diesel::connection::SimpleConnection;
use diesel::sql_types::{Bool, Text};
use diesel::{Connection, PgConnection, QueryableByName, RunQueryDsl};

use crate::plan::{self, Change, EmptyRegistry, Installed};
use crate::registry::{Registry, RegistryError};
use crate::sql::{CoreStamp, CORE_VERSION};
use crate::{AuditConfig, SpecError, TrackSpec};

/// What [`sync`] changed (or, from [`plan`](fn@plan), would change), in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyncReport {
    changes: Vec<Change>,
}

impl SyncReport {
    /// The changes made.
    pub fn changes(&self) -> &[Change] {
        &self.changes
    }

    /// Whether the database was already in line with the registry.
    pub fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }
}

impl fmt::Display for SyncReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.changes.is_empty() {
            return write!(f, "the audit triggers are in line with the registry");
        }
        write!(f, "{} change(s):", self.changes.len())?;
        for change in &self.changes {
            write!(f, "\n  {change}")?;
        }
        Ok(())
    }
}

/// Why [`sync`] could not run; nothing was changed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SyncError {
    /// The registry holds invalid or duplicate specs.
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// A spec cannot be turned into SQL.
    #[error(transparent)]
    Spec(#[from] SpecError),
    /// The database refused a statement.
    #[error("database error: {0}")]
    Database(#[from] diesel::result::Error),
    /// The registry is empty and the plan would remove every audited table's triggers
    /// (only when asked to refuse that, as the command line does).
    #[error(transparent)]
    EmptyRegistry(#[from] EmptyRegistry),
    /// The core schema was installed by a newer version of auditrum-diesel.
    #[error("the audit log's core schema is version {installed}, newer than this build's {this}: upgrade auditrum-diesel")]
    NewerCore {
        /// The installed core schema's version.
        installed: u32,
        /// This build's [`CORE_VERSION`].
        this: u32,
    },
}

/// How [`run`] goes about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct SyncOptions {
    /// Plan only; change nothing.
    pub dry_run: bool,
    /// Allow a plan that removes every audited table's triggers from an empty registry.
    pub allow_empty: bool,
}

/// Brings the database's audit triggers in line with `registry`, in one transaction under
/// an advisory lock; returns what it changed.
#[tracing::instrument(name = "auditrum.sync", skip_all, err)]
pub fn sync(
    conn: &mut PgConnection,
    registry: &Registry,
    config: &AuditConfig,
) -> Result<SyncReport, SyncError> {
    let options = SyncOptions {
        dry_run: false,
        allow_empty: true,
    };
    run(conn, registry, config, options)
}

/// What [`sync`] would change, without changing anything.
pub fn plan(
    conn: &mut PgConnection,
    registry: &Registry,
    config: &AuditConfig,
) -> Result<SyncReport, SyncError> {
    let options = SyncOptions {
        dry_run: true,
        allow_empty: true,
    };
    run(conn, registry, config, options)
}

/// Plans once under the lock, checks the plan, and applies it unless `dry_run`: all in one
/// transaction, so what is applied is what was planned and checked.
pub(crate) fn run(
    conn: &mut PgConnection,
    registry: &Registry,
    config: &AuditConfig,
    options: SyncOptions,
) -> Result<SyncReport, SyncError> {
    let wanted = registry.specs()?;
    conn.transaction(|conn| {
        let changes = changes(conn, &wanted, config)?;
        plan::refuse_to_untrack_everything(registry, &changes, options.allow_empty)?;
        if !options.dry_run {
            for change in &changes {
                conn.batch_execute(&change.up_sql(config)?)?;
            }
        }
        Ok(SyncReport { changes })
    })
}

/// Creates the core schema, or upgrades it when another version or build installed it
/// (reinstalling the capture of every table tracked in that log, as they are tracked), in
/// one transaction under `sync`'s lock; with this build's core already there, completes
/// what is missing of it. What `init-schema` runs, for logs whose tables are tracked by
/// hand (`track`) rather than by `sync` or migrations. Refuses a newer core schema.
pub fn install_or_upgrade_core(
    conn: &mut PgConnection,
    config: &AuditConfig,
) -> Result<SyncReport, SyncError> {
    conn.transaction(|conn| {
        let (core, installed) = lock_and_read(conn, config)?;
        let tracked: Vec<TrackSpec> = installed.values().cloned().collect();
        let changes = plan::changes(config, core.as_ref(), &installed, &tracked);
        for change in &changes {
            conn.batch_execute(&change.up_sql(config)?)?;
        }
        if changes.is_empty() {
            conn.batch_execute(&crate::sql::core_schema_sql(config))?;
        }
        Ok(SyncReport { changes })
    })
}

/// Takes the lock, then compares the registry table with `wanted`.
fn changes(
    conn: &mut PgConnection,
    wanted: &[TrackSpec],
    config: &AuditConfig,
) -> Result<Vec<Change>, SyncError> {
    let (core, installed) = lock_and_read(conn, config)?;
    Ok(plan::changes(config, core.as_ref(), &installed, wanted))
}

/// Takes `sync`'s advisory lock for this log, then reads the installed core stamp (`None`
/// without a core schema) and specs. Refuses a core schema newer than this build's: running
/// this build's SQL over it would downgrade it.
fn lock_and_read(
    conn: &mut PgConnection,
    config: &AuditConfig,
) -> Result<(Option<CoreStamp>, Installed), SyncError> {
    diesel::sql_query("SELECT pg_advisory_xact_lock(hashtext($1))")
        .bind::<Text, _>(format!(
            "auditrum.sync.{}.{}",
            config.schema(),
            config.table()
        ))
        .execute(conn)?;
    let (core, installed) = match registry_table_exists(conn, config)? {
        true => (
            Some(installed_stamp(conn, config)?),
            installed(conn, config)?,
        ),
        false => (None, Installed::new()),
    };
    if let Some(stamp) = &core {
        if stamp.version > CORE_VERSION {
            return Err(SyncError::NewerCore {
                installed: stamp.version,
                this: CORE_VERSION,
            });
        }
    }
    Ok((core, installed))
}

/// The stamp of the installed core schema: the audit table's comment (0.1 wrote none).
pub(crate) fn installed_stamp(
    conn: &mut PgConnection,
    config: &AuditConfig,
) -> QueryResult<CoreStamp> {
    #[derive(QueryableByName)]
    struct Comment {
        #[diesel(sql_type = diesel::sql_types::Nullable<Text>)]
        comment: Option<String>,
    }
    let comment =
        diesel::sql_query("SELECT obj_description(to_regclass($1), 'pg_class') AS comment")
            .bind::<Text, _>(config.qualified_table())
            .get_result::<Comment>(conn)?
            .comment;
    Ok(comment
        .as_deref()
        .and_then(CoreStamp::from_comment)
        .unwrap_or_else(CoreStamp::v0_1))
}

fn registry_table_exists(conn: &mut PgConnection, config: &AuditConfig) -> QueryResult<bool> {
    #[derive(QueryableByName)]
    struct Present {
        #[diesel(sql_type = Bool)]
        present: bool,
    }
    diesel::sql_query("SELECT to_regclass($1) IS NOT NULL AS present")
        .bind::<Text, _>(config.qualified_registry_table())
        .get_result::<Present>(conn)
        .map(|row| row.present)
}

/// The installed specs, by table. A spec the registry table holds in a form this version
/// cannot read still counts as installed (and so is replaced or removed).
fn installed(conn: &mut PgConnection, config: &AuditConfig) -> QueryResult<Installed> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = Text)]
        table_schema: String,
        #[diesel(sql_type = Text)]
        table_name: String,
        #[diesel(sql_type = Text)]
        spec: String,
    }
    let rows: Vec<Row> = diesel::sql_query(format!(
        "SELECT table_schema, table_name, spec::text AS spec FROM {}",
        config.qualified_registry_table()
    ))
    .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let spec = serde_json::from_str(&row.spec).unwrap_or_else(|_| {
                let identity = serde_json::json!({
                    "schema": row.table_schema,
                    "table": row.table_name,
                    "key": [],
                });
                serde_json::from_value(identity).expect("schema, table and key make a TrackSpec")
            });
            ((row.table_schema, row.table_name), spec)
        })
        .collect())
}

type QueryResult<T> = Result<T, diesel::result::Error>;
