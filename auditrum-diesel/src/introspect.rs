//! Reading a table's columns and primary key from the database, to build a [`TrackSpec`]
//! for a table without a model (the CLI's `track`, or the library without derive).

use diesel::prelude::*;
use diesel::sql_types::{Integer, Text};

use crate::{Column, Error, TableName, TrackSpec, TrackSpecBuilder};

#[derive(QueryableByName)]
struct ColumnRow {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    sql_type: String,
    #[diesel(sql_type = Integer)]
    key_position: i32,
}

/// Fills in the columns (with their types) of the builder's table, and its primary key when
/// `use_primary_key` is set, then builds the spec. Fails when the table does not exist, or
/// has no primary key and one is needed, or the spec does not check.
///
/// ```no_run
/// # fn demo(conn: &mut diesel::PgConnection) -> Result<(), auditrum_diesel::Error> {
/// use auditrum_diesel::{introspect, TrackSpec};
/// let spec = introspect::complete(conn, TrackSpec::builder("users").exclude(["password_hash"]), true)?;
/// # Ok(()) }
/// ```
pub fn complete(
    conn: &mut PgConnection,
    builder: TrackSpecBuilder,
    use_primary_key: bool,
) -> Result<TrackSpec, Error> {
    let table = builder.name()?;
    let rows = rows(conn, &table)?;
    let mut key: Vec<&ColumnRow> = rows.iter().filter(|r| r.key_position > 0).collect();
    key.sort_by_key(|r| r.key_position);
    let key: Vec<String> = key.iter().map(|r| r.name.clone()).collect();
    let builder = builder.columns(rows.iter().map(|r| Column::typed(&r.name, &r.sql_type)));
    if !use_primary_key {
        return Ok(builder.build()?);
    }
    if key.is_empty() {
        return Err(Error::NoPrimaryKey {
            table: table.display_name(),
        });
    }
    Ok(builder.key(key).build()?)
}

/// The columns of `table`, with their types, in table order.
pub fn columns(conn: &mut PgConnection, table: &TableName) -> Result<Vec<Column>, Error> {
    Ok(rows(conn, table)?
        .into_iter()
        .map(|r| Column::typed(r.name, r.sql_type))
        .collect())
}

/// The table's columns from the catalog; `TableNotFound` when it has none.
fn rows(conn: &mut PgConnection, table: &TableName) -> Result<Vec<ColumnRow>, Error> {
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
    .bind::<Text, _>(table.schema())
    .bind::<Text, _>(table.table())
    .load(conn)?;
    if rows.is_empty() {
        return Err(Error::TableNotFound {
            table: table.display_name(),
        });
    }
    Ok(rows)
}
