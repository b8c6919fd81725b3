//! `redact`: erasure on request. Erases values from recorded events — a record's values
//! (diffs, old and new data, meta, and its key if asked), or the identifying keys of a
//! user's contexts — and records the erasure as a chained `REDACT` event (who, when, why,
//! which values; never the values). With the hash chain on, the chain still verifies: each
//! erased value's digest stays in its place (see `ops::chain::leaves`), its salt goes.
//!
//! Then the erased values must leave the disk too: the rows' old versions stay in the
//! partitions' files until they are rewritten. `redact` runs `VACUUM (FULL, ANALYZE)` on
//! every relation it changed after committing (unless told not to) and reports the
//! statements, so they can be run later. See `docs/personal-data.md`.

mod links;
mod select;
mod vacuum;

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use serde::Serialize;

use super::chain::redactions::{ErasedValues, RedactRecord, RedactRequest, Rehash};
use super::chain::ChainNames;
use crate::{AuditConfig, Error, TableName};

pub use select::DEFAULT_PERSONAL_CONTEXT_KEYS;

/// Whose values to erase.
#[derive(Debug, Clone)]
pub enum RedactTarget {
    /// The events of one record of an audited table.
    Record {
        /// The table, `table` or `schema.table`.
        table: String,
        /// The record's key as the log stores it (`record_id`: the key as text, a composite
        /// key as a JSON array).
        key: String,
        /// The columns to erase; empty: every column.
        fields: Vec<String>,
        /// Also erase the key itself (`record_id`, `old_record_id`): for tables keyed by
        /// something personal (an email). Afterwards the record's history cannot be found
        /// by its key any more.
        erase_key: bool,
    },
    /// The identifying keys of every context a user's transactions carried.
    User {
        /// The context's `user_id`.
        user_id: String,
        /// The context keys to erase: [`DEFAULT_PERSONAL_CONTEXT_KEYS`] and any the
        /// application adds that are personal.
        keys: Vec<String>,
    },
}

/// What to erase, and why.
#[derive(Debug, Clone)]
pub struct RedactOptions {
    /// Whose values.
    pub target: RedactTarget,
    /// Why: recorded in the `REDACT` event (do not put personal data in it).
    pub reason: String,
    /// List what would be erased; change nothing.
    pub dry_run: bool,
    /// After committing, `VACUUM (FULL, ANALYZE)` the relations changed, so the erased values
    /// leave their files. Takes an `ACCESS EXCLUSIVE` lock on each while it rewrites it.
    pub vacuum: bool,
}

/// What a redaction did (or, in a dry run, would do).
#[derive(Debug, Clone, Serialize)]
pub struct RedactReport {
    /// Events the target matched.
    pub matched_events: i64,
    /// Per event, the values erased (paths; never values).
    pub erased: Vec<ErasedValues>,
    /// How many values were erased.
    pub values: i64,
    /// The `REDACT` event recording it (sealed into the chain before `redact` returns).
    pub entry_id: Option<i64>,
    /// Version 1 links re-hashed as version 2.
    pub rehashed: Vec<Rehash>,
    /// The statements that remove the erased values' old row versions from disk.
    pub vacuum_sql: Vec<String>,
    /// Whether they were run, after every transaction older than the redaction had ended
    /// (`false` with `vacuum` on: one was still running after 30 s, and the row versions it
    /// can see were kept; run the statements again).
    pub vacuumed: bool,
    /// Whether nothing was changed.
    pub dry_run: bool,
}

/// Erases the values `options` names, in one transaction, and records it.
#[tracing::instrument(name = "auditrum.redact", skip_all, fields(audit_table = %config.qualified_table(), dry_run = options.dry_run), err)]
pub fn redact(
    conn: &mut PgConnection,
    config: &AuditConfig,
    options: &RedactOptions,
) -> Result<RedactReport, Error> {
    if options.reason.trim().is_empty() {
        return Err(Error::Refused(
            "a redaction needs a reason (--reason): it is recorded with it".into(),
        ));
    }
    let names = ChainNames::new(config);
    let chained = chain_enabled(conn, &names)?;
    if chained {
        super::chain::require_upgraded(conn, &names)?;
    }
    let (mut report, redaction_xid) = conn.transaction::<_, Error, _>(|conn| {
        if chained {
            // Links what has committed, and holds the chain's head until we commit: no
            // seal runs meanwhile.
            diesel::sql_query(format!("SELECT {}()", names.seal_function())).execute(conn)?;
        }
        let matched = select::matching_events(conn, config, &options.target)?;
        let leaves = select::leaves_to_erase(conn, config, &options.target, &matched)?;
        let erased = select::group_by_event(&leaves);
        let mut report = RedactReport {
            matched_events: matched.len() as i64,
            values: leaves.len() as i64,
            erased,
            entry_id: None,
            rehashed: Vec::new(),
            vacuum_sql: Vec::new(),
            vacuumed: false,
            dry_run: options.dry_run,
        };
        if options.dry_run || leaves.is_empty() {
            return Ok((report, String::new()));
        }
        let plan = if chained {
            links::prepare(conn, config, &names, &leaves)?
        } else {
            links::Prepared::default()
        };
        report.rehashed = plan.rehashed.clone();
        let entry_id = record(conn, config, options, &report)?;
        report.entry_id = Some(entry_id);
        if chained {
            links::store_digests(conn, config, &names, &plan, &leaves, entry_id)?;
        }
        select::write_markers(conn, config, &leaves)?;
        if chained {
            links::check_unchanged(conn, config, &names, &plan)?;
        }
        report.vacuum_sql = vacuum::statements(conn, config, &names, &leaves, chained)?;
        Ok((report, vacuum::transaction_id(conn)?))
    })?;
    if report.entry_id.is_some() {
        if chained {
            super::chain::seal(conn, config)?;
        }
        if options.vacuum {
            report.vacuumed = vacuum::run(conn, &report.vacuum_sql, &redaction_xid)?;
        }
    }
    Ok(report)
}

/// The `REDACT` event: written in the redaction's transaction, chained by the next seal.
fn record(
    conn: &mut PgConnection,
    config: &AuditConfig,
    options: &RedactOptions,
    report: &RedactReport,
) -> Result<i64, Error> {
    #[derive(QueryableByName)]
    struct Who {
        #[diesel(sql_type = Text)]
        at: String,
        #[diesel(sql_type = Text)]
        by: String,
    }
    #[derive(QueryableByName)]
    struct Id {
        #[diesel(sql_type = BigInt)]
        id: i64,
    }
    let who: Who = diesel::sql_query(
        "SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') AS at, session_user::text AS by",
    )
    .get_result(conn)?;
    let request = match &options.target {
        RedactTarget::Record { table, fields, .. } => {
            let spec = TableName::parse(table)?;
            RedactRequest {
                kind: "record".into(),
                table: Some(spec.display_name()),
                fields: fields.clone(),
            }
        }
        RedactTarget::User { keys, .. } => RedactRequest {
            kind: "user".into(),
            table: None,
            fields: keys.clone(),
        },
    };
    let record = RedactRecord {
        at: who.at,
        by: who.by,
        reason: options.reason.clone(),
        request,
        erased: report.erased.clone(),
        rehashed: report.rehashed.clone(),
    };
    let data = serde_json::to_string(&record).expect("a redaction record serializes");
    let id: Id = diesel::sql_query(format!(
        "INSERT INTO {events} (operation, table_schema, table_name, new_data, txid, context_id)
         VALUES ('REDACT', $1, $2, $3::jsonb, txid_current(), {context}())
         RETURNING id",
        events = config.qualified_table(),
        context = config.object("_context_id"),
    ))
    .bind::<Text, _>(config.schema())
    .bind::<Text, _>(config.table())
    .bind::<Text, _>(data)
    .get_result(conn)?;
    Ok(id.id)
}

fn chain_enabled(conn: &mut PgConnection, names: &ChainNames) -> Result<bool, Error> {
    #[derive(QueryableByName)]
    struct Enabled {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        enabled: bool,
    }
    let enabled: Enabled =
        diesel::sql_query(format!("SELECT {} AS enabled", names.exists_sql())).get_result(conn)?;
    Ok(enabled.enabled)
}
