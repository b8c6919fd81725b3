//! Turning rebuilt rows (JSON) into the caller's model, in PostgreSQL.
//!
//! A model is `Queryable + Selectable`, not `Deserialize`: so the rows go to the server as
//! one `jsonb` array, `jsonb_populate_record(NULL::<table>, …)` turns each into a row of
//! the table's own type (the same conversions the table applies), and the model's own
//! select clause reads it, with column names unqualified (Diesel's `skip_from`) so they
//! name the rebuilt row rather than the table.

use diesel::deserialize::FromSqlRow;
use diesel::dsl::SqlTypeOf;
use diesel::expression::{QueryMetadata, TypedExpressionType};
use diesel::pg::{Pg, PgRowByRowLoadingMode};
use diesel::prelude::*;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::{Jsonb, SqlType, Text};
use serde_json::{json, Map, Value};

use super::key::key_parts;
use super::replay::Snapshot;
use crate::quote;
use crate::sql;
use crate::{AuditConfig, Audited, TrackSpec};

/// Renders `select` with unqualified column names.
fn unqualified<'b, S: QueryFragment<Pg>>(
    select: &'b S,
    mut out: AstPass<'_, 'b, Pg>,
) -> QueryResult<()> {
    let skipping = out.should_skip_from();
    out.skip_from(true);
    select.walk_ast(out.reborrow())?;
    out.skip_from(skipping);
    Ok(())
}

/// The select list of the JSON readers: the rebuilt row as an object.
#[derive(Debug, Clone, Copy)]
pub(crate) struct JsonRow;

impl QueryFragment<Pg> for JsonRow {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql("auditrum_json");
        Ok(())
    }
}

impl Expression for JsonRow {
    type SqlType = Jsonb;
}

/// What the readers select: the model's select clause, or [`JsonRow`].
pub(crate) trait SelectList: QueryFragment<Pg> {
    /// Its SQL type.
    type SqlType;
}

impl<S: Expression + QueryFragment<Pg>> SelectList for S {
    type SqlType = S::SqlType;
}

/// A Diesel model the time-travel readers can build: `Queryable + Selectable` for
/// PostgreSQL, and [`Audited`]. Implemented for every such model.
pub trait Model: Audited + Sized + 'static {
    /// Loads rebuilt rows (a JSON array of `{"state", "key"}`) as models.
    #[doc(hidden)]
    fn __load_rebuilt(
        conn: &mut PgConnection,
        spec: &TrackSpec,
        items: Value,
    ) -> QueryResult<Vec<Self>>;

    /// Streams the live rows the log has no event of, as models.
    #[doc(hidden)]
    fn __live_without_events<'c>(
        conn: &'c mut PgConnection,
        config: &AuditConfig,
        spec: &TrackSpec,
    ) -> QueryResult<Box<dyn Iterator<Item = QueryResult<Self>> + 'c>>;
}

impl<M> Model for M
where
    M: Audited + Selectable<Pg> + 'static,
    M::SelectExpression: QueryFragment<Pg> + QueryId,
    SqlTypeOf<M::SelectExpression>: SqlType + TypedExpressionType + 'static,
    M: FromSqlRow<SqlTypeOf<M::SelectExpression>, Pg>,
    Pg: QueryMetadata<SqlTypeOf<M::SelectExpression>>,
{
    fn __load_rebuilt(
        conn: &mut PgConnection,
        spec: &TrackSpec,
        items: Value,
    ) -> QueryResult<Vec<Self>> {
        FromSnapshots::new(M::as_select(), spec, items).load(conn)
    }

    fn __live_without_events<'c>(
        conn: &'c mut PgConnection,
        config: &AuditConfig,
        spec: &TrackSpec,
    ) -> QueryResult<Box<dyn Iterator<Item = QueryResult<Self>> + 'c>> {
        let query = LiveWithoutEvents::new(M::as_select(), config, spec);
        Ok(Box::new(query.load_iter::<M, PgRowByRowLoadingMode>(conn)?))
    }
}

/// The rows a table stream yields: models, or JSON objects.
pub(crate) trait Rows<T> {
    /// [`Model::__load_rebuilt`].
    fn rebuilt(conn: &mut PgConnection, spec: &TrackSpec, items: Value) -> QueryResult<Vec<T>>;
    /// [`Model::__live_without_events`].
    fn live_without_events<'c>(
        conn: &'c mut PgConnection,
        config: &AuditConfig,
        spec: &TrackSpec,
    ) -> QueryResult<Box<dyn Iterator<Item = QueryResult<T>> + 'c>>;
}

/// Rows as models.
pub(crate) struct Models;

impl<M: Model> Rows<M> for Models {
    fn rebuilt(conn: &mut PgConnection, spec: &TrackSpec, items: Value) -> QueryResult<Vec<M>> {
        M::__load_rebuilt(conn, spec, items)
    }

    fn live_without_events<'c>(
        conn: &'c mut PgConnection,
        config: &AuditConfig,
        spec: &TrackSpec,
    ) -> QueryResult<Box<dyn Iterator<Item = QueryResult<M>> + 'c>> {
        M::__live_without_events(conn, config, spec)
    }
}

/// Rows as JSON objects.
pub(crate) struct Json;

impl Rows<Value> for Json {
    fn rebuilt(conn: &mut PgConnection, spec: &TrackSpec, items: Value) -> QueryResult<Vec<Value>> {
        FromSnapshots::new(JsonRow, spec, items).load(conn)
    }

    fn live_without_events<'c>(
        conn: &'c mut PgConnection,
        config: &AuditConfig,
        spec: &TrackSpec,
    ) -> QueryResult<Box<dyn Iterator<Item = QueryResult<Value>> + 'c>> {
        let query = LiveWithoutEvents::new(JsonRow, config, spec);
        Ok(Box::new(
            query.load_iter::<Value, PgRowByRowLoadingMode>(conn)?,
        ))
    }
}

/// Rows rebuilt from the log, merged over the live row where their life goes on:
/// `items` is a JSON array of `{"state": {…}, "key": {…} | null}`.
pub(crate) struct FromSnapshots<S> {
    select: S,
    table: String,
    key_columns: Vec<String>,
    items: Value,
}

/// The JSON array [`FromSnapshots`] reads.
pub(crate) fn items(spec: &TrackSpec, snapshots: &[Snapshot]) -> Value {
    snapshots
        .iter()
        .map(|snapshot| {
            let key = snapshot
                .current
                .then(|| key_object(spec.key(), &snapshot.live_key));
            json!({"state": snapshot.values, "key": key})
        })
        .collect()
}

impl<S> FromSnapshots<S> {
    pub fn new(select: S, spec: &TrackSpec, items: Value) -> Self {
        FromSnapshots {
            select,
            table: quote::qualified(spec.schema(), spec.table()),
            key_columns: spec.key().to_vec(),
            items,
        }
    }
}

/// `{"a": …, "b": …}` of a stored key.
pub(crate) fn key_object(key_columns: &[String], record_id: &str) -> Value {
    let parts = key_parts(record_id, key_columns.len());
    Value::Object(
        key_columns
            .iter()
            .cloned()
            .zip(parts)
            .collect::<Map<_, _>>(),
    )
}

impl<S: SelectList> QueryFragment<Pg> for FromSnapshots<S> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql("SELECT ");
        unqualified(&self.select, out.reborrow())?;
        out.push_sql(" FROM jsonb_array_elements(");
        out.push_bind_param::<Jsonb, _>(&self.items)?;
        out.push_sql(
            ") WITH ORDINALITY AS auditrum_items(auditrum_item, auditrum_n) \
             LEFT JOIN LATERAL (SELECT to_jsonb(auditrum_l) AS auditrum_live FROM ",
        );
        out.push_sql(&self.table);
        out.push_sql(" AS auditrum_l, jsonb_populate_record(NULL::");
        out.push_sql(&self.table);
        out.push_sql(
            ", NULLIF(auditrum_items.auditrum_item -> 'key', 'null'::jsonb)) AS auditrum_k WHERE ",
        );
        for (i, column) in self.key_columns.iter().enumerate() {
            if i > 0 {
                out.push_sql(" AND ");
            }
            let column = quote::ident(column);
            out.push_sql(&format!("auditrum_l.{column} = auditrum_k.{column}"));
        }
        out.push_sql(
            ") AS auditrum_lives ON true \
             CROSS JOIN LATERAL (SELECT coalesce(auditrum_lives.auditrum_live, '{}'::jsonb) \
                 || (auditrum_items.auditrum_item -> 'state') AS auditrum_json) AS auditrum_merged \
             CROSS JOIN LATERAL jsonb_populate_record(NULL::",
        );
        out.push_sql(&self.table);
        out.push_sql(
            ", auditrum_merged.auditrum_json) AS auditrum_row ORDER BY auditrum_items.auditrum_n",
        );
        Ok(())
    }
}

impl<S> QueryId for FromSnapshots<S> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<S: SelectList> Query for FromSnapshots<S> {
    type SqlType = S::SqlType;
}

impl<S> RunQueryDsl<PgConnection> for FromSnapshots<S> {}

/// Live rows of which the log holds no event at all (they predate the log, or were
/// written with the triggers off): the log has nothing to say, so they are as they are.
pub(crate) struct LiveWithoutEvents<S> {
    select: S,
    table: String,
    log: String,
    table_schema: String,
    table_name: String,
    key: String,
}

impl<S> LiveWithoutEvents<S> {
    pub fn new(select: S, config: &AuditConfig, spec: &TrackSpec) -> Self {
        LiveWithoutEvents {
            select,
            table: quote::qualified(spec.schema(), spec.table()),
            log: config.qualified_table(),
            table_schema: spec.schema().to_owned(),
            table_name: spec.table().to_owned(),
            key: sql::key::record_id("auditrum_row", spec.key()),
        }
    }
}

impl<S: SelectList> QueryFragment<Pg> for LiveWithoutEvents<S> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql("SELECT ");
        unqualified(&self.select, out.reborrow())?;
        out.push_sql(" FROM ");
        out.push_sql(&self.table);
        out.push_sql(" AS auditrum_row CROSS JOIN LATERAL (SELECT to_jsonb(auditrum_row) AS auditrum_json) AS auditrum_merged WHERE ");
        // Two anti-joins rather than one with OR: each can hash or use its own index.
        for (i, column) in ["record_id", "old_record_id"].into_iter().enumerate() {
            if i > 0 {
                out.push_sql(" AND ");
            }
            out.push_sql("NOT EXISTS (SELECT FROM ");
            out.push_sql(&self.log);
            out.push_sql(" AS e WHERE e.table_name = ");
            out.push_bind_param::<Text, _>(&self.table_name)?;
            out.push_sql(" AND e.table_schema = ");
            out.push_bind_param::<Text, _>(&self.table_schema)?;
            out.push_sql(&format!(" AND e.{column} = {})", self.key));
        }
        Ok(())
    }
}

impl<S> QueryId for LiveWithoutEvents<S> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<S: SelectList> Query for LiveWithoutEvents<S> {
    type SqlType = S::SqlType;
}

impl<S> RunQueryDsl<PgConnection> for LiveWithoutEvents<S> {}
