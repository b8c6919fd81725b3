//! Query helpers: the usual questions to the log as Diesel filters and boxed queries,
//! each answered through an index (see `docs/architecture.md`).
//!
//! Every helper comes in two forms: a filter ([`EventFilter`], for `.filter(…)` on any
//! query of [`auditlog`]) and a ready query ([`EventQuery`], boxed, selecting
//! [`AuditEvent`]) that the caller extends with more filters, an order or a [`Page`]:
//!
//! ```no_run
//! use auditrum_diesel::read::{filter, AuditEvent, Page};
//! use auditrum_diesel::schema::auditlog;
//! use auditrum_diesel::{Audited, Operation};
//! use diesel::prelude::*;
//!
//! # diesel::table! { users (id) { id -> Integer, email -> Text } }
//! # #[derive(Queryable, Selectable, Audited)]
//! # #[diesel(table_name = users)]
//! # struct User { id: i32, email: String }
//! # fn main() -> QueryResult<()> {
//! # let mut conn = PgConnection::establish("postgres://localhost/app").unwrap();
//! // Every event of user 7's row, oldest first.
//! let history = AuditEvent::for_record::<User>(7)
//!     .order(auditlog::id.asc())
//!     .load(&mut conn)?;
//! // What alice deleted from `users` this week, newest first, 50 at a time.
//! let week_ago = chrono::Utc::now() - chrono::Duration::days(7);
//! let query = AuditEvent::by_user("alice")
//!     .filter(filter::table::<User>())
//!     .filter(filter::between(week_ago, chrono::Utc::now()))
//!     .filter(auditlog::operation.eq(Operation::Delete));
//! let page = Page::first(50).load(&mut conn, query)?;
//! if let Some(next) = page.next {
//!     // … the next 50: `next.load(&mut conn, <the same query>)`
//! #   let _ = next;
//! }
//! # let _ = history;
//! # Ok(())
//! # }
//! ```
//!
//! These work on the default audit log (`public.auditlog`, the names in
//! [`schema`](crate::schema)).

use chrono::{DateTime, Utc};
use diesel::dsl::{sql, AsSelect, SqlTypeOf};
use diesel::expression::BoxableExpression;
use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::sql_types::{Bool, Nullable, Text};

use super::{AuditEvent, RecordKey};
use crate::context::keys;
use crate::quote;
use crate::schema::auditlog;
use crate::{Audited, Operation, TableName};

/// A boxed query of the audit log selecting [`AuditEvent`]s; extend it with `.filter`,
/// `.order`, `.limit`.
pub type EventQuery<'a> = auditlog::BoxedQuery<'a, Pg, SqlTypeOf<AsSelect<AuditEvent, Pg>>>;

/// A boxed condition on the audit log, for `.filter(…)` on any query of [`auditlog`].
pub type EventFilter<'a> =
    Box<dyn BoxableExpression<auditlog::table, Pg, SqlType = Nullable<Bool>> + 'a>;

/// Events of the record `key` of the table `schema.table`, including the event that moved
/// it to another key. Index: `(table_name, record_id, table_schema)`, and the partial
/// `(table_name, old_record_id, table_schema)`.
pub fn record_of(spec_table: (&str, &str), key: impl RecordKey) -> EventFilter<'static> {
    let (schema, table) = (spec_table.0.to_owned(), spec_table.1.to_owned());
    let key = key.record_id();
    Box::new(
        auditlog::table_name
            .eq(table)
            .and(auditlog::table_schema.eq(schema))
            .nullable()
            .and(
                auditlog::record_id
                    .eq(key.clone())
                    .or(auditlog::old_record_id.eq(key)),
            ),
    )
}

/// [`record_of`] for the table of the model `M`.
pub fn record<M: Audited>(key: impl RecordKey) -> EventFilter<'static> {
    let spec = M::track_spec();
    record_of((spec.schema(), spec.table()), key)
}

/// Events of the table `schema.table`. Index: `(table_name, record_id, table_schema)`.
pub fn table_of(schema: &str, table: &str) -> EventFilter<'static> {
    Box::new(
        auditlog::table_name
            .eq(table.to_owned())
            .and(auditlog::table_schema.eq(schema.to_owned()))
            .nullable(),
    )
}

/// Events of the table of the model `M`.
pub fn table<M: Audited>() -> EventFilter<'static> {
    let spec = M::track_spec();
    table_of(spec.schema(), spec.table())
}

/// Events of the table named `table` or `schema.table` (`public` when no schema is given).
pub fn table_named(table: &str) -> Result<EventFilter<'static>, crate::SpecError> {
    let name = TableName::parse(table)?;
    Ok(table_of(name.schema(), name.table()))
}

/// Events written in a context whose `key` equals `value`. Their transactions come from
/// the expression indexes on `context ->> key`: the context table's (contexts stored as a
/// row) and the audit table's partial one (contexts stored on the event); then their
/// events through the index on `auditlog (txid)` (`= ANY (ARRAY(…))`: an index probe per
/// transaction, whatever the planner estimates for the union). The context is compared again per event,
/// since one transaction can hold several contexts. `key` is one of the fixed well-known
/// keys (never a caller's value); `value` is bound.
fn context_is(key: &'static str, value: String) -> EventFilter<'static> {
    let key = quote::literal(key);
    Box::new(
        sql::<Nullable<Bool>>(&format!(
            "(\"auditlog\".\"txid\" = ANY (ARRAY(SELECT c.txid FROM \"auditlog_context\" c WHERE (c.context ->> {key}) = "
        ))
        .bind::<Text, _>(value.clone())
        .sql(&format!(
            " UNION ALL SELECT i.txid FROM \"auditlog\" i WHERE i.context IS NOT NULL AND (i.context ->> {key}) = "
        ))
        .bind::<Text, _>(value.clone())
        .sql(&format!(
            ")) AND (\"auditlog\".\"context_id\" = ANY (ARRAY(SELECT c.id FROM \"auditlog_context\" c WHERE (c.context ->> {key}) = "
        ))
        .bind::<Text, _>(value.clone())
        .sql(&format!(
            ")) OR (\"auditlog\".\"context\" ->> {key}) = "
        ))
        .bind::<Text, _>(value)
        .sql("))"),
    )
}

/// Events of transactions whose context has `user_id = user_id`.
pub fn user(user_id: impl ToString) -> EventFilter<'static> {
    context_is(keys::USER_ID, user_id.to_string())
}

/// Events of transactions whose context has `request_id = request_id`.
pub fn request(request_id: impl Into<String>) -> EventFilter<'static> {
    context_is(keys::REQUEST_ID, request_id.into())
}

/// Events of the transaction `txid`. Index: `auditlog (txid)`.
pub fn transaction(txid: i64) -> EventFilter<'static> {
    Box::new(auditlog::txid.eq(txid).nullable())
}

/// Events whose transaction started in `[from, to)`. Partition pruning, then the BRIN
/// index on `changed_at`.
pub fn between(from: DateTime<Utc>, to: DateTime<Utc>) -> EventFilter<'static> {
    Box::new(
        auditlog::changed_at
            .ge(from)
            .and(auditlog::changed_at.lt(to))
            .nullable(),
    )
}

/// Events that touched `column` of `schema.table`: UPDATEs that changed it, and INSERTs
/// and DELETEs whose stored row holds it. Index: `(table_name, record_id, table_schema)`.
pub fn touching_of(schema: &str, table: &str, column: &str) -> EventFilter<'static> {
    let column = column.to_owned();
    Box::new(
        table_of(schema, table).and(
            auditlog::diff
                .has_key(column.clone())
                .or(auditlog::operation
                    .eq(Operation::Insert)
                    .nullable()
                    .and(auditlog::new_data.has_key(column.clone())))
                .or(auditlog::operation
                    .eq(Operation::Delete)
                    .nullable()
                    .and(auditlog::old_data.has_key(column))),
        ),
    )
}

/// [`touching_of`] for the table of the model `M`; `column` is the SQL column name.
pub fn touching<M: Audited>(column: &str) -> EventFilter<'static> {
    let spec = M::track_spec();
    touching_of(spec.schema(), spec.table(), column)
}

/// The ready queries: `AuditEvent::for_record::<User>(7)` and friends.
impl AuditEvent {
    /// Every event of the log, as a boxed query to extend.
    pub fn query<'a>() -> EventQuery<'a> {
        auditlog::table.select(AuditEvent::as_select()).into_boxed()
    }

    /// Events of the record `key` of `M`'s table ([`filter::record`](record)).
    pub fn for_record<M: Audited>(key: impl RecordKey) -> EventQuery<'static> {
        Self::query().filter(record::<M>(key))
    }

    /// Events of `M`'s table ([`filter::table`](table())).
    pub fn for_table<M: Audited>() -> EventQuery<'static> {
        Self::query().filter(table::<M>())
    }

    /// Events of the table `table` or `schema.table` ([`filter::table_named`](table_named)).
    pub fn of_table(table: &str) -> Result<EventQuery<'static>, crate::SpecError> {
        Ok(Self::query().filter(table_named(table)?))
    }

    /// Events written by the user `user_id` ([`filter::user`](user)).
    pub fn by_user(user_id: impl ToString) -> EventQuery<'static> {
        Self::query().filter(user(user_id))
    }

    /// Events written by the request `request_id` ([`filter::request`](request)).
    pub fn by_request(request_id: impl Into<String>) -> EventQuery<'static> {
        Self::query().filter(request(request_id))
    }

    /// Events of the transaction `txid` ([`filter::transaction`](transaction)).
    pub fn in_transaction(txid: i64) -> EventQuery<'static> {
        Self::query().filter(transaction(txid))
    }

    /// Events of transactions started in `[from, to)` ([`filter::between`](between)).
    pub fn between(from: DateTime<Utc>, to: DateTime<Utc>) -> EventQuery<'static> {
        Self::query().filter(between(from, to))
    }

    /// Events that touched `column` of `M`'s table ([`filter::touching`](touching)).
    pub fn touching<M: Audited>(column: &str) -> EventQuery<'static> {
        Self::query().filter(touching::<M>(column))
    }
}

/// Newest-first keyset pagination: a page is the `limit` events with the highest ids
/// below `before`. Unlike `OFFSET`, a page costs the same wherever it is, and events
/// written meanwhile do not shift the pages. Index: the primary key `(id, changed_at)`,
/// read backwards (or the filter's own index, then a sort of its rows).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    /// Only events with an id below this one; `None` for the newest.
    pub before: Option<i64>,
    /// How many events.
    pub limit: i64,
}

/// One page of events, newest first, and the page after it.
#[derive(Debug, Clone, PartialEq)]
pub struct EventPage {
    /// The events, newest (highest id) first.
    pub events: Vec<AuditEvent>,
    /// The next (older) page, or `None` when this one was the last.
    pub next: Option<Page>,
}

impl Page {
    /// The newest `limit` events.
    pub fn first(limit: i64) -> Self {
        Page {
            before: None,
            limit,
        }
    }

    /// The `limit` events just older than the event `id`.
    pub fn before(id: i64, limit: i64) -> Self {
        Page {
            before: Some(id),
            limit,
        }
    }

    /// `query` restricted to this page and ordered newest first.
    pub fn apply<'a>(&self, query: EventQuery<'a>) -> EventQuery<'a> {
        let query = match self.before {
            Some(id) => query.filter(auditlog::id.lt(id)),
            None => query,
        };
        query.order(auditlog::id.desc()).limit(self.limit)
    }

    /// Loads this page of `query`.
    pub fn load(&self, conn: &mut PgConnection, query: EventQuery<'_>) -> QueryResult<EventPage> {
        let events = self.apply(query).load(conn)?;
        let next = match events.last() {
            Some(last) if events.len() as i64 == self.limit => {
                Some(Page::before(last.id, self.limit))
            }
            _ => None,
        };
        Ok(EventPage { events, next })
    }
}
