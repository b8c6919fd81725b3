//! Code the application may control inside the capture path.
//!
//! The capture functions run as the capture role (after `harden`), and whatever they call
//! runs with its right to append to the log: the output function and casts to JSON of a
//! column's type, and the functions, operators and types a spec's `condition` uses. When a
//! role other than a superuser owns one of those, that role can run its own code in the
//! capture and forge events. `track` warns and `status` reports it: use built-in or
//! superuser-owned types and functions in audited columns and conditions.

use diesel::prelude::*;
use diesel::sql_types::{Array, Text};

use crate::quote;
use crate::{Error, TrackSpec};

#[derive(QueryableByName)]
struct Untrusted {
    #[diesel(sql_type = Text)]
    what: String,
    #[diesel(sql_type = Text)]
    owner: String,
}

/// One sentence per app-controlled type, function or operator the capture of `spec` runs.
pub fn problems(conn: &mut PgConnection, spec: &TrackSpec) -> Result<Vec<String>, Error> {
    let mut found = column_types(conn, spec)?;
    if let Some(condition) = spec.condition() {
        found.extend(condition_objects(conn, spec, condition)?);
    }
    Ok(found)
}

/// The types of the columns the triggers read, with their element, base, range subtype and
/// composite field types, owned by a role that is not a superuser.
fn column_types(conn: &mut PgConnection, spec: &TrackSpec) -> Result<Vec<String>, Error> {
    let table = quote::qualified(spec.schema(), spec.table());
    let columns = crate::sql::read_columns(spec);
    let rows: Vec<Untrusted> = diesel::sql_query(
        "WITH RECURSIVE types(col, typ) AS (
             SELECT a.attname::text, a.atttypid FROM pg_attribute a
             WHERE a.attrelid = to_regclass($1) AND a.attname = ANY($2) AND a.attnum > 0 AND NOT a.attisdropped
             UNION
             SELECT types.col, sub.oid FROM types JOIN pg_type t ON t.oid = types.typ
             CROSS JOIN LATERAL (
                 SELECT t.typelem WHERE t.typelem <> 0 AND t.typcategory = 'A'
                 UNION ALL SELECT t.typbasetype WHERE t.typbasetype <> 0
                 UNION ALL SELECT rngsubtype FROM pg_range WHERE rngtypid = t.oid
                 UNION ALL SELECT atttypid FROM pg_attribute
                           WHERE attrelid = t.typrelid AND t.typrelid <> 0 AND attnum > 0 AND NOT attisdropped
             ) sub(oid))
         SELECT DISTINCT format('column %s has type %s', quote_ident(types.col), format_type(t.oid, NULL)) AS what,
                r.rolname::text AS owner
         FROM types JOIN pg_type t ON t.oid = types.typ JOIN pg_roles r ON r.oid = t.typowner
         WHERE NOT r.rolsuper
         ORDER BY 1",
    )
    .bind::<Text, _>(&table)
    .bind::<Array<Text>, _>(&columns)
    .load(conn)?;
    Ok(rows.into_iter().map(describe).collect())
}

/// What the condition depends on, found by compiling it into a throwaway SQL function with
/// a `BEGIN ATOMIC` body (PostgreSQL records its dependencies), rolled back at once.
fn condition_objects(
    conn: &mut PgConnection,
    spec: &TrackSpec,
    condition: &str,
) -> Result<Vec<String>, Error> {
    let table = quote::qualified(spec.schema(), spec.table());
    let mut out = Ok(Vec::new());
    let _ = conn.transaction::<(), diesel::result::Error, _>(|conn| {
        out = probe(conn, &table, condition);
        Err(diesel::result::Error::RollbackTransaction)
    });
    out
}

fn probe(conn: &mut PgConnection, table: &str, condition: &str) -> Result<Vec<String>, Error> {
    use diesel::connection::SimpleConnection;
    // The condition is the developer's SQL already embedded in the trigger; here it is only
    // parsed, never run. `validate` refused `;` and `$auditrum$` in it.
    let create = format!(
        "SET LOCAL search_path = pg_catalog, pg_temp;
         CREATE FUNCTION pg_temp.auditrum_condition_probe(new {table}) RETURNS boolean
         LANGUAGE sql BEGIN ATOMIC SELECT ({condition}); END;"
    );
    if let Err(e) = conn.batch_execute(&create) {
        return Ok(vec![format!(
            "its condition could not be checked for app-controlled functions ({})",
            e.to_string().lines().next().unwrap_or_default()
        )]);
    }
    let rows: Vec<Untrusted> = diesel::sql_query(
        "WITH deps AS (
             SELECT d.refclassid, d.refobjid FROM pg_depend d
             WHERE d.classid = 'pg_proc'::regclass
               AND d.objid = 'pg_temp.auditrum_condition_probe'::regproc
               AND d.refobjid <> (SELECT reltype FROM pg_class WHERE oid = to_regclass($1))
               AND d.refobjid <> to_regclass($1))
         SELECT DISTINCT x.what, r.rolname::text AS owner FROM (
             SELECT format('its condition calls function %s', p.oid::regprocedure) AS what, p.proowner AS owner
             FROM deps JOIN pg_proc p ON deps.refclassid = 'pg_proc'::regclass AND p.oid = deps.refobjid
             UNION ALL
             SELECT format('its condition uses operator %s', o.oid::regoperator), o.oprowner
             FROM deps JOIN pg_operator o ON deps.refclassid = 'pg_operator'::regclass AND o.oid = deps.refobjid
             UNION ALL
             SELECT format('its condition uses operator %s (function %s)', o.oid::regoperator, o.oprcode::regprocedure), p.proowner
             FROM deps JOIN pg_operator o ON deps.refclassid = 'pg_operator'::regclass AND o.oid = deps.refobjid
             JOIN pg_proc p ON p.oid = o.oprcode
             UNION ALL
             SELECT format('its condition uses type %s', format_type(t.oid, NULL)), t.typowner
             FROM deps JOIN pg_type t ON deps.refclassid = 'pg_type'::regclass AND t.oid = deps.refobjid
         ) x JOIN pg_roles r ON r.oid = x.owner
         WHERE NOT r.rolsuper
         ORDER BY 1",
    )
    .bind::<Text, _>(table)
    .load(conn)?;
    Ok(rows.into_iter().map(describe).collect())
}

fn describe(row: Untrusted) -> String {
    format!(
        "{} owned by {}, which is not a superuser: its code runs inside the capture, with the \
         right to append to the log (it could forge events); use a built-in or \
         superuser-owned type/function, or audit without it",
        row.what, row.owner
    )
}
