//! `history TABLE KEY`: the events of one record, oldest first.

use std::io::Write;

use crate::history::{record_history, HistoryEvent};
use crate::TrackSpec;
use serde_json::Value;

use crate::cli::args::{Format, History};
use crate::cli::{CliError, Context};

pub(super) fn run(args: History, context: &Context) -> Result<(), CliError> {
    let table = TrackSpec::new(&args.table)?;
    let mut conn = context.connect()?;
    let events = record_history(
        &mut conn,
        &context.config,
        table.table_schema(),
        table.table_name(),
        &args.key,
    )?;
    let mut out = std::io::stdout().lock();
    match args.format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut out, &events).map_err(std::io::Error::from)?;
            writeln!(out)?;
        }
        Format::Text if events.is_empty() => {
            writeln!(out, "no events for {} {}", table.display_name(), args.key)?;
        }
        Format::Text => {
            for event in &events {
                write_text(&mut out, event)?;
            }
        }
    }
    Ok(())
}

/// One event: a header line (id, time, operation, who, why) and one line per change.
fn write_text(out: &mut impl Write, event: &HistoryEvent) -> std::io::Result<()> {
    let mut header = format!(
        "#{} {} {:<8} {}.{} {}",
        event.id,
        event.changed_at.format("%Y-%m-%d %H:%M:%S%.3fZ"),
        event.operation,
        event.schema,
        event.table,
        event.record_id.as_deref().unwrap_or("-"),
    );
    if let Some(old) = &event.old_record_id {
        header.push_str(&format!(" (was {old})"));
    }
    if let Some(context) = &event.context {
        for (label, key) in [
            ("by", "user_id"),
            ("via", "source"),
            ("reason", "change_reason"),
            ("request", "request_id"),
        ] {
            if let Some(value) = context.get(key) {
                header.push_str(&format!("  {label}: {}", plain(value)));
            }
        }
    }
    writeln!(out, "{header}")?;
    let changes = event
        .diff
        .as_ref()
        .or(event.new_data.as_ref())
        .or(event.old_data.as_ref());
    if let Some(Value::Object(fields)) = changes {
        for (field, value) in fields {
            match (value.get("old"), value.get("new"), &event.diff) {
                (Some(old), Some(new), Some(_)) => writeln!(out, "    {field}: {old} → {new}")?,
                _ => writeln!(out, "    {field}: {value}")?,
            }
        }
    }
    Ok(())
}

/// A JSON value as a person reads it: strings without quotes.
fn plain(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
