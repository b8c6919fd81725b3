//! Which values a redaction erases, and writing the markers in their place.

use std::collections::BTreeMap;

use diesel::prelude::*;
use diesel::sql_types::{Array, BigInt, Jsonb, Nullable, Text};

use super::RedactTarget;
use crate::ops::chain::leaves::{self, REDACTED_JSON, REDACTED_VALUE_TEXTS};
use crate::ops::chain::redactions::ErasedValues;
use crate::{AuditConfig, Error, TableName};

/// The context keys `redact --user` erases unless told otherwise: who the user is and where
/// they connected from (`auditrum_overlong` holds an overlong `user_id` whole).
pub const DEFAULT_PERSONAL_CONTEXT_KEYS: [&str; 5] = [
    "user_id",
    "username",
    "client_ip",
    "user_agent",
    "auditrum_overlong",
];

/// One value to erase: a leaf of an event (see `ops::chain::leaves`).
#[derive(Debug, Clone, QueryableByName)]
pub(crate) struct Leaf {
    #[diesel(sql_type = BigInt)]
    pub event_id: i64,
    #[diesel(sql_type = BigInt)]
    pub txid: i64,
    #[diesel(sql_type = Nullable<BigInt>)]
    pub context_id: Option<i64>,
    #[diesel(sql_type = Text)]
    pub path: String,
    #[diesel(sql_type = Text)]
    pub value: String,
}

impl Leaf {
    /// The path's parts: `[column]` or `[column, key]`.
    pub fn parts(&self) -> Vec<String> {
        serde_json::from_str(&self.path).unwrap_or_default()
    }
}

/// The ids of the events the target names.
pub(crate) fn matching_events(
    conn: &mut PgConnection,
    config: &AuditConfig,
    target: &RedactTarget,
) -> Result<Vec<i64>, Error> {
    #[derive(QueryableByName)]
    struct Id {
        #[diesel(sql_type = BigInt)]
        id: i64,
    }
    let events = config.qualified_table();
    let ids: Vec<Id> = match target {
        RedactTarget::Record { table, key, .. } => {
            let spec = TableName::parse(table)?;
            diesel::sql_query(format!(
                "SELECT e.id FROM {events} e
                 WHERE e.table_name = $2 AND e.table_schema = $1
                   AND (e.record_id = $3 OR e.old_record_id = $3)
                 ORDER BY e.id"
            ))
            .bind::<Text, _>(spec.schema())
            .bind::<Text, _>(spec.table())
            .bind::<Text, _>(key)
            .load(conn)?
        }
        // The events pointing at a context row of the user, and those carrying the user's
        // context themselves (core schema 3: one-row statements).
        RedactTarget::User { user_id, .. } => diesel::sql_query(format!(
            "SELECT e.id FROM {contexts} c JOIN {events} e ON e.txid = c.txid AND e.context_id = c.id
             WHERE c.context ->> 'user_id' = $1
                OR c.context -> 'auditrum_overlong' ->> 'user_id' = $1
             UNION
             SELECT e.id FROM {events} e
             WHERE e.context IS NOT NULL
               AND (e.context ->> 'user_id' = $1
                    OR e.context -> 'auditrum_overlong' ->> 'user_id' = $1)
             ORDER BY id",
            contexts = config.qualified_context_table(),
        ))
        .bind::<Text, _>(user_id)
        .load(conn)?,
    };
    Ok(ids.into_iter().map(|i| i.id).collect())
}

/// The values of `events` the target erases: not already erased, not `null`.
pub(crate) fn leaves_to_erase(
    conn: &mut PgConnection,
    config: &AuditConfig,
    target: &RedactTarget,
    events: &[i64],
) -> Result<Vec<Leaf>, Error> {
    let all: Vec<Leaf> = diesel::sql_query(format!(
        "SELECT e.id AS event_id, e.txid, e.context_id, p.path, p.value
         FROM {events} e LEFT JOIN {contexts} c ON c.id = e.context_id
         CROSS JOIN LATERAL {leaves} p
         WHERE e.id = ANY($1)
         ORDER BY e.id, p.path COLLATE \"C\"",
        events = config.qualified_table(),
        contexts = config.qualified_context_table(),
        leaves = leaves::leaves_sql(),
    ))
    .bind::<Array<BigInt>, _>(events)
    .load(conn)?;
    Ok(all
        .into_iter()
        .filter(|leaf| leaf.value != "null" && !REDACTED_VALUE_TEXTS.contains(&leaf.value.as_str()))
        .filter(|leaf| wanted(target, &leaf.parts()))
        .collect())
}

/// Whether the target erases the leaf at `parts`.
fn wanted(target: &RedactTarget, parts: &[String]) -> bool {
    let data = ["diff", "old_data", "new_data", "meta"];
    match (target, parts) {
        (RedactTarget::Record { erase_key, .. }, [column])
            if column == "record_id" || column == "old_record_id" =>
        {
            *erase_key
        }
        (RedactTarget::Record { fields, .. }, [column]) => {
            fields.is_empty() && data.contains(&column.as_str())
        }
        (RedactTarget::Record { fields, .. }, [column, key]) => {
            data.contains(&column.as_str()) && (fields.is_empty() || fields.contains(key))
        }
        (RedactTarget::User { keys, .. }, [column, key]) => {
            column == "context" && keys.contains(key)
        }
        _ => false,
    }
}

/// The erased paths, per event.
pub(crate) fn group_by_event(leaves: &[Leaf]) -> Vec<ErasedValues> {
    let mut by_event: BTreeMap<i64, Vec<String>> = BTreeMap::new();
    for leaf in leaves {
        by_event
            .entry(leaf.event_id)
            .or_default()
            .push(leaf.path.clone());
    }
    by_event
        .into_iter()
        .map(|(event_id, paths)| ErasedValues { event_id, paths })
        .collect()
}

/// Puts the marker where each value was: `{"$auditrum": "redacted"}` (in a `diff` entry on
/// both sides; in a key column, its text). A context key is erased in the context row, for
/// every event of its transaction (the caller erases it for all of them), or, for an event
/// that carries its context itself, in that event.
pub(crate) fn write_markers(
    conn: &mut PgConnection,
    config: &AuditConfig,
    leaves: &[Leaf],
) -> Result<(), Error> {
    let events = config.qualified_table();
    for leaf in leaves {
        let parts = leaf.parts();
        match parts.as_slice() {
            [column] if column == "record_id" || column == "old_record_id" => {
                let column = crate::quote::ident(column);
                diesel::sql_query(format!("UPDATE {events} SET {column} = $2 WHERE id = $1"))
                    .bind::<BigInt, _>(leaf.event_id)
                    .bind::<Text, _>(REDACTED_JSON)
                    .execute(conn)?;
            }
            [column] => {
                let column = data_column(column)?;
                diesel::sql_query(format!(
                    "UPDATE {events} SET {column} = $2::jsonb WHERE id = $1"
                ))
                .bind::<BigInt, _>(leaf.event_id)
                .bind::<Text, _>(REDACTED_JSON)
                .execute(conn)?;
            }
            // The event's own context (it has no context row)…
            [column, key] if column == "context" && leaf.context_id.is_none() => {
                diesel::sql_query(format!(
                    "UPDATE {events} SET context = jsonb_set(context, ARRAY[$2], $3::jsonb) WHERE id = $1"
                ))
                .bind::<BigInt, _>(leaf.event_id)
                .bind::<Text, _>(key)
                .bind::<Text, _>(REDACTED_JSON)
                .execute(conn)?;
            }
            // …or its context row, shared by the events of its transaction.
            [column, key] if column == "context" => {
                diesel::sql_query(format!(
                    "UPDATE {} SET context = jsonb_set(context, ARRAY[$2], $3::jsonb) WHERE id = $1",
                    config.qualified_context_table()
                ))
                .bind::<Nullable<BigInt>, _>(leaf.context_id)
                .bind::<Text, _>(key)
                .bind::<Text, _>(REDACTED_JSON)
                .execute(conn)?;
            }
            [column, key] => {
                let marker = if column == "diff" {
                    format!(r#"{{"old": {REDACTED_JSON}, "new": {REDACTED_JSON}}}"#)
                } else {
                    REDACTED_JSON.to_owned()
                };
                let column = data_column(column)?;
                diesel::sql_query(format!(
                    "UPDATE {events} SET {column} = jsonb_set({column}, ARRAY[$2], $3::jsonb) WHERE id = $1"
                ))
                .bind::<BigInt, _>(leaf.event_id)
                .bind::<Text, _>(key)
                .bind::<Jsonb, _>(serde_json::from_str::<serde_json::Value>(&marker).expect("a JSON marker"))
                .execute(conn)?;
            }
            _ => {
                return Err(Error::Refused(format!(
                    "auditrum: cannot erase the value at {} of event {}",
                    leaf.path, leaf.event_id
                )))
            }
        }
    }
    Ok(())
}

/// A JSON column of the log, by name: only these four may be written.
fn data_column(column: &str) -> Result<&'static str, Error> {
    ["diff", "old_data", "new_data", "meta"]
        .into_iter()
        .find(|c| *c == column)
        .ok_or_else(|| {
            Error::Refused(format!(
                "auditrum: {column} is not a data column of the log"
            ))
        })
}
