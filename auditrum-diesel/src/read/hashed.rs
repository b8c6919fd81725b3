//! "Every event where email was X", for a `hash(...)` column: X is hashed by the server,
//! with the key the application cannot read, and matched against the stored hashes.

use diesel::prelude::*;
use diesel::sql_types::Text;

use super::{installed_spec, EventWithContext, ReadError};
use crate::sql::hmac;
use crate::{AuditConfig, TableName};

/// The events of `table` (`table` or `schema.table`) in which the hashed column `column`
/// held `value` (before or after the change, or as a `meta` value), oldest first, with
/// their context.
///
/// The value is hashed server-side by the log's hash function: the caller needs `EXECUTE`
/// on it, which `harden` gives to nobody but the capture role — grant it deliberately
/// (`docs/personal-data.md`). Refused when the installed spec does not hash `column`.
///
/// ```no_run
/// # fn demo(conn: &mut diesel::PgConnection) -> Result<(), auditrum_diesel::read::ReadError> {
/// use auditrum_diesel::{read, AuditConfig};
/// let events = read::hashed_events(conn, &AuditConfig::default(), "users", "email", "a@example.com")?;
/// # Ok(()) }
/// ```
pub fn hashed_events(
    conn: &mut PgConnection,
    config: &AuditConfig,
    table: &str,
    column: &str,
    value: &str,
) -> Result<Vec<EventWithContext>, ReadError> {
    let name = TableName::parse(table)?;
    let spec = installed_spec(conn, config, table)?;
    if !spec.hash().iter().any(|c| c == column) {
        return Err(ReadError::NotHashed {
            table: name.display_name(),
            column: column.to_owned(),
            hashed: match spec.hash() {
                [] => "none".to_owned(),
                hashed => hashed.join(", "),
            },
        });
    }
    // The hash is computed once (a CTE), then compared as text with each place a value of
    // the column is stored.
    let query = format!(
        "WITH wanted AS MATERIALIZED (SELECT {hash} AS h) \
         SELECT {event}, {context} AS context \
         FROM wanted, {events} e LEFT JOIN {contexts} c ON c.id = e.context_id \
         WHERE e.table_name = $1 AND e.table_schema = $2 \
           AND (e.new_data ->> $3 = wanted.h OR e.old_data ->> $3 = wanted.h \
                OR e.diff -> $3 ->> 'old' = wanted.h OR e.diff -> $3 ->> 'new' = wanted.h \
                OR e.meta ->> $3 = wanted.h) \
         ORDER BY e.id",
        hash = hmac::call(config, "$4::text"),
        event = super::load::EVENT,
        context = super::EVENT_CONTEXT,
        events = config.qualified_table(),
        contexts = config.qualified_context_table(),
    );
    Ok(diesel::sql_query(query)
        .bind::<Text, _>(name.table())
        .bind::<Text, _>(name.schema())
        .bind::<Text, _>(column)
        .bind::<Text, _>(value)
        .load(conn)?)
}
