//! Install and uninstall SQL for one table's spec.
//!
//! Both can be re-run: installing replaces the functions and triggers of an older version
//! of the spec (same names), so a table always has exactly one set of triggers.

use sha2::{Digest, Sha256};

use super::triggers::{Capture, Names};
use crate::quote;
use crate::{AuditConfig, Operation, SpecError, TableName, TrackSpec};

/// SQL that installs (or replaces) the capture triggers of `spec` and records the spec in
/// the registry table. Needs the core schema ([`core_schema_sql`](crate::core_schema_sql)).
///
/// ```
/// use auditrum_diesel::{install_sql, AuditConfig, TrackSpec};
///
/// let spec = TrackSpec::builder("users").track_only(["email", "name"]).build()?;
/// let sql = install_sql(&spec, &AuditConfig::default())?;
/// assert!(sql.contains("REFERENCING NEW TABLE AS new_rows"));
/// # Ok::<(), auditrum_diesel::SpecError>(())
/// ```
pub fn install_sql(spec: &TrackSpec, config: &AuditConfig) -> Result<String, SpecError> {
    let capture = Capture { spec, config };
    let mut triggers = trigger_sql(&capture);
    if !spec.hash().is_empty() {
        // The key and the hash function first; the key is made by the server, never here.
        triggers = format!("{}\n{triggers}", super::hmac::install_sql(config));
    }
    let checksum = checksum(spec, config)?;
    Ok(format!(
        "-- auditrum: capture {table} (spec {fingerprint})\n{triggers}\n{owner}\n{registry}\n",
        table = quote::comment(&spec.display_name()),
        fingerprint = spec.fingerprint(),
        owner = capture_owner(&capture),
        registry = registry_upsert(spec, config, &checksum),
    ))
}

/// Once `harden` made the capture role (and granted it the log, in this database: role names
/// are global to the cluster), a (re)installed capture function is handed to it at
/// once, so a table tracked after `harden` does not run its capture as the installer (often
/// a superuser) until the next `harden`.
fn capture_owner(capture: &Capture) -> String {
    let role = capture.config.capture_role();
    let mut sql = format!(
        "DO $auditrum$\nBEGIN\n    IF to_regrole({role}) IS NULL OR NOT has_table_privilege({role}, {log}, 'INSERT') THEN\n        RETURN;\n    END IF;\n",
        role = quote::literal(&role),
        log = quote::literal(&capture.config.qualified_table()),
    );
    for operation in Operation::ALL {
        sql.push_str(&format!(
            "    ALTER FUNCTION {}() OWNER TO {};\n",
            capture.function_name(operation),
            quote::ident(&role),
        ));
    }
    sql.push_str("END\n$auditrum$;\n");
    sql.push_str(&legacy_drop(&capture.names()));
    sql
}

/// Drops the functions versions before 0.2 put in the table's schema, unless some trigger
/// still calls them (then the name is another table's function, not ours).
fn legacy_drop(names: &Names) -> String {
    let mut sql = String::from("DO $auditrum$\nBEGIN\n");
    for operation in Operation::ALL {
        let legacy = names.legacy_function_name(operation);
        let regproc = format!(
            "to_regprocedure({})",
            quote::literal(&format!("{legacy}()"))
        );
        sql.push_str(&format!(
            "    IF {regproc} IS NOT NULL AND {regproc} <> to_regprocedure({new})\n       \
             AND NOT EXISTS (SELECT FROM pg_catalog.pg_trigger WHERE tgfoid = {regproc}) THEN\n        \
             DROP FUNCTION {legacy}();\n    END IF;\n",
            new = quote::literal(&format!("{}()", names.function_name(operation))),
        ));
    }
    sql.push_str("END\n$auditrum$;\n");
    sql
}

/// SQL that removes the capture triggers of `table` and its registry entry. Events
/// already recorded stay in the log.
pub fn uninstall_sql(table: &TableName, config: &AuditConfig) -> Result<String, SpecError> {
    let names = Names {
        schema: table.schema(),
        table: table.table(),
        config,
    };
    let mut sql = format!(
        "-- auditrum: stop capturing {}\n",
        quote::comment(&table.display_name())
    );
    for operation in Operation::ALL {
        sql.push_str(&format!(
            "DROP TRIGGER IF EXISTS {} ON {};\nDROP FUNCTION IF EXISTS {}();\n",
            names.trigger_name(operation),
            names.table(),
            names.function_name(operation),
        ));
    }
    sql.push_str(&legacy_drop(&names));
    sql.push_str(&format!(
        "DELETE FROM {} WHERE table_schema = {} AND table_name = {};\n",
        config.qualified_registry_table(),
        quote::literal(table.schema()),
        quote::literal(table.table()),
    ));
    Ok(sql)
}

/// The four functions and triggers.
fn trigger_sql(capture: &Capture) -> String {
    Operation::ALL
        .into_iter()
        .map(|operation| {
            format!(
                "{}\n{}",
                function(capture, operation),
                trigger(capture, operation)
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// A trigger function around the capture statement. `SECURITY DEFINER` lets the app role
/// write events without write access to the log; the pinned `search_path` keeps a caller's
/// objects out of it.
fn function(capture: &Capture, operation: Operation) -> String {
    format!(
        "CREATE OR REPLACE FUNCTION {name}() RETURNS trigger\n\
         LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp\n\
         AS $auditrum${body}$auditrum$;",
        name = capture.function_name(operation),
        body = function_body(capture, operation),
    )
}

/// The body of a capture function, exactly as PostgreSQL stores it (`pg_proc.prosrc`), so
/// `status` can tell a function edited by hand. `use_column` lets the query's alias `new`
/// win over PL/pgSQL's `NEW`.
fn function_body(capture: &Capture, operation: Operation) -> String {
    format!(
        "\n#variable_conflict use_column\nBEGIN\n    {}\n    RETURN NULL;\nEND\n",
        capture.body(operation)
    )
}

/// One capture trigger as the catalog should hold it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ExpectedTrigger {
    /// The operation the trigger captures.
    pub operation: Operation,
    /// Trigger name on the audited table.
    pub trigger: String,
    /// Schema of the trigger function (the table's).
    pub function_schema: String,
    /// Name of the trigger function.
    pub function: String,
    /// Its body (`prosrc`).
    pub body: String,
    /// `pg_trigger.tgtype`: AFTER, FOR EACH STATEMENT, this operation's event bit only.
    pub tgtype: i32,
    /// `REFERENCING OLD TABLE AS …`, if any.
    pub old_table: Option<&'static str>,
    /// `REFERENCING NEW TABLE AS …`, if any.
    pub new_table: Option<&'static str>,
}

/// The triggers `install_sql(spec, config)` creates, with their function bodies.
pub(crate) fn expected_triggers(
    spec: &TrackSpec,
    config: &AuditConfig,
) -> Result<Vec<ExpectedTrigger>, SpecError> {
    let capture = Capture { spec, config };
    Ok(Operation::ALL
        .into_iter()
        .map(|operation| ExpectedTrigger {
            operation,
            trigger: capture.trigger_name_raw(operation),
            function_schema: config.schema().to_owned(),
            function: capture.function_name_raw(operation),
            body: function_body(&capture, operation),
            tgtype: tgtype(operation),
            old_table: matches!(operation, Operation::Update | Operation::Delete)
                .then_some("old_rows"),
            new_table: matches!(operation, Operation::Insert | Operation::Update)
                .then_some("new_rows"),
        })
        .collect())
}

/// SHA-256 of the trigger SQL of `spec`: the checksum the registry table records.
pub(crate) fn checksum(spec: &TrackSpec, config: &AuditConfig) -> Result<String, SpecError> {
    let triggers = trigger_sql(&Capture { spec, config });
    Ok(hex::encode(Sha256::digest(triggers.as_bytes())))
}

/// `pg_trigger.tgtype` of an `AFTER <operation> FOR EACH STATEMENT` trigger: the event's bit
/// (`TRIGGER_TYPE_INSERT` 4, `DELETE` 8, `UPDATE` 16, `TRUNCATE` 32); the ROW (1), BEFORE
/// (2) and INSTEAD (64) bits are clear.
fn tgtype(operation: Operation) -> i32 {
    match operation {
        Operation::Insert => 4,
        Operation::Delete => 8,
        Operation::Update => 16,
        Operation::Truncate => 32,
        Operation::Ddl | Operation::Purge | Operation::Redact => {
            unreachable!("{operation}: not a captured operation (only Operation::ALL has triggers)")
        }
    }
}

fn trigger(capture: &Capture, operation: Operation) -> String {
    let name = capture.trigger_name(operation);
    let table = capture.table();
    let referencing = match operation {
        Operation::Insert => " REFERENCING NEW TABLE AS new_rows",
        Operation::Update => " REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows",
        Operation::Delete => " REFERENCING OLD TABLE AS old_rows",
        Operation::Truncate => "",
        Operation::Ddl | Operation::Purge | Operation::Redact => {
            unreachable!("{operation}: not a captured operation (only Operation::ALL has triggers)")
        }
    };
    format!(
        "DROP TRIGGER IF EXISTS {name} ON {table};\n\
         CREATE TRIGGER {name} AFTER {event} ON {table}{referencing}\n    \
         FOR EACH STATEMENT EXECUTE FUNCTION {function}();\n",
        event = operation.as_str(),
        function = capture.function_name(operation),
    )
}

fn registry_upsert(spec: &TrackSpec, config: &AuditConfig, checksum: &str) -> String {
    format!(
        "INSERT INTO {registry} (table_schema, table_name, spec, fingerprint, checksum)\n\
         VALUES ({schema}, {table}, {spec}::jsonb, {fingerprint}, {checksum})\n\
         ON CONFLICT (table_schema, table_name) DO UPDATE SET spec = EXCLUDED.spec, \
         fingerprint = EXCLUDED.fingerprint, checksum = EXCLUDED.checksum, installed_at = now();",
        registry = config.qualified_registry_table(),
        schema = quote::literal(spec.schema()),
        table = quote::literal(spec.table()),
        spec = quote::literal(&spec.to_json()),
        fingerprint = quote::literal(&spec.fingerprint()),
        checksum = quote::literal(checksum),
    )
}
