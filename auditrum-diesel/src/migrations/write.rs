//! Renders a [`Plan`] as Diesel migration folders and writes them.

use std::fs;
use std::path::{Path, PathBuf};

use chrono::NaiveDateTime;

use super::header::Header;
use super::{version, MigrationError, Plan};
use crate::plan::Change;
use crate::AuditConfig;

/// One migration folder, rendered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Folder {
    /// `YYYY-MM-DD-HHMMSS_name`.
    pub(crate) name: String,
    /// `up.sql`.
    pub(crate) up: String,
    /// `down.sql`.
    pub(crate) down: String,
}

/// The folders of `plan`: one per change, or all changes in one folder named `name`.
pub(crate) fn render(
    plan: &Plan,
    config: &AuditConfig,
    now: NaiveDateTime,
    name: Option<&str>,
) -> Result<Vec<Folder>, MigrationError> {
    let groups: Vec<(String, &[Change])> = match name {
        _ if plan.changes.is_empty() => Vec::new(),
        Some(name) => {
            check_name(name)?;
            vec![(name.to_owned(), &plan.changes[..])]
        }
        None => plan
            .changes
            .iter()
            .map(|change| (change.folder_name(), std::slice::from_ref(change)))
            .collect(),
    };
    let versions = version::next(now, plan.latest, groups.len());
    groups
        .into_iter()
        .zip(versions)
        .map(|((name, changes), version)| {
            let name = format!("{version}_{name}");
            Ok(Folder {
                up: up_sql(changes, config)?,
                down: down_sql(&name, changes, config)?,
                name,
            })
        })
        .collect()
}

/// Writes `folders` into `dir` (created when missing); returns their paths.
pub(crate) fn write(dir: &Path, folders: &[Folder]) -> Result<Vec<PathBuf>, MigrationError> {
    fs::create_dir_all(dir).map_err(|e| MigrationError::io(dir, e))?;
    let mut written = Vec::new();
    for folder in folders {
        let path = dir.join(&folder.name);
        if path.exists() {
            return Err(MigrationError::FolderExists(path));
        }
        fs::create_dir(&path).map_err(|e| MigrationError::io(&path, e))?;
        for (file, text) in [("up.sql", &folder.up), ("down.sql", &folder.down)] {
            let file = path.join(file);
            fs::write(&file, text).map_err(|e| MigrationError::io(&file, e))?;
        }
        written.push(path);
    }
    Ok(written)
}

/// The header lines, then each change's SQL.
fn up_sql(changes: &[Change], config: &AuditConfig) -> Result<String, MigrationError> {
    let mut sql = String::new();
    for change in changes {
        sql.push_str(&header(change, config).render());
        sql.push('\n');
    }
    sql.push_str(
        "-- Written by auditrum-diesel `makemigrations`. The `-- auditrum:` lines above tell\n\
         -- it what this migration installs: keep them as they are.\n",
    );
    for change in changes {
        sql.push('\n');
        sql.push_str(&change.up_sql(config)?);
    }
    Ok(sql)
}

/// Each change undone, last first: a changed spec goes back to the previous one.
fn down_sql(
    name: &str,
    changes: &[Change],
    config: &AuditConfig,
) -> Result<String, MigrationError> {
    let mut sql = format!("-- Reverts {name}, written by auditrum-diesel `makemigrations`.\n");
    for change in changes.iter().rev() {
        sql.push('\n');
        sql.push_str(&change.down_sql(config)?);
    }
    Ok(sql)
}

fn header(change: &Change, config: &AuditConfig) -> Header {
    match change {
        Change::CoreSchema { .. } => Header::Core(config.display_name()),
        Change::Track { spec } | Change::Retrack { spec, .. } => Header::Spec(spec.clone()),
        Change::Untrack { previous } => Header::Remove(previous.clone()),
    }
}

fn check_name(name: &str) -> Result<(), MigrationError> {
    let valid = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if valid {
        Ok(())
    } else {
        Err(MigrationError::InvalidName(name.to_owned()))
    }
}
