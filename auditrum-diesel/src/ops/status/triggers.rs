//! Does each capture trigger still capture? Its enabled state, timing, events, level,
//! column list, `WHEN` condition, transition tables and arguments, and the function it calls
//! (body, owner, `SECURITY DEFINER`, pinned `search_path`), against what the spec installs.
//! The owner of an audited table may drop, disable or recreate its triggers: that cannot be
//! prevented, so it must be seen.

use diesel::prelude::*;
use diesel::sql_types::{Bool, Integer, Nullable, Text};

use crate::quote;
use crate::sql::ExpectedTrigger;
use crate::{AuditConfig, Error, TrackSpec};

/// The `proconfig` every capture function carries.
const PINNED_SEARCH_PATH: &str = "search_path=pg_catalog, pg_temp";

/// What the catalog holds for one expected trigger and its function.
#[derive(QueryableByName)]
struct Found {
    #[diesel(sql_type = Bool)]
    table_exists: bool,
    #[diesel(sql_type = Nullable<Text>)]
    enabled: Option<String>,
    #[diesel(sql_type = Nullable<Integer>)]
    tgtype: Option<i32>,
    #[diesel(sql_type = Nullable<Bool>)]
    has_when: Option<bool>,
    #[diesel(sql_type = Nullable<Bool>)]
    has_columns: Option<bool>,
    #[diesel(sql_type = Nullable<Integer>)]
    nargs: Option<i32>,
    #[diesel(sql_type = Nullable<Text>)]
    old_table: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    new_table: Option<String>,
    #[diesel(sql_type = Nullable<Bool>)]
    calls_expected: Option<bool>,
    #[diesel(sql_type = Nullable<Text>)]
    body: Option<String>,
    #[diesel(sql_type = Nullable<Bool>)]
    security_definer: Option<bool>,
    #[diesel(sql_type = Nullable<Text>)]
    config: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    owner: Option<String>,
    #[diesel(sql_type = Bool)]
    hardened: bool,
}

/// The first thing wrong with one expected trigger, if any.
pub(super) fn drift(
    conn: &mut PgConnection,
    config: &AuditConfig,
    spec: &TrackSpec,
    expected: &ExpectedTrigger,
) -> Result<Option<String>, Error> {
    let table = quote::qualified(spec.schema(), spec.table());
    let function = quote::qualified(&expected.function_schema, &expected.function);
    let found: Found = diesel::sql_query(
        "SELECT to_regclass($1) IS NOT NULL AS table_exists,
                t.tgenabled::text AS enabled, t.tgtype::int AS tgtype,
                t.tgqual IS NOT NULL AS has_when, t.tgattr::text <> '' AS has_columns,
                t.tgnargs::int AS nargs, t.tgoldtable::text AS old_table,
                t.tgnewtable::text AS new_table,
                t.tgfoid = to_regprocedure($3 || '()') AS calls_expected,
                p.prosrc AS body, p.prosecdef AS security_definer,
                array_to_string(p.proconfig, ',') AS config,
                pg_get_userbyid(p.proowner)::text AS owner,
                (to_regrole($4) IS NOT NULL AND has_table_privilege($4, $5, 'INSERT')) AS hardened
         FROM (SELECT 1) one
         LEFT JOIN pg_trigger t ON t.tgrelid = to_regclass($1) AND t.tgname = $2
         LEFT JOIN pg_proc p ON p.oid = to_regprocedure($3 || '()')",
    )
    .bind::<Text, _>(&table)
    .bind::<Text, _>(&expected.trigger)
    .bind::<Text, _>(&function)
    .bind::<Text, _>(config.capture_role())
    .bind::<Text, _>(config.qualified_table())
    .get_result(conn)?;
    Ok(problem(&found, expected, &function, &config.capture_role()))
}

fn problem(
    found: &Found,
    expected: &ExpectedTrigger,
    function: &str,
    capture_role: &str,
) -> Option<String> {
    let name = &expected.trigger;
    let operation = expected.operation.as_str();
    let unrecorded = format!("{operation} changes are not recorded");
    if !found.table_exists {
        return Some(
            "the table no longer exists under this name: if it was dropped, `untrack` it; if it \
             was renamed, its triggers still file events under the old name: `track` it under \
             the new name and `untrack` the old one"
                .to_owned(),
        );
    }
    let retrack = "re-install it with `track` (or the spec's migration)";
    let problem = match found.enabled.as_deref() {
        None => format!("trigger {name} is missing: {unrecorded}"),
        Some("D") => format!("trigger {name} is disabled: {unrecorded}"),
        Some("R") => format!(
            "trigger {name} fires only in replication sessions (ENABLE REPLICA TRIGGER): {unrecorded}; {retrack}"
        ),
        Some("A") => format!(
            "trigger {name} was set to ENABLE ALWAYS by hand (installed: ENABLE); {retrack}"
        ),
        _ if found.tgtype != Some(expected.tgtype) => format!(
            "trigger {name} is not the installed AFTER {operation} FOR EACH STATEMENT trigger \
             (recreated by hand with another timing, level or events): {retrack}"
        ),
        _ if found.has_when == Some(true) => format!(
            "trigger {name} has a WHEN condition the spec does not (recreated by hand): some \
             {operation} changes may not be recorded; {retrack}"
        ),
        _ if found.has_columns == Some(true) => format!(
            "trigger {name} fires only for some columns (recreated by hand): {retrack}"
        ),
        _ if found.nargs != Some(0)
            || found.old_table.as_deref() != expected.old_table
            || found.new_table.as_deref() != expected.new_table =>
        {
            format!("trigger {name} has other arguments or transition tables than installed: {retrack}")
        }
        _ if found.calls_expected != Some(true) => {
            format!("trigger {name} does not call {function}: {retrack}")
        }
        _ if found.body.as_deref() != Some(expected.body.as_str()) => {
            format!("function {function} differs from the installed spec (changed by hand?)")
        }
        _ if found.security_definer != Some(true)
            || found.config.as_deref() != Some(PINNED_SEARCH_PATH) =>
        {
            format!(
                "function {function} lost SECURITY DEFINER or its pinned search_path (changed by hand): {retrack}"
            )
        }
        _ if found_hardened_owner(found, capture_role) => return None,
        _ => format!(
            "function {function} runs as {}, not as the capture role {capture_role}: run `harden` again",
            found.owner.as_deref().unwrap_or("?")
        ),
    };
    Some(problem)
}

/// Before `harden` (no capture role, or one without rights in this database: role names are
/// global to the cluster) any owner will do; after it, only the capture role.
fn found_hardened_owner(found: &Found, capture_role: &str) -> bool {
    !found.hardened || found.owner.as_deref() == Some(capture_role)
}
