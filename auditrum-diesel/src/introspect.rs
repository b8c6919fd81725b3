//! Reading a table's columns and primary key from the database, to build a [`TrackSpec`]
//! for a table without a model (the CLI's `track`, or the library without derive).

use diesel::prelude::*;
use diesel::sql_types::{Integer, Text};

use crate::{Column, Error, TrackSpec};

#[derive(QueryableByName)]
struct ColumnRow {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    sql_type: String,
    #[diesel(sql_type = Integer)]
    key_position: i32,
}

/// Fills in the columns (with their types) of `spec`'s table, and its primary key when
/// `use_primary_key` is set. Fails when the table does not exist, or has no primary key and
/// one is needed.
///
/// ```no_run
/// # fn demo(conn: &mut diesel::PgConnection) -> Result<(), auditrum_diesel::Error> {
/// use auditrum_diesel::{introspect, TrackSpec};
/// let spec = introspect::complete(conn, TrackSpec::new("users")?.exclude(["password_hash"]), true)?;
/// # Ok(()) }
/// ```
pub fn complete(
    conn: &mut PgConnection,
    spec: TrackSpec,
    use_primary_key: bool,
) -> Result<TrackSpec, Error> {
    let rows: Vec<ColumnRow> = diesel::sql_query(
        "SELECT a.attname::text AS name, format_type(a.atttypid, a.atttypmod) AS sql_type, \
                COALESCE((SELECT k.ord::int FROM unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord) \
                           WHERE k.attnum = a.attnum), 0) AS key_position \
         FROM pg_attribute a \
         LEFT JOIN pg_index i ON i.indrelid = a.attrelid AND i.indisprimary \
         WHERE a.attrelid = to_regclass(format('%I.%I', $1::text, $2::text)) \
           AND a.attnum > 0 AND NOT a.attisdropped \
         ORDER BY a.attnum",
    )
    .bind::<Text, _>(spec.table_schema())
    .bind::<Text, _>(spec.table_name())
    .load(conn)?;
    if rows.is_empty() {
        return Err(Error::TableNotFound {
            table: spec.display_name(),
        });
    }
    let mut key: Vec<&ColumnRow> = rows.iter().filter(|r| r.key_position > 0).collect();
    key.sort_by_key(|r| r.key_position);
    let key: Vec<String> = key.iter().map(|r| r.name.clone()).collect();
    let columns = rows.iter().map(|r| Column::typed(&r.name, &r.sql_type));
    let spec = spec.typed_columns(columns);
    if !use_primary_key {
        return Ok(spec);
    }
    if key.is_empty() {
        return Err(Error::NoPrimaryKey {
            table: spec.display_name(),
        });
    }
    Ok(spec.key(key))
}
