//! `as-of TABLE INSTANT [--key K] [--format json|jsonl]`: a row or a whole table as it was.

use std::io::Write;

use chrono::{DateTime, Utc};
use clap::{Args, ValueEnum};
use diesel::prelude::*;
use diesel::sql_types::{Text, Timestamptz};

use crate::cli::{CliError, Context};
use crate::read::{self, ReadError};

/// `as-of`.
#[derive(Debug, Args)]
pub struct AsOf {
    /// The table, `table` or `schema.table`.
    pub table: String,
    /// The instant: any timestamp PostgreSQL reads, e.g. `2026-11-28T10:00:00Z` (without a
    /// zone, the server's `TimeZone`).
    pub instant: String,
    /// Only this record; a composite key as a JSON array, e.g. '[7, 1]'.
    #[arg(long)]
    pub key: Option<String>,
    /// `json`: one object (with --key, `null` when the row did not exist) or an array;
    /// `jsonl`: one object per line.
    #[arg(long, value_enum, default_value_t = RowFormat::Json)]
    pub format: RowFormat,
    /// Also the record's archived events: an archive written by `archive` (a directory or
    /// `s3://bucket/prefix`), its Parquet files read directly. Needs --key.
    #[cfg(feature = "archive")]
    #[arg(long, requires = "key")]
    pub archive: Option<String>,
}

/// Output formats of rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RowFormat {
    /// A JSON document.
    Json,
    /// One JSON object per line.
    Jsonl,
}

/// Reads `instant` with PostgreSQL's own timestamp input.
pub(crate) fn parse_instant(
    conn: &mut PgConnection,
    instant: &str,
) -> Result<DateTime<Utc>, CliError> {
    #[derive(QueryableByName)]
    struct Instant {
        #[diesel(sql_type = Timestamptz)]
        at: DateTime<Utc>,
    }
    diesel::sql_query("SELECT $1::timestamptz AS at")
        .bind::<Text, _>(instant)
        .get_result::<Instant>(conn)
        .map(|i| i.at)
        .map_err(|e| CliError::BadArgument(format!("invalid instant {instant:?}: {e}")))
}

pub(crate) fn run(args: AsOf, context: &Context) -> Result<(), CliError> {
    let mut conn = context.connect()?;
    let at = parse_instant(&mut conn, &args.instant)?;
    let spec = read::installed_spec(&mut conn, &context.config, &args.table)?;
    let mut out = std::io::stdout().lock();
    if let Some(key) = &args.key {
        #[cfg(feature = "archive")]
        let row = match &args.archive {
            Some(location) => {
                let archive = super::archive::reader(location, context)?;
                read::as_of_json_with(&mut conn, &context.config, &spec, key, at, &archive)?
            }
            None => read::as_of_json(&mut conn, &context.config, &spec, key, at)?,
        };
        #[cfg(not(feature = "archive"))]
        let row = read::as_of_json(&mut conn, &context.config, &spec, key, at)?;
        let text = match args.format {
            RowFormat::Json => serde_json::to_string_pretty(&row),
            RowFormat::Jsonl => serde_json::to_string(&row),
        };
        writeln!(out, "{}", text.map_err(std::io::Error::from)?)?;
        return Ok(());
    }
    let mut first = true;
    if args.format == RowFormat::Json {
        write!(out, "[")?;
    }
    read::table_as_of_json::<Failure>(&mut conn, &context.config, &spec, at, |row| {
        let text = serde_json::to_string(&row).map_err(std::io::Error::from)?;
        match args.format {
            RowFormat::Json => write!(out, "{}\n  {text}", if first { "" } else { "," })?,
            RowFormat::Jsonl => writeln!(out, "{text}")?,
        }
        first = false;
        Ok(())
    })
    .map_err(|failure| match failure {
        Failure::Read(e) => CliError::from(e),
        Failure::Output(e) => CliError::Output(e),
    })?;
    if args.format == RowFormat::Json {
        writeln!(out, "{}]", if first { "" } else { "\n" })?;
    }
    Ok(())
}

/// A table stream stops on a read error or when stdout fails (a closed pipe).
enum Failure {
    Read(ReadError),
    Output(std::io::Error),
}

impl From<ReadError> for Failure {
    fn from(error: ReadError) -> Self {
        Failure::Read(error)
    }
}

impl From<std::io::Error> for Failure {
    fn from(error: std::io::Error) -> Self {
        Failure::Output(error)
    }
}
