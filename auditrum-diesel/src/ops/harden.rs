//! `harden`: the application role can add events (through the triggers) and read them, but
//! not UPDATE, DELETE or TRUNCATE the log or its context storage, nor raise its rights
//! through the capture (see docs/hardening.md for the threat model).
//!
//! The capture functions run as a NOLOGIN capture role holding only `INSERT` on the audit
//! and context tables, not as a powerful owner: whatever app-controlled code runs inside
//! them (a cast or output function of an app type, a condition calling an app function)
//! gets no more than "append to the log". Invoker rights were the alternative, but they
//! need the app role itself to hold `INSERT` on the log, and then it can forge events
//! directly.
//!
//! With an admin role, the admin becomes the owner of the log's tables and of the trigger
//! and helper functions (which run as their owner), so the application role keeps no owner
//! rights over them. Without one, the log's owner stays as it is, and `harden` refuses when
//! that owner is the application role (an owner can always grant itself rights back).
//!
//! It also installs the [DDL guard](super::ddl_guard): only the admin role may drop,
//! disable or re-route capture, and schema changes of audited tables are recorded as events.

use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};

use super::chain::ChainNames;
use crate::quote;
use crate::sql::{template, trigger_names};
use crate::{AuditConfig, Error};

const HARDEN: &str = include_str!("harden.sql");

/// The SQL that hardens the log for `app_role` (and hands it to `admin_role`).
pub fn harden_sql(config: &AuditConfig, app_role: &str, admin_role: Option<&str>) -> String {
    let literal_name = |suffix: &str| quote::literal(&config.object(suffix));
    let chain = ChainNames::new(config);
    let privileges = template::render(
        HARDEN,
        &[
            ("app_role", quote::literal(app_role)),
            ("capture_role", quote::literal(&config.capture_role())),
            (
                "admin_role",
                admin_role.map_or("NULL".to_owned(), quote::literal),
            ),
            ("audit_table", literal_name("")),
            ("context_table", literal_name("_context")),
            ("registry_table", literal_name("_tracked")),
            ("registry_table_ident", config.qualified_registry_table()),
            ("chain_table", quote::literal(&chain.chain_table())),
            ("chain_state_table", quote::literal(&chain.state_table())),
            ("chain_seed_table", quote::literal(&chain.seed_table())),
            (
                "chain_redaction_table",
                quote::literal(&chain.redaction_table()),
            ),
            (
                "chain_mark_function",
                quote::literal(&format!("{}()", chain.mark_function())),
            ),
            (
                "chain_seal_function",
                quote::literal(&format!("{}()", chain.seal_function())),
            ),
            (
                "context_function",
                quote::literal(&format!("{}()", config.object("_context_id"))),
            ),
            (
                "context_overlong_function",
                quote::literal(&format!("{}(jsonb)", config.object("_context_overlong"))),
            ),
            (
                "partitions_function",
                quote::literal(&format!("{}(integer)", config.object("_add_partitions"))),
            ),
            ("schema", quote::literal(config.schema())),
            (
                "trigger_names",
                trigger_names(config)
                    .iter()
                    .map(|n| quote::literal(n))
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
        ],
    );
    // Then the DDL guard: nobody but the admin role switches capture off.
    format!(
        "{privileges}\n{}\n{}",
        crate::sql::hmac::harden_sql(config, admin_role),
        super::ddl_guard::guard_sql(config, admin_role)
    )
}

/// Role names are written into a `DO $auditrum$` block as literals: refuse what could end it.
fn check_role_name(role: &str) -> Result<(), Error> {
    if role.is_empty() || role.chars().any(char::is_control) || role.contains("$auditrum$") {
        return Err(Error::Refused(format!(
            "invalid role name {role:?}: it must be non-empty, without control characters or `$auditrum$`"
        )));
    }
    Ok(())
}

/// Hardens the log in one transaction. Needs a role that may change the owners (a
/// superuser, or a member of the current owner and of the admin role).
pub fn harden(
    conn: &mut PgConnection,
    config: &AuditConfig,
    app_role: &str,
    admin_role: Option<&str>,
) -> Result<(), Error> {
    for role in std::iter::once(app_role).chain(admin_role) {
        check_role_name(role)?;
    }
    let sql = harden_sql(config, app_role, admin_role);
    conn.transaction(|conn| conn.batch_execute(&sql))?;
    Ok(())
}
