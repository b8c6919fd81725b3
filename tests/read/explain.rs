//! `EXPLAIN` of a Diesel query, and the index names of the audit log's partitions.

use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::Text;

/// `EXPLAIN <query>`, sent with the query's bind parameters.
#[derive(Debug)]
pub struct Explain<Q>(pub Q);

impl<Q> QueryId for Explain<Q> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<Q> Query for Explain<Q> {
    type SqlType = Text;
}

impl<Q> RunQueryDsl<PgConnection> for Explain<Q> {}

impl<Q: QueryFragment<Pg>> QueryFragment<Pg> for Explain<Q> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        out.push_sql("EXPLAIN ");
        self.0.walk_ast(out.reborrow())
    }
}

/// The plan of `query`, as text.
pub fn plan<Q: QueryFragment<Pg>>(conn: &mut PgConnection, query: Q) -> String {
    Explain(query)
        .load::<String>(conn)
        .expect("EXPLAIN runs")
        .join("\n")
}

/// The names of the partitions' indexes attached to the audit log's index `parent`.
pub fn partition_indexes(conn: &mut PgConnection, parent: &str) -> Vec<String> {
    #[derive(QueryableByName)]
    struct Name {
        #[diesel(sql_type = Text)]
        relname: String,
    }
    let names: Vec<Name> = diesel::sql_query(
        "SELECT c.relname::text AS relname FROM pg_inherits i \
         JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent \
         WHERE p.relname = $1",
    )
    .bind::<Text, _>(parent)
    .load(conn)
    .expect("index names");
    let mut names: Vec<String> = names.into_iter().map(|n| n.relname).collect();
    names.push(parent.to_owned());
    names
}
