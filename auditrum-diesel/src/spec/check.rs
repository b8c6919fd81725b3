//! The checks `TrackSpecBuilder::build` runs, once: a `TrackSpec` in hand passed them.
//! Rules the derive checks at compile time too live in `auditrum_diesel_rules`.

use super::name::check_name;
use super::Fields;
use crate::SpecError;

/// Checks every option of a spec.
pub(super) fn check(fields: &Fields) -> Result<(), SpecError> {
    check_name("schema", &fields.schema)?;
    check_name("table", &fields.table)?;
    let table = fields.display_name();
    for column in &fields.columns {
        check_name("column", &column.name)?;
    }
    if fields.key.is_empty() {
        return Err(SpecError::NoKey { table });
    }
    if !fields.track_only.is_empty() && !fields.exclude.is_empty() {
        return Err(SpecError::TrackOnlyAndExclude { table });
    }
    check_list(fields, "key", &fields.key)?;
    check_list(fields, "track_only", &fields.track_only)?;
    check_list(fields, "exclude", &fields.exclude)?;
    check_list(fields, "meta", &fields.meta)?;
    check_list(fields, "mask", &fields.mask)?;
    check_list(fields, "hash", &fields.hash)?;
    if fields.columns.is_empty() && fields.track_only.is_empty() {
        return Err(SpecError::ColumnsUnknown { table });
    }
    if fields.tracked_columns().is_empty() {
        return Err(SpecError::NothingTracked { table });
    }
    check_protected(fields, "mask", &fields.mask, &fields.hash)?;
    check_protected(fields, "hash", &fields.hash, &fields.mask)?;
    if let Some(condition) = &fields.condition {
        if let Some(reason) = auditrum_diesel_rules::condition_problem(condition) {
            return Err(SpecError::InvalidCondition {
                table,
                condition: condition.clone(),
                reason,
            });
        }
    }
    Ok(())
}

/// Names in an option must be unique, and known when the column list is.
fn check_list(fields: &Fields, option: &'static str, names: &[String]) -> Result<(), SpecError> {
    for (i, name) in names.iter().enumerate() {
        check_name("column", name)?;
        if names[..i].contains(name) {
            return Err(SpecError::DuplicateColumn {
                table: fields.display_name(),
                option,
                column: name.clone(),
            });
        }
        if !fields.columns.is_empty() && !fields.columns.iter().any(|c| &c.name == name) {
            return Err(SpecError::UnknownColumn {
                table: fields.display_name(),
                option,
                column: name.clone(),
                known: fields
                    .columns
                    .iter()
                    .map(|c| c.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
    }
    Ok(())
}

/// A masked or hashed column: not a key column, not both, and audited
/// (`auditrum_diesel_rules::protection_problem`, which the derive checks too).
fn check_protected(
    fields: &Fields,
    option: &'static str,
    names: &[String],
    other: &[String],
) -> Result<(), SpecError> {
    let tracked = fields.tracked_columns();
    for name in names {
        let in_key = fields.key.contains(name);
        let audited = tracked.iter().any(|c| &c.name == name) || fields.meta.contains(name);
        if let Some(reason) =
            auditrum_diesel_rules::protection_problem(in_key, other.contains(name), audited)
        {
            return Err(SpecError::CannotProtect {
                table: fields.display_name(),
                option,
                column: name.clone(),
                reason,
            });
        }
    }
    Ok(())
}
