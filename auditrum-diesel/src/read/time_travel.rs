//! Time travel: a row, or a whole table, as it was at an instant, rebuilt from the log.
//!
//! Rows are rebuilt from their INSERT and the changes after it (see the rules in
//! `docs/reading.md`): `None` before the insert and after the delete, and a row deleted and
//! re-created is the new row only from its re-insertion on. Key changes are followed.
//!
//! **Untracked columns** (outside `track_only`, or excluded) are not in the log: they come
//! from the live row, as it is now, as long as the row still exists. For a row deleted
//! since, the typed readers fail with [`ReadError::UnknownColumns`] when the model has such
//! columns; the JSON readers leave them out.
//!
//! **The instant** is compared with `changed_at`, the start of each writing transaction (the
//! log records no commit time): a transaction that started before the instant and
//! committed after it counts as done at the instant.
//!
//! A row the log holds no event of (it predates the log, or was written with the triggers
//! off — `verify-history` reports those) is taken to have been as it is now all along.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel::sql_types::Jsonb;
use serde_json::{json, Map, Value};

use super::archived::merge;
use super::load;
use super::materialize::{self, key_object, Json, Model, Models, Rows};
use super::protected::{protected, Protected};
use super::replay::{self, Snapshot};
use super::{ArchivedEvents, AuditEvent, EventWithContext, ReadError, RecordKey};
use crate::quote;
use crate::sql;
use crate::{AuditConfig, TrackSpec};

/// `M` as it was at `at` in the default audit log, or `None` when the row did not exist
/// then.
///
/// The row is rebuilt from its INSERT and the changes after it: `None` before the insert
/// and after the delete (a row deleted and re-created is the new row from its re-insertion
/// on), key changes followed. Columns the log does not track come from the live row while
/// the row exists; for a row deleted since, this fails with [`ReadError::UnknownColumns`]
/// when the model has such columns. `at` is compared with each event's transaction start
/// (`changed_at`). The rules in full: `docs/reading.md`.
///
/// ```no_run
/// use auditrum_diesel::read::as_of;
/// use auditrum_diesel::Audited;
/// use diesel::prelude::*;
///
/// # diesel::table! { users (id) { id -> Integer, email -> Text } }
/// #[derive(Debug, Queryable, Selectable, Audited)]
/// #[diesel(table_name = users)]
/// struct User { id: i32, email: String }
///
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let mut conn = PgConnection::establish("postgres://localhost/app")?;
/// let yesterday = chrono::Utc::now() - chrono::Duration::days(1);
/// let user: Option<User> = as_of::<User>(&mut conn, 7, yesterday)?;
/// # Ok(())
/// # }
/// ```
pub fn as_of<M>(
    conn: &mut PgConnection,
    key: impl RecordKey,
    at: DateTime<Utc>,
) -> Result<Option<M>, ReadError>
where
    M: Model,
{
    as_of_in::<M>(conn, &AuditConfig::default(), key, at)
}

/// [`as_of`] in the audit log `config` names.
pub fn as_of_in<M>(
    conn: &mut PgConnection,
    config: &AuditConfig,
    key: impl RecordKey,
    at: DateTime<Utc>,
) -> Result<Option<M>, ReadError>
where
    M: Model,
{
    let spec = M::track_spec();
    let key = key.record_id();
    let Some(row) = record_json(conn, config, &spec, &key, at, None)? else {
        return Ok(None);
    };
    if !row.complete {
        check_known(&spec, &key, &row.values)?;
    }
    check_unprotected(&spec, &key, &row.values)?;
    let items = json!([{"state": row.values, "key": null}]);
    Ok(M::__load_rebuilt(conn, &spec, items)?.pop())
}

/// The record `key` of `spec`'s table at `at`, as a JSON object of its columns, or `None`
/// when it did not exist then. Untracked columns come from the live row while the row
/// exists, and are left out otherwise. A composite key is a JSON array: `[7, 1]`.
pub fn as_of_json(
    conn: &mut PgConnection,
    config: &AuditConfig,
    spec: &TrackSpec,
    key: &str,
    at: DateTime<Utc>,
) -> Result<Option<Value>, ReadError> {
    Ok(record_json(conn, config, spec, key, at, None)?.map(|row| Value::Object(row.values)))
}

/// [`as_of_json`] with the record's events from `archived` (an archive written by
/// `archive`) too, for an instant whose events have left the live log.
pub fn as_of_json_with(
    conn: &mut PgConnection,
    config: &AuditConfig,
    spec: &TrackSpec,
    key: &str,
    at: DateTime<Utc>,
    archived: &dyn ArchivedEvents,
) -> Result<Option<Value>, ReadError> {
    Ok(record_json(conn, config, spec, key, at, Some(archived))?
        .map(|row| Value::Object(row.values)))
}

/// A record rebuilt and merged over its live row where that is still the same row.
struct RecordRow {
    values: Map<String, Value>,
    /// The live row supplied the columns the log lacks.
    complete: bool,
}

fn record_json(
    conn: &mut PgConnection,
    config: &AuditConfig,
    spec: &TrackSpec,
    key: &str,
    at: DateTime<Utc>,
    archived: Option<&dyn ArchivedEvents>,
) -> Result<Option<RecordRow>, ReadError> {
    match record_snapshot(conn, config, spec, key, at, archived)? {
        Lookup::Absent => Ok(None),
        Lookup::NoEvents => Ok(live_row(conn, spec, key)?.map(|values| RecordRow {
            values,
            complete: true,
        })),
        Lookup::Found(snapshot) => {
            let live = match snapshot.current {
                true => live_row(conn, spec, &snapshot.live_key)?,
                false => None,
            };
            let complete = live.is_some();
            let mut values = live.unwrap_or_default();
            values.extend(snapshot.values);
            Ok(Some(RecordRow { values, complete }))
        }
    }
}

enum Lookup {
    Found(Snapshot),
    Absent,
    NoEvents,
}

/// The lineage holding `key` at `at`, rebuilt.
fn record_snapshot(
    conn: &mut PgConnection,
    config: &AuditConfig,
    spec: &TrackSpec,
    key: &str,
    at: DateTime<Utc>,
    archived: Option<&dyn ArchivedEvents>,
) -> Result<Lookup, ReadError> {
    let key = normalize(conn, spec, key)?;
    let (keys, events, truncates) = match archived {
        None => {
            let keys = load::key_closure(conn, config, spec, &key)?;
            let events = load::events_of_keys(conn, config, spec, &keys)?;
            (keys, events, load::truncates(conn, config, spec)?)
        }
        Some(archived) => with_archived(conn, config, spec, &key, archived)?,
    };
    if events.is_empty() {
        return Ok(Lookup::NoEvents);
    }
    let merged = replay::with_truncates(&events, &truncates);
    let lineages = match keys.len() {
        1 => vec![merged],
        _ => replay::lineages(&merged),
    };
    Ok(lineages
        .iter()
        .filter_map(|lineage| replay::state_at(lineage, spec.key(), at))
        .find(|snapshot| snapshot.key == key)
        .map_or(Lookup::Absent, Lookup::Found))
}

/// The keys of a record's lineage, its events, and its table's TRUNCATEs.
type Gathered = (Vec<String>, Vec<AuditEvent>, Vec<AuditEvent>);

/// The keys linked to `key` (live and archived key changes), their events and the table's
/// TRUNCATEs, from the live log and the archive, each in id order.
fn with_archived(
    conn: &mut PgConnection,
    config: &AuditConfig,
    spec: &TrackSpec,
    key: &str,
    archived: &dyn ArchivedEvents,
) -> Result<Gathered, ReadError> {
    let (schema, table) = (spec.schema(), spec.table());
    let older = archived.key_changes_and_truncates(schema, table)?;
    let mut keys = vec![key.to_owned()];
    loop {
        let before = keys.len();
        for k in keys.clone() {
            for found in load::key_closure(conn, config, spec, &k)? {
                if !keys.contains(&found) {
                    keys.push(found);
                }
            }
        }
        for e in older.iter().map(|e| &e.event) {
            let pair = [e.record_id.clone(), e.old_record_id.clone()];
            if e.old_record_id.is_some() && pair.iter().flatten().any(|k| keys.contains(k)) {
                keys.extend(
                    pair.into_iter()
                        .flatten()
                        .filter(|k| !keys.contains(k))
                        .collect::<Vec<_>>(),
                );
            }
        }
        if keys.len() == before {
            break;
        }
    }
    let live = |events: Vec<AuditEvent>| {
        events
            .into_iter()
            .map(|event| EventWithContext {
                event,
                context: None,
            })
            .collect::<Vec<_>>()
    };
    let events = merge(
        live(load::events_of_keys(conn, config, spec, &keys)?),
        archived.of_keys(schema, table, &keys)?,
    );
    let truncates = merge(
        live(load::truncates(conn, config, spec)?),
        older
            .into_iter()
            .filter(|e| e.event.operation == crate::Operation::Truncate)
            .collect(),
    );
    let events_only = |all: Vec<EventWithContext>| all.into_iter().map(|e| e.event).collect();
    Ok((keys, events_only(events), events_only(truncates)))
}

/// A composite key in jsonb's text form, however it was spelled.
fn normalize(conn: &mut PgConnection, spec: &TrackSpec, key: &str) -> Result<String, ReadError> {
    if spec.key().len() == 1 {
        return Ok(key.to_owned());
    }
    Ok(super::key::normalize_key(conn, key)?)
}

#[derive(QueryableByName)]
struct JsonValue {
    #[diesel(sql_type = Jsonb)]
    value: Value,
}

/// The live row with the stored key `key`, as JSON.
pub(crate) fn live_row(
    conn: &mut PgConnection,
    spec: &TrackSpec,
    key: &str,
) -> Result<Option<Map<String, Value>>, ReadError> {
    let table = quote::qualified(spec.schema(), spec.table());
    let sql = format!(
        "SELECT to_jsonb(l) AS value FROM {table} l, jsonb_populate_record(NULL::{table}, $1) k WHERE {}",
        sql::key::key_match("l", "k", spec.key())
    );
    let row: Option<JsonValue> = diesel::sql_query(sql)
        .bind::<Jsonb, _>(key_object(spec.key(), key))
        .get_result(conn)
        .optional()?;
    Ok(row.and_then(|r| match r.value {
        Value::Object(map) => Some(map),
        _ => None,
    }))
}

/// Refuses a row missing columns of the model that only a live row could give.
fn check_known(spec: &TrackSpec, key: &str, values: &Map<String, Value>) -> Result<(), ReadError> {
    match columns_where(spec, |c| !values.contains_key(c)) {
        None => Ok(()),
        Some(columns) => Err(ReadError::UnknownColumns {
            table: spec.display_name(),
            key: key.to_owned(),
            columns,
        }),
    }
}

/// A model cannot hold a marker: refuses a row whose columns the log holds only as masked,
/// hashed or redacted values (a hashed text would otherwise pass for the value itself).
fn check_unprotected(
    spec: &TrackSpec,
    key: &str,
    values: &Map<String, Value>,
) -> Result<(), ReadError> {
    let marked = |c: &str| match values.get(c).and_then(protected) {
        // A text of the digest's shape is a hash only where the spec hashes.
        Some(Protected::Hashed(_)) => spec.hash().iter().any(|h| h == c),
        Some(_) => true,
        None => false,
    };
    match columns_where(spec, marked) {
        None => Ok(()),
        Some(columns) => Err(ReadError::ProtectedColumns {
            table: spec.display_name(),
            key: key.to_owned(),
            columns,
        }),
    }
}

/// The spec's columns for which `test` holds, comma-separated; `None` when there are none.
fn columns_where(spec: &TrackSpec, test: impl Fn(&str) -> bool) -> Option<String> {
    let columns: Vec<&str> = spec
        .columns()
        .iter()
        .map(|c| c.name.as_str())
        .filter(|c| test(c))
        .collect();
    (!columns.is_empty()).then(|| columns.join(", "))
}

/// Why a table stream stopped: a read error, or the caller's.
enum Stop<E> {
    Read(ReadError),
    Caller(E),
}

impl<E> From<diesel::result::Error> for Stop<E> {
    fn from(error: diesel::result::Error) -> Self {
        Stop::Read(error.into())
    }
}

impl<E> From<ReadError> for Stop<E> {
    fn from(error: ReadError) -> Self {
        Stop::Read(error)
    }
}

/// Every row of `M`'s table as it was at `at` (default audit log), handed to `each` one
/// by one, in no particular order; returns how many.
///
/// Memory stays flat whatever the table's size: the events are read through a cursor
/// ordered by key, a thousand at a time, and each batch of rebuilt rows is typed and
/// merged with its live row in one query. Only the rows whose key changed at some point
/// are rebuilt together in memory. Runs in a transaction (a savepoint when one is open).
///
/// ```no_run
/// use auditrum_diesel::read::{table_as_of, ReadError};
/// use auditrum_diesel::Audited;
/// use diesel::prelude::*;
///
/// # diesel::table! { users (id) { id -> Integer, email -> Text } }
/// #[derive(Debug, Queryable, Selectable, Audited)]
/// #[diesel(table_name = users)]
/// struct User { id: i32, email: String }
///
/// # fn main() -> Result<(), ReadError> {
/// # let mut conn = PgConnection::establish("postgres://localhost/app").unwrap();
/// let new_year = "2026-01-01T00:00:00Z".parse().unwrap();
/// let rows = table_as_of::<User, ReadError>(&mut conn, new_year, |user| {
///     println!("{user:?}");
///     Ok(())
/// })?;
/// println!("{rows} users on new year's day");
/// # Ok(())
/// # }
/// ```
pub fn table_as_of<M, E>(
    conn: &mut PgConnection,
    at: DateTime<Utc>,
    each: impl FnMut(M) -> Result<(), E>,
) -> Result<u64, E>
where
    M: Model,
    E: From<ReadError>,
{
    table_as_of_in(conn, &AuditConfig::default(), at, each)
}

/// [`table_as_of`] in the audit log `config` names.
pub fn table_as_of_in<M, E>(
    conn: &mut PgConnection,
    config: &AuditConfig,
    at: DateTime<Utc>,
    mut each: impl FnMut(M) -> Result<(), E>,
) -> Result<u64, E>
where
    M: Model,
    E: From<ReadError>,
{
    let spec = M::track_spec();
    let mut check = |snapshot: &Snapshot| {
        if !snapshot.current {
            check_known(&spec, &snapshot.key, &snapshot.values)?;
        }
        check_unprotected(&spec, &snapshot.key, &snapshot.values)
    };
    stream::<Models, M, E>(conn, config, &spec, at, &mut check, &mut each)
}

/// Every row of `spec`'s table as it was at `at`, as JSON objects (see [`as_of_json`]),
/// handed to `each` one by one; returns how many. Memory stays flat, as for
/// [`table_as_of`].
pub fn table_as_of_json<E>(
    conn: &mut PgConnection,
    config: &AuditConfig,
    spec: &TrackSpec,
    at: DateTime<Utc>,
    mut each: impl FnMut(Value) -> Result<(), E>,
) -> Result<u64, E>
where
    E: From<ReadError>,
{
    stream::<Json, Value, E>(conn, config, spec, at, &mut |_| Ok(()), &mut each)
}

fn stream<R, T, E>(
    conn: &mut PgConnection,
    config: &AuditConfig,
    spec: &TrackSpec,
    at: DateTime<Utc>,
    check: &mut dyn FnMut(&Snapshot) -> Result<(), ReadError>,
    each: &mut dyn FnMut(T) -> Result<(), E>,
) -> Result<u64, E>
where
    R: Rows<T>,
    E: From<ReadError>,
{
    let result = conn.transaction::<u64, Stop<E>, _>(|conn| {
        let mut rows = 0u64;
        let mut emit = |conn: &mut PgConnection, snapshots: Vec<Snapshot>| -> Result<(), Stop<E>> {
            if snapshots.is_empty() {
                return Ok(());
            }
            for snapshot in &snapshots {
                check(snapshot)?;
            }
            let typed = R::rebuilt(conn, spec, materialize::items(spec, &snapshots))?;
            for row in typed {
                each(row).map_err(Stop::Caller)?;
                rows += 1;
            }
            Ok(())
        };
        load::each_lineage_batch(conn, config, spec, &mut |conn, lineages| {
            let snapshots: Vec<Snapshot> = lineages
                .iter()
                .filter_map(|lineage| replay::state_at(lineage, spec.key(), at))
                .collect();
            emit(conn, snapshots)
        })?;
        // Rows the log never saw.
        for row in R::live_without_events(conn, config, spec)? {
            each(row?).map_err(Stop::Caller)?;
            rows += 1;
        }
        Ok(rows)
    });
    result.map_err(|stop| match stop {
        Stop::Read(error) => E::from(error),
        Stop::Caller(error) => error,
    })
}
