//! The DDL guard `harden` installs: event triggers that refuse, for every role but the admin
//! role, the DDL that switches capture off (dropping, disabling or re-routing a capture
//! trigger; replacing, altering or dropping a capture or helper function), and that record
//! the schema changes of audited tables as `DDL` events, chained like any event. See
//! `ddl_guard.sql` for the rules and docs/hardening.md for what it cannot stop.

use diesel::prelude::*;
use diesel::sql_types::{Bool, Text};

use crate::quote;
use crate::sql::{shorten, template, trigger_names};
use crate::{AuditConfig, Error};

const GUARD: &str = include_str!("ddl_guard.sql");

/// The two event triggers' names (database-wide, so they carry the log's schema and table).
fn event_trigger_names(config: &AuditConfig) -> (String, String) {
    let base = format!("{}_{}_ddl_guard", config.schema(), config.table());
    (
        shorten(&format!("{base}_end")),
        shorten(&format!("{base}_drop")),
    )
}

/// The SQL that installs (or refreshes) the guard; `admin_role` is the role allowed to
/// change capture (without one, the audit table's owner).
pub fn guard_sql(config: &AuditConfig, admin_role: Option<&str>) -> String {
    let (end, drop) = event_trigger_names(config);
    let operation_type = format!("{}.auditrum_operation", quote::ident(config.schema()));
    let helpers = [
        "_context_id",
        "_add_partitions",
        "_chain_seal",
        "_ddl_guard",
    ]
    .iter()
    .map(|suffix| quote::literal(&format!("{}{suffix}", config.table())))
    .collect::<Vec<_>>()
    .join(", ");
    template::render(
        GUARD,
        &[
            ("operation_type_literal", quote::literal(&operation_type)),
            ("operation_type", operation_type),
            ("guard_function", config.object("_ddl_guard")),
            (
                "guard_function_literal",
                quote::literal(&config.object("_ddl_guard")),
            ),
            (
                "admin_role",
                admin_role.map_or("NULL::text".to_owned(), quote::literal),
            ),
            (
                "audit_table_literal",
                quote::literal(&config.qualified_table()),
            ),
            ("audit_table", config.qualified_table()),
            ("context_function", config.object("_context_id")),
            ("schema_literal", quote::literal(config.schema())),
            (
                "trigger_names",
                trigger_names(config)
                    .iter()
                    .map(|n| quote::literal(n))
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
            ("helper_names", helpers),
            ("end_trigger", quote::ident(&end)),
            ("end_trigger_literal", quote::literal(&end)),
            ("drop_trigger", quote::ident(&drop)),
            ("drop_trigger_literal", quote::literal(&drop)),
        ],
    )
}

/// Whether both event triggers of the guard exist and are enabled.
pub fn installed(conn: &mut PgConnection, config: &AuditConfig) -> Result<bool, Error> {
    #[derive(QueryableByName)]
    struct Installed {
        #[diesel(sql_type = Bool)]
        installed: bool,
    }
    let (end, drop) = event_trigger_names(config);
    let found: Installed = diesel::sql_query(
        "SELECT count(*) = 2 AS installed FROM pg_event_trigger
         WHERE evtname IN ($1, $2) AND evtenabled <> 'D'",
    )
    .bind::<Text, _>(end)
    .bind::<Text, _>(drop)
    .get_result(conn)?;
    Ok(found.installed)
}
