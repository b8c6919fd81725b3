//! `history TABLE KEY`: the events of one record, oldest first; `history TABLE --where-hash
//! col=VALUE`: every event in which the hashed column held VALUE.

use std::io::Write;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

use crate::read::{hashed_events, record_history, EventWithContext};
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
    #[arg(required_unless_present = "where_hash", conflicts_with = "where_hash")]
    pub key: Option<String>,
    /// Instead of one record: every event in which the hashed column (`hash(...)`) held
    /// VALUE, as `column=VALUE`. VALUE is hashed by the server; the role needs EXECUTE on
    /// the log's hash function (see docs/personal-data.md).
    #[arg(long, value_name = "COLUMN=VALUE")]
    pub where_hash: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Also the record's archived events: an archive written by `archive` (a directory or
    /// `s3://bucket/prefix`), its Parquet files read directly.
    #[cfg(feature = "archive")]
    #[arg(long)]
    pub archive: Option<String>,
}

pub(super) fn run(args: History, context: &Context) -> Result<(), CliError> {
    let table = TableName::parse(&args.table)?;
    let where_hash = match &args.where_hash {
        None => None,
        Some(pair) => Some(pair.split_once('=').ok_or_else(|| {
            CliError::BadArgument(format!(
                "--where-hash {pair:?}: expected COLUMN=VALUE, e.g. --where-hash email=a@example.com"
            ))
        })?),
    };
    let mut conn = context.connect()?;
    let (events, what) = match (where_hash, &args.key) {
        (Some((column, value)), _) => {
            #[cfg(feature = "archive")]
            if args.archive.is_some() {
                return Err(CliError::BadArgument(
                    "--where-hash reads the live log only: drop --archive".into(),
                ));
            }
            (
                hashed_events(&mut conn, &context.config, &args.table, column, value)?,
                format!("with {column} = the given value"),
            )
        }
        (None, Some(key)) => (
            record_events(&mut conn, &args, context, &table, key)?,
            key.clone(),
        ),
        (None, None) => unreachable!("clap requires KEY or --where-hash"),
    };
    let mut out = std::io::stdout().lock();
    match args.format {
        Format::Json => {
            let events: Vec<Shown> = events.into_iter().map(Shown::from).collect();
            serde_json::to_writer_pretty(&mut out, &events).map_err(std::io::Error::from)?;
            writeln!(out)?;
        }
        Format::Text if events.is_empty() => {
            writeln!(out, "no events for {} {what}", table.display_name())?;
        }
        Format::Text => {
            for event in &events {
                write!(out, "{}", printable(&event.to_string()))?;
            }
        }
    }
    Ok(())
}

/// The record's events, with its archived ones when `--archive` is given.
fn record_events(
    conn: &mut diesel::PgConnection,
    args: &History,
    context: &Context,
    table: &TableName,
    key: &str,
) -> Result<Vec<EventWithContext>, CliError> {
    let (schema, name) = (table.schema(), table.table());
    #[cfg(feature = "archive")]
    if let Some(location) = &args.archive {
        let archive = super::archive::reader(location, context)?;
        return Ok(crate::read::record_history_with(
            conn,
            &context.config,
            schema,
            name,
            key,
            &archive,
        )?);
    }
    #[cfg(not(feature = "archive"))]
    let _ = args;
    Ok(record_history(conn, &context.config, schema, name, key)?)
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
