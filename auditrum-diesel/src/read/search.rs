//! [`EventSearch`]: the questions of the [query helpers](super::filter), asked of the audit
//! log any [`AuditConfig`] names (any schema, any table name).
//!
//! The Diesel filters are typed on [`schema::auditlog`](crate::schema::auditlog), the
//! default log; a log under another name has no `table!` of its own, so this builds the
//! same conditions as SQL text over [`AuditConfig::qualified_table`]: names through
//! [`sql::quote`](crate::sql::quote), every value a bind parameter. Each condition is
//! answered through the same index as its Diesel filter (see `docs/reading.md`).

use chrono::{DateTime, Utc};
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::{BoxedSqlQuery, SqlQuery};
use diesel::sql_types::{BigInt, Text, Timestamptz};

use super::load::EVENT;
use super::{AuditEvent, EventPage, Page, RecordKey};
use crate::context::keys;
use crate::sql::quote;
use crate::{AuditConfig, Operation, SpecError, TableName};

/// A search of the events of any audit log: conditions added one by one (all must hold),
/// then [`load`](Self::load) (oldest first) or [`page`](Self::page) (newest first) against
/// the log a configuration names.
///
/// ```no_run
/// use auditrum_diesel::read::{EventSearch, Page};
/// use auditrum_diesel::AuditConfig;
/// use diesel::prelude::*;
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let mut conn = PgConnection::establish("postgres://localhost/app")?;
/// let config = AuditConfig::new().with_table("audit.events")?;
/// // Every event of user 7's row, oldest first.
/// let history = EventSearch::new()
///     .record("public", "users", 7)
///     .load(&mut conn, &config, None)?;
/// // What alice deleted, newest first, 50 at a time.
/// let page = EventSearch::new()
///     .user("alice")
///     .operation(auditrum_diesel::Operation::Delete)
///     .page(&mut conn, &config, Page::first(50))?;
/// # let _ = (history, page);
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EventSearch {
    conditions: Vec<Condition>,
}

/// One condition on the events (the log aliased `e`).
#[derive(Debug, Clone, PartialEq)]
enum Condition {
    /// Events of one audited table. Index: `(table_name, record_id, table_schema)`.
    Table { schema: String, table: String },
    /// Events under the key, or moving away from it. With a table: the record index and
    /// the partial index on `old_record_id`.
    Key(String),
    /// Events of contexts whose well-known `key` has `value`: the context table's
    /// expression index, then `auditlog (txid)`.
    Context { key: &'static str, value: String },
    /// Events of one transaction. Index: `(txid)`.
    Transaction(i64),
    /// Events of one operation (compared as text: the enum type lives in the log's schema).
    Operation(Operation),
    /// `changed_at >= from`: partition pruning, then BRIN.
    From(DateTime<Utc>),
    /// `changed_at < to`.
    To(DateTime<Utc>),
    /// Events whose diff or stored row holds the column.
    Touching(String),
}

impl EventSearch {
    /// Every event of the log.
    pub fn new() -> Self {
        Self::default()
    }

    fn and(mut self, condition: Condition) -> Self {
        self.conditions.push(condition);
        self
    }

    /// Events of the table `schema.table`.
    pub fn table(self, schema: &str, table: &str) -> Self {
        self.and(Condition::Table {
            schema: schema.to_owned(),
            table: table.to_owned(),
        })
    }

    /// Events of the table named `table` or `schema.table` (`public` when no schema is given).
    pub fn table_named(self, table: &str) -> Result<Self, SpecError> {
        let spec = TableName::parse(table)?;
        Ok(self.table(spec.schema(), spec.table()))
    }

    /// Events of the record `key` of `schema.table`, including the event that moved it to
    /// another key.
    pub fn record(self, schema: &str, table: &str, key: impl RecordKey) -> Self {
        self.table(schema, table).key(key)
    }

    /// Events under the record key `key` (of any table, unless [`table`](Self::table) says
    /// which), including events that moved a record away from it.
    pub fn key(self, key: impl RecordKey) -> Self {
        self.and(Condition::Key(key.record_id()))
    }

    /// Events of transactions whose context has `user_id = user_id`.
    pub fn user(self, user_id: impl ToString) -> Self {
        self.and(Condition::Context {
            key: keys::USER_ID,
            value: user_id.to_string(),
        })
    }

    /// Events of transactions whose context has `request_id = request_id`.
    pub fn request(self, request_id: impl Into<String>) -> Self {
        self.and(Condition::Context {
            key: keys::REQUEST_ID,
            value: request_id.into(),
        })
    }

    /// Events of the transaction `txid`.
    pub fn transaction(self, txid: i64) -> Self {
        self.and(Condition::Transaction(txid))
    }

    /// Events of one operation.
    pub fn operation(self, operation: Operation) -> Self {
        self.and(Condition::Operation(operation))
    }

    /// Events whose transaction started at or after `from`.
    pub fn since(self, from: DateTime<Utc>) -> Self {
        self.and(Condition::From(from))
    }

    /// Events whose transaction started before `to`.
    pub fn until(self, to: DateTime<Utc>) -> Self {
        self.and(Condition::To(to))
    }

    /// Events whose transaction started in `[from, to)`.
    pub fn between(self, from: DateTime<Utc>, to: DateTime<Utc>) -> Self {
        self.since(from).until(to)
    }

    /// Events that touched `column`: UPDATEs that changed it, INSERTs and DELETEs whose
    /// stored row holds it. Add [`table`](Self::table) for the index.
    pub fn touching(self, column: &str) -> Self {
        self.and(Condition::Touching(column.to_owned()))
    }

    /// The matching events, oldest first, at most `limit` of them.
    pub fn load(
        &self,
        conn: &mut PgConnection,
        config: &AuditConfig,
        limit: Option<i64>,
    ) -> QueryResult<Vec<AuditEvent>> {
        self.query(config, limit).load(conn)
    }

    /// The query [`load`](Self::load) runs (`SELECT` of [`AuditEvent`]'s columns, oldest
    /// first), e.g. to `EXPLAIN` it on your log.
    pub fn query(
        &self,
        config: &AuditConfig,
        limit: Option<i64>,
    ) -> BoxedSqlQuery<'static, Pg, SqlQuery> {
        let mut sql = self.sql(config, None);
        sql.push(" ORDER BY e.id");
        if let Some(limit) = limit {
            sql.push(" LIMIT ");
            sql.bind_i64(limit);
        }
        sql.query()
    }

    /// One page of the matching events, newest first, and the page after it.
    pub fn page(
        &self,
        conn: &mut PgConnection,
        config: &AuditConfig,
        page: Page,
    ) -> QueryResult<EventPage> {
        let mut sql = self.sql(config, page.before);
        sql.push(" ORDER BY e.id DESC LIMIT ");
        sql.bind_i64(page.limit);
        let events: Vec<AuditEvent> = sql.query().load(conn)?;
        let next = match events.last() {
            Some(last) if events.len() as i64 == page.limit => {
                Some(Page::before(last.id, page.limit))
            }
            _ => None,
        };
        Ok(EventPage { events, next })
    }

    /// `SELECT <event> FROM <log> e WHERE <every condition> [AND e.id < before]`.
    fn sql(&self, config: &AuditConfig, before: Option<i64>) -> Sql {
        let mut sql = Sql::new(format!(
            "SELECT {EVENT} FROM {log} e WHERE TRUE",
            log = config.qualified_table()
        ));
        for condition in &self.conditions {
            condition.push(&mut sql, config);
        }
        if let Some(before) = before {
            sql.push(" AND e.id < ");
            sql.bind_i64(before);
        }
        sql
    }
}

impl Condition {
    fn push(&self, sql: &mut Sql, config: &AuditConfig) {
        match self {
            Condition::Table { schema, table } => {
                sql.push(" AND e.table_name = ");
                sql.bind_text(table);
                sql.push(" AND e.table_schema = ");
                sql.bind_text(schema);
            }
            Condition::Key(key) => {
                sql.push(" AND (e.record_id = ");
                sql.bind_text(key);
                sql.push(" OR e.old_record_id = ");
                sql.bind_text(key);
                sql.push(")");
            }
            Condition::Context { key, value } => {
                // The expressions exactly as the indexes have them: the context table's, and
                // the audit table's partial one for events that carry their context. The
                // context is compared again per event: one transaction can hold several.
                let key = quote::literal(key);
                let contexts = format!(
                    "FROM {} c WHERE (c.context ->> {key}) = ",
                    config.qualified_context_table(),
                );
                sql.push(&format!(
                    " AND e.txid = ANY (ARRAY(SELECT c.txid {contexts}"
                ));
                sql.bind_text(value);
                sql.push(&format!(
                    " UNION ALL SELECT i.txid FROM {} i WHERE i.context IS NOT NULL AND (i.context ->> {key}) = ",
                    config.qualified_table()
                ));
                sql.bind_text(value);
                sql.push(&format!(
                    ")) AND (e.context_id = ANY (ARRAY(SELECT c.id {contexts}"
                ));
                sql.bind_text(value);
                sql.push(&format!(")) OR (e.context ->> {key}) = "));
                sql.bind_text(value);
                sql.push(")");
            }
            Condition::Transaction(txid) => {
                sql.push(" AND e.txid = ");
                sql.bind_i64(*txid);
            }
            Condition::Operation(operation) => {
                sql.push(" AND e.operation::text = ");
                sql.bind_text(operation.as_str());
            }
            Condition::From(from) => {
                sql.push(" AND e.changed_at >= ");
                sql.bind_time(*from);
            }
            Condition::To(to) => {
                sql.push(" AND e.changed_at < ");
                sql.bind_time(*to);
            }
            Condition::Touching(column) => {
                sql.push(" AND (e.diff ? ");
                sql.bind_text(column);
                sql.push(" OR (e.operation::text = 'INSERT' AND e.new_data ? ");
                sql.bind_text(column);
                sql.push(") OR (e.operation::text = 'DELETE' AND e.old_data ? ");
                sql.bind_text(column);
                sql.push("))");
            }
        }
    }
}

/// SQL text and its bind values, numbered `$1, $2, …` in the order they are pushed.
struct Sql {
    query: BoxedSqlQuery<'static, Pg, SqlQuery>,
    text: String,
    binds: usize,
}

impl Sql {
    fn new(text: String) -> Self {
        Sql {
            query: diesel::sql_query("").into_boxed(),
            text,
            binds: 0,
        }
    }

    /// Fixed SQL text (never a value).
    fn push(&mut self, text: &str) {
        self.text.push_str(text);
    }

    fn placeholder(&mut self) {
        self.binds += 1;
        self.text.push_str(&format!("${}", self.binds));
    }

    fn bind_text(&mut self, value: &str) {
        self.placeholder();
        let query = std::mem::replace(&mut self.query, diesel::sql_query("").into_boxed());
        self.query = query.bind::<Text, _>(value.to_owned());
    }

    fn bind_i64(&mut self, value: i64) {
        self.placeholder();
        let query = std::mem::replace(&mut self.query, diesel::sql_query("").into_boxed());
        self.query = query.bind::<BigInt, _>(value);
    }

    fn bind_time(&mut self, value: DateTime<Utc>) {
        self.placeholder();
        let query = std::mem::replace(&mut self.query, diesel::sql_query("").into_boxed());
        self.query = query.bind::<Timestamptz, _>(value);
    }

    /// The query: the text, then the values.
    fn query(self) -> BoxedSqlQuery<'static, Pg, SqlQuery> {
        self.query.sql(self.text)
    }
}
