//! `history TABLE KEY`: the events of one record, oldest first.

use std::io::Write;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

use crate::read::{record_history, EventWithContext};
use crate::{Operation, TableName};

use clap::Args;

use crate::cli::flags::Format;
use crate::cli::printable::printable;
use crate::cli::{CliError, Context};

/// `history`.
#[derive(Debug, Args)]
pub struct History {
    /// The table, `table` or `schema.table`.
    pub table: String,
    /// The record's key; a composite key as a JSON array, e.g. '[7, 1]'.
    pub key: String,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

pub(super) fn run(args: History, context: &Context) -> Result<(), CliError> {
    let table = TableName::parse(&args.table)?;
    let mut conn = context.connect()?;
    let events = record_history(
        &mut conn,
        &context.config,
        table.schema(),
        table.table(),
        &args.key,
    )?;
    let mut out = std::io::stdout().lock();
    match args.format {
        Format::Json => {
            let events: Vec<Shown> = events.into_iter().map(Shown::from).collect();
            serde_json::to_writer_pretty(&mut out, &events).map_err(std::io::Error::from)?;
            writeln!(out)?;
        }
        Format::Text if events.is_empty() => {
            writeln!(out, "no events for {} {}", table.display_name(), args.key)?;
        }
        Format::Text => {
            for event in &events {
                write!(out, "{}", printable(&event.to_string()))?;
            }
        }
    }
    Ok(())
}

/// One event in `--format json`: the stored context whole, the table as `schema`/`table`.
#[derive(Serialize)]
struct Shown {
    id: i64,
    changed_at: DateTime<Utc>,
    operation: Operation,
    schema: String,
    table: String,
    record_id: Option<String>,
    old_record_id: Option<String>,
    diff: Option<Value>,
    old_data: Option<Value>,
    new_data: Option<Value>,
    meta: Option<Value>,
    txid: i64,
    context: Option<Value>,
}

impl From<EventWithContext> for Shown {
    fn from(EventWithContext { event, context }: EventWithContext) -> Self {
        Shown {
            id: event.id,
            changed_at: event.changed_at,
            operation: event.operation,
            schema: event.table_schema,
            table: event.table_name,
            record_id: event.record_id,
            old_record_id: event.old_record_id,
            diff: event.diff,
            old_data: event.old_data,
            new_data: event.new_data,
            meta: event.meta,
            txid: event.txid,
            context: context.map(|c| c.to_json()),
        }
    }
}
