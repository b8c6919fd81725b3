//! The three kinds of archived rows (events, contexts, chain links): how each is read from
//! PostgreSQL and how it maps to an Arrow record batch, both ways.
//!
//! JSON columns are stored as the text PostgreSQL prints for them (its canonical `jsonb`
//! output), so the chain's payload can be rebuilt byte for byte from the files, and every
//! engine reads them as strings (DuckDB: `json_extract_string(diff, '$.email.new')`).
//! Instants are microseconds since the Unix epoch in UTC, the precision PostgreSQL keeps.

use std::sync::Arc;

use arrow_array::builder::{Int64Builder, StringBuilder, TimestampMicrosecondBuilder};
use arrow_array::{
    Array, ArrayRef, Int64Array, RecordBatch, StringArray, TimestampMicrosecondArray,
};
use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};
use diesel::sql_types::{BigInt, Nullable, Text};
use diesel::QueryableByName;

/// Which table of the log a file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// The audit events.
    Events,
    /// The context rows the events point at.
    Contexts,
    /// The hash-chain links covering the events.
    Chain,
}

impl Kind {
    /// Every kind, in the order they are written.
    pub const ALL: [Kind; 3] = [Kind::Events, Kind::Contexts, Kind::Chain];

    /// The suffix of the table's name after the audit table's (`auditlog` + suffix).
    pub fn table_suffix(self) -> &'static str {
        match self {
            Kind::Events => "",
            Kind::Contexts => "_context",
            Kind::Chain => "_chain",
        }
    }
}

/// An archived event.
#[derive(Debug, Clone, PartialEq, QueryableByName)]
pub struct EventRow {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = BigInt)]
    pub changed_at_us: i64,
    #[diesel(sql_type = Text)]
    pub operation: String,
    #[diesel(sql_type = Text)]
    pub table_schema: String,
    #[diesel(sql_type = Text)]
    pub table_name: String,
    #[diesel(sql_type = Nullable<Text>)]
    pub record_id: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub old_record_id: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub diff: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub old_data: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub new_data: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    pub meta: Option<String>,
    #[diesel(sql_type = BigInt)]
    pub txid: i64,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub context_id: Option<i64>,
    /// The context the event carries itself (core schema 3; `None` in older archives).
    #[diesel(sql_type = Nullable<Text>)]
    pub context: Option<String>,
    /// Hash chain, payload version 2: the event's seed (while it has one)…
    #[diesel(sql_type = Nullable<Text>)]
    pub chain_seed: Option<String>,
    /// …or, once a redaction touched it, its values' salts and erased values' digests
    /// (`{"<path>": {"salt": …, "digest": …}}`).
    #[diesel(sql_type = Nullable<Text>)]
    pub chain_salts: Option<String>,
}

/// SQL selecting [`EventRow`]s from the events aliased `e`.
pub const EVENT_COLUMNS_SQL: &str =
    "e.id, (extract(epoch FROM e.changed_at) * 1000000)::bigint AS changed_at_us, \
     e.operation::text AS operation, e.table_schema, e.table_name, e.record_id, e.old_record_id, \
     e.diff::text AS diff, e.old_data::text AS old_data, e.new_data::text AS new_data, \
     e.meta::text AS meta, e.txid, e.context_id, e.context::text AS context";

/// SQL selecting the chain columns of [`EventRow`] for the events aliased `e`: the event's
/// seed and salts from the chain's tables (`None`: no chain, both `NULL`).
pub fn event_chain_columns_sql(chain: Option<&crate::ops::chain::ChainNames>) -> String {
    match chain {
        None => "NULL::text AS chain_seed, NULL::text AS chain_salts".to_owned(),
        Some(names) => format!(
            "COALESCE((SELECT s.seed FROM {seeds} s WHERE s.event_id = e.id),
                      (SELECT encode(sha256(convert_to(l.seed::text || '|' || e.id::text, 'UTF8')), 'hex')
                       FROM {chain} l WHERE l.txid = e.txid)) AS chain_seed,
             (SELECT jsonb_object_agg(r.path, jsonb_build_object('salt', r.salt, 'digest', r.digest))::text
              FROM {redaction} r WHERE r.event_id = e.id) AS chain_salts",
            seeds = names.seed_table(),
            chain = names.chain_table(),
            redaction = names.redaction_table(),
        ),
    }
}

/// An archived context row.
#[derive(Debug, Clone, PartialEq, QueryableByName)]
pub struct ContextRow {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = BigInt)]
    pub txid: i64,
    #[diesel(sql_type = BigInt)]
    pub created_at_us: i64,
    #[diesel(sql_type = Text)]
    pub context: String,
}

/// SQL selecting [`ContextRow`]s from the context rows aliased `c`.
pub const CONTEXT_COLUMNS_SQL: &str = "c.id, c.txid, \
     (extract(epoch FROM c.created_at) * 1000000)::bigint AS created_at_us, c.context::text AS context";

/// An archived chain link.
#[derive(Debug, Clone, PartialEq, QueryableByName)]
pub struct LinkRow {
    #[diesel(sql_type = BigInt)]
    pub seq: i64,
    #[diesel(sql_type = BigInt)]
    pub txid: i64,
    #[diesel(sql_type = BigInt)]
    pub event_count: i64,
    #[diesel(sql_type = BigInt)]
    pub first_event_id: i64,
    #[diesel(sql_type = BigInt)]
    pub last_event_id: i64,
    #[diesel(sql_type = Text)]
    pub events_hash: String,
    #[diesel(sql_type = Text)]
    pub prev_hash: String,
    #[diesel(sql_type = Text)]
    pub link_hash: String,
    #[diesel(sql_type = BigInt)]
    pub started_at_us: i64,
    #[diesel(sql_type = BigInt)]
    pub sealed_at_us: i64,
    /// The payload version of its events hash (1, 2, or 3: 1 re-hashed as 2 by a redaction).
    #[diesel(sql_type = BigInt)]
    pub payload_version: i64,
}

/// SQL selecting [`LinkRow`]s from the links aliased `l`.
pub const LINK_COLUMNS_SQL: &str = "l.seq, l.txid, l.event_count::bigint AS event_count, \
     l.first_event_id, l.last_event_id, l.events_hash, l.prev_hash, l.link_hash, \
     (extract(epoch FROM l.started_at) * 1000000)::bigint AS started_at_us, \
     (extract(epoch FROM l.sealed_at) * 1000000)::bigint AS sealed_at_us, \
     l.payload_version::bigint AS payload_version";

/// A row type stored in the archive.
pub trait ArchivedRow: Sized {
    /// The kind of file it goes to.
    const KIND: Kind;
    /// The Arrow schema of its files.
    fn schema() -> SchemaRef;
    /// Rows to a record batch.
    fn to_batch(rows: &[Self]) -> RecordBatch;
    /// A record batch back to rows; `None` when the batch does not have the schema.
    fn from_batch(batch: &RecordBatch) -> Option<Vec<Self>>;
}

fn int(name: &str) -> Field {
    Field::new(name, DataType::Int64, false)
}
fn opt_int(name: &str) -> Field {
    Field::new(name, DataType::Int64, true)
}
fn text(name: &str) -> Field {
    Field::new(name, DataType::Utf8, false)
}
fn opt_text(name: &str) -> Field {
    Field::new(name, DataType::Utf8, true)
}
fn instant(name: &str) -> Field {
    Field::new(
        name,
        DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
        false,
    )
}

fn ints(values: impl Iterator<Item = Option<i64>>) -> ArrayRef {
    let mut b = Int64Builder::new();
    values.for_each(|v| b.append_option(v));
    Arc::new(b.finish())
}
fn strings<'a>(values: impl Iterator<Item = Option<&'a str>>) -> ArrayRef {
    let mut b = StringBuilder::new();
    values.for_each(|v| b.append_option(v));
    Arc::new(b.finish())
}
fn instants(values: impl Iterator<Item = i64>) -> ArrayRef {
    let mut b = TimestampMicrosecondBuilder::new().with_timezone("UTC");
    values.for_each(|v| b.append_value(v));
    Arc::new(b.finish())
}

/// Typed access to a batch's columns by name.
struct Columns<'a>(&'a RecordBatch);

impl<'a> Columns<'a> {
    fn int(&self, name: &str) -> Option<&'a Int64Array> {
        self.0.column_by_name(name)?.as_any().downcast_ref()
    }
    fn text(&self, name: &str) -> Option<&'a StringArray> {
        self.0.column_by_name(name)?.as_any().downcast_ref()
    }
    fn instant(&self, name: &str) -> Option<&'a TimestampMicrosecondArray> {
        self.0.column_by_name(name)?.as_any().downcast_ref()
    }
}

fn opt_str(a: &StringArray, i: usize) -> Option<String> {
    a.is_valid(i).then(|| a.value(i).to_owned())
}
fn opt_i64(a: &Int64Array, i: usize) -> Option<i64> {
    a.is_valid(i).then(|| a.value(i))
}

impl ArchivedRow for EventRow {
    const KIND: Kind = Kind::Events;

    fn schema() -> SchemaRef {
        Arc::new(Schema::new(vec![
            int("id"),
            instant("changed_at"),
            text("operation"),
            text("table_schema"),
            text("table_name"),
            opt_text("record_id"),
            opt_text("old_record_id"),
            opt_text("diff"),
            opt_text("old_data"),
            opt_text("new_data"),
            opt_text("meta"),
            int("txid"),
            opt_int("context_id"),
            opt_text("context"),
            opt_text("chain_seed"),
            opt_text("chain_salts"),
        ]))
    }

    fn to_batch(rows: &[Self]) -> RecordBatch {
        let columns = vec![
            ints(rows.iter().map(|r| Some(r.id))),
            instants(rows.iter().map(|r| r.changed_at_us)),
            strings(rows.iter().map(|r| Some(r.operation.as_str()))),
            strings(rows.iter().map(|r| Some(r.table_schema.as_str()))),
            strings(rows.iter().map(|r| Some(r.table_name.as_str()))),
            strings(rows.iter().map(|r| r.record_id.as_deref())),
            strings(rows.iter().map(|r| r.old_record_id.as_deref())),
            strings(rows.iter().map(|r| r.diff.as_deref())),
            strings(rows.iter().map(|r| r.old_data.as_deref())),
            strings(rows.iter().map(|r| r.new_data.as_deref())),
            strings(rows.iter().map(|r| r.meta.as_deref())),
            ints(rows.iter().map(|r| Some(r.txid))),
            ints(rows.iter().map(|r| r.context_id)),
            strings(rows.iter().map(|r| r.context.as_deref())),
            strings(rows.iter().map(|r| r.chain_seed.as_deref())),
            strings(rows.iter().map(|r| r.chain_salts.as_deref())),
        ];
        RecordBatch::try_new(Self::schema(), columns).expect("columns match the schema")
    }

    fn from_batch(batch: &RecordBatch) -> Option<Vec<Self>> {
        let c = Columns(batch);
        let (id, at, op) = (c.int("id")?, c.instant("changed_at")?, c.text("operation")?);
        let (schema, table) = (c.text("table_schema")?, c.text("table_name")?);
        let (record, old_record) = (c.text("record_id")?, c.text("old_record_id")?);
        let (diff, old, new, meta) = (
            c.text("diff")?,
            c.text("old_data")?,
            c.text("new_data")?,
            c.text("meta")?,
        );
        let (txid, context) = (c.int("txid")?, c.int("context_id")?);
        // Archives written before core schema 3 have no `context` column.
        let inline = c.text("context");
        // Absent from archives written before payload version 2.
        let (seed, salts) = (c.text("chain_seed"), c.text("chain_salts"));
        Some(
            (0..batch.num_rows())
                .map(|i| EventRow {
                    id: id.value(i),
                    changed_at_us: at.value(i),
                    operation: op.value(i).to_owned(),
                    table_schema: schema.value(i).to_owned(),
                    table_name: table.value(i).to_owned(),
                    record_id: opt_str(record, i),
                    old_record_id: opt_str(old_record, i),
                    diff: opt_str(diff, i),
                    old_data: opt_str(old, i),
                    new_data: opt_str(new, i),
                    meta: opt_str(meta, i),
                    txid: txid.value(i),
                    context_id: opt_i64(context, i),
                    context: inline.and_then(|a| opt_str(a, i)),
                    chain_seed: seed.and_then(|a| opt_str(a, i)),
                    chain_salts: salts.and_then(|a| opt_str(a, i)),
                })
                .collect(),
        )
    }
}

impl ArchivedRow for ContextRow {
    const KIND: Kind = Kind::Contexts;

    fn schema() -> SchemaRef {
        Arc::new(Schema::new(vec![
            int("id"),
            int("txid"),
            instant("created_at"),
            text("context"),
        ]))
    }

    fn to_batch(rows: &[Self]) -> RecordBatch {
        let columns = vec![
            ints(rows.iter().map(|r| Some(r.id))),
            ints(rows.iter().map(|r| Some(r.txid))),
            instants(rows.iter().map(|r| r.created_at_us)),
            strings(rows.iter().map(|r| Some(r.context.as_str()))),
        ];
        RecordBatch::try_new(Self::schema(), columns).expect("columns match the schema")
    }

    fn from_batch(batch: &RecordBatch) -> Option<Vec<Self>> {
        let c = Columns(batch);
        let (id, txid, at, context) = (
            c.int("id")?,
            c.int("txid")?,
            c.instant("created_at")?,
            c.text("context")?,
        );
        Some(
            (0..batch.num_rows())
                .map(|i| ContextRow {
                    id: id.value(i),
                    txid: txid.value(i),
                    created_at_us: at.value(i),
                    context: context.value(i).to_owned(),
                })
                .collect(),
        )
    }
}

impl ArchivedRow for LinkRow {
    const KIND: Kind = Kind::Chain;

    fn schema() -> SchemaRef {
        Arc::new(Schema::new(vec![
            int("seq"),
            int("txid"),
            int("event_count"),
            int("first_event_id"),
            int("last_event_id"),
            text("events_hash"),
            text("prev_hash"),
            text("link_hash"),
            instant("started_at"),
            instant("sealed_at"),
            opt_int("payload_version"),
        ]))
    }

    fn to_batch(rows: &[Self]) -> RecordBatch {
        let columns = vec![
            ints(rows.iter().map(|r| Some(r.seq))),
            ints(rows.iter().map(|r| Some(r.txid))),
            ints(rows.iter().map(|r| Some(r.event_count))),
            ints(rows.iter().map(|r| Some(r.first_event_id))),
            ints(rows.iter().map(|r| Some(r.last_event_id))),
            strings(rows.iter().map(|r| Some(r.events_hash.as_str()))),
            strings(rows.iter().map(|r| Some(r.prev_hash.as_str()))),
            strings(rows.iter().map(|r| Some(r.link_hash.as_str()))),
            instants(rows.iter().map(|r| r.started_at_us)),
            instants(rows.iter().map(|r| r.sealed_at_us)),
            ints(rows.iter().map(|r| Some(r.payload_version))),
        ];
        RecordBatch::try_new(Self::schema(), columns).expect("columns match the schema")
    }

    fn from_batch(batch: &RecordBatch) -> Option<Vec<Self>> {
        let c = Columns(batch);
        let (seq, txid, n, first, last) = (
            c.int("seq")?,
            c.int("txid")?,
            c.int("event_count")?,
            c.int("first_event_id")?,
            c.int("last_event_id")?,
        );
        let (events, prev, link) = (
            c.text("events_hash")?,
            c.text("prev_hash")?,
            c.text("link_hash")?,
        );
        let (started, sealed) = (c.instant("started_at")?, c.instant("sealed_at")?);
        // Absent from archives written before payload version 2: version 1.
        let version = c.int("payload_version");
        Some(
            (0..batch.num_rows())
                .map(|i| LinkRow {
                    seq: seq.value(i),
                    txid: txid.value(i),
                    event_count: n.value(i),
                    first_event_id: first.value(i),
                    last_event_id: last.value(i),
                    events_hash: events.value(i).to_owned(),
                    prev_hash: prev.value(i).to_owned(),
                    link_hash: link.value(i).to_owned(),
                    started_at_us: started.value(i),
                    sealed_at_us: sealed.value(i),
                    payload_version: version.and_then(|a| opt_i64(a, i)).unwrap_or(1),
                })
                .collect(),
        )
    }
}
