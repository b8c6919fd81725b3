//! The scratch objects and the SQL of every variant and workload.
//!
//! The audited table, `items`, has a `bigint` key and five columns of common types
//! (`integer`, `numeric`, two `text`, `timestamptz`). The UPDATE changes all five, by
//! invertible expressions, so the floor can write the same diff without reading the old
//! rows a second time.

use auditrum_diesel::quote;
use auditrum_diesel::{AuditConfig, StorageMode, TrackSpec};
use diesel::connection::SimpleConnection;
use diesel::PgConnection;

use crate::error::BenchError;

/// The setting the triggers read the context from (the default).
pub const CONTEXT_SETTING: &str = "auditrum.context";

/// What the Python package `auditrum` 0.9.0 generates for `items` (see the script beside it).
const PYTHON_SQL: &str = include_str!("../sql/auditrum-python-0.9.0.sql");

/// What is measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Workload {
    /// One UPDATE of all N rows (five columns changed).
    BulkUpdate,
    /// One UPDATE of all N rows changing one column (`qty`): the common bulk fix-up, where
    /// a diff is smallest against the classic trigger's two whole rows.
    BulkUpdateOneColumn,
    /// One INSERT … SELECT of N rows into the empty table.
    BulkInsert,
    /// One DELETE of all N rows.
    BulkDelete,
    /// Single-row UPDATE transactions (random row of N).
    RowUpdate,
    /// Single-row INSERT transactions.
    RowInsert,
}

impl Workload {
    /// A short name.
    pub fn label(self) -> &'static str {
        match self {
            Workload::BulkUpdate => "bulk UPDATE",
            Workload::BulkUpdateOneColumn => "bulk UPDATE of one column",
            Workload::BulkInsert => "bulk INSERT",
            Workload::BulkDelete => "bulk DELETE",
            Workload::RowUpdate => "single-row UPDATE",
            Workload::RowInsert => "single-row INSERT",
        }
    }

    /// Whether the storage mode changes what the triggers write (only UPDATE's events
    /// differ: `Full` adds `old_data` and `new_data`).
    pub fn storage_matters(self) -> bool {
        matches!(self, Workload::BulkUpdate | Workload::RowUpdate)
    }

    /// The columns its UPDATE changes (none for the other workloads' statements).
    fn changes(self) -> &'static [(&'static str, &'static str, &'static str)] {
        match self {
            Workload::BulkUpdateOneColumn => &CHANGES[..1],
            _ => &CHANGES,
        }
    }

    /// Rows the table holds before the run.
    pub fn initial_rows(self, rows: u64) -> u64 {
        match self {
            Workload::BulkInsert => 0,
            _ => rows,
        }
    }
}

/// One way of writing (or not writing) the audit data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case", tag = "kind")]
pub enum Variant {
    /// The table without triggers.
    Unaudited,
    /// The statement plus, in the same statement (a data-modifying CTE), a direct
    /// `INSERT … SELECT` of the audit rows auditrum's trigger writes.
    Floor {
        /// The rows of `StorageMode::Full`.
        full: bool,
    },
    /// A row-level PL/pgSQL trigger storing `to_jsonb(OLD)` / `to_jsonb(NEW)` and the
    /// context per row into a plain table (the widely copied wiki-style audit trigger).
    Classic,
    /// The original Python package `auditrum` 0.9.0: the SQL it generates, as it ships
    /// (`auditrum-bench/sql/auditrum-python-0.9.0.sql`), only placed in the scratch schema.
    /// Server stage only.
    Python,
    /// auditrum-diesel's statement-level triggers.
    Auditrum {
        /// `StorageMode::Full` (else `Diff`).
        full: bool,
        /// The hash chain enabled (sealed after the run, timed separately).
        chain: bool,
        /// A background sealer runs `seal` every `--seal-interval` during the run.
        sealer: bool,
    },
}

impl Variant {
    /// The name in the tables.
    pub fn label(self) -> String {
        match self {
            Variant::Unaudited => "unaudited".into(),
            Variant::Floor { full: false } => "floor".into(),
            Variant::Floor { full: true } => "floor (full)".into(),
            Variant::Classic => "classic".into(),
            Variant::Python => "auditrum 0.9 (Python)".into(),
            Variant::Auditrum {
                full,
                chain,
                sealer,
            } => format!(
                "auditrum {}{}{}",
                if full { "full" } else { "diff" },
                if chain { " +chain" } else { "" },
                if sealer { " +sealer" } else { "" }
            ),
        }
    }

    /// auditrum's default: diff storage, no chain.
    pub fn diff() -> Variant {
        Variant::Auditrum {
            full: false,
            chain: false,
            sealer: false,
        }
    }

    /// The floor variant this one is compared with.
    pub fn floor(self) -> Option<Variant> {
        match self {
            Variant::Auditrum { full, .. } => Some(Variant::Floor { full }),
            _ => None,
        }
    }

    /// Whether it writes to an auditrum log.
    pub fn auditrum_log(self) -> bool {
        matches!(self, Variant::Floor { .. } | Variant::Auditrum { .. })
    }

    /// Whether the hash chain is on.
    pub fn chain(self) -> bool {
        matches!(self, Variant::Auditrum { chain: true, .. })
    }

    /// The variants of a workload, in the order they alternate.
    pub fn for_workload(workload: Workload) -> Vec<Variant> {
        let mut variants = vec![
            Variant::Unaudited,
            Variant::Floor { full: false },
            Variant::Classic,
            Variant::Auditrum {
                full: false,
                chain: false,
                sealer: false,
            },
            Variant::Auditrum {
                full: false,
                chain: true,
                sealer: false,
            },
        ];
        if workload.storage_matters() {
            variants.extend([
                Variant::Floor { full: true },
                Variant::Auditrum {
                    full: true,
                    chain: false,
                    sealer: false,
                },
                Variant::Auditrum {
                    full: true,
                    chain: true,
                    sealer: false,
                },
            ]);
        }
        variants
    }
}

/// The scratch schema and the names in it.
#[derive(Debug, Clone)]
pub struct Scratch {
    /// Its name.
    pub schema: String,
}

/// An audited table and the log it writes to.
#[derive(Debug, Clone)]
pub struct Setup<'a> {
    /// The scratch schema.
    pub scratch: &'a Scratch,
    /// The table's name.
    pub table: &'a str,
    /// The auditrum log's (or classic log's) name.
    pub log: &'a str,
    /// The variant installed on it.
    pub variant: Variant,
}

/// The columns of `items`, key first.
const COLUMNS: [&str; 6] = ["id", "qty", "price", "name", "note", "updated_at"];

/// The five changes of the UPDATE, with the expression giving back the old value from
/// the new row `n`.
const CHANGES: [(&str, &str, &str); 5] = [
    ("qty", "qty + 1", "n.qty - 1"),
    ("price", "price + 1", "n.price - 1"),
    ("name", "name || '+'", "left(n.name, -1)"),
    ("note", "note || '+'", "left(n.note, -1)"),
    (
        "updated_at",
        "updated_at + interval '1 second'",
        "n.updated_at - interval '1 second'",
    ),
];

impl Scratch {
    /// `"schema"."name"`.
    pub fn qualified(&self, name: &str) -> String {
        quote::qualified(&self.schema, name)
    }

    /// Drops and re-creates the scratch schema: every run starts from nothing.
    pub fn reset(&self, conn: &mut PgConnection) -> Result<(), BenchError> {
        let schema = quote::ident(&self.schema);
        conn.batch_execute(&format!(
            "DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema};"
        ))?;
        Ok(())
    }

    /// Drops the scratch schema.
    pub fn drop(&self, conn: &mut PgConnection) -> Result<(), BenchError> {
        conn.batch_execute(&format!(
            "DROP SCHEMA IF EXISTS {} CASCADE",
            quote::ident(&self.schema)
        ))?;
        Ok(())
    }

    /// Creates `table` with `rows` rows (ids 1..=rows; later inserts take the next ids).
    pub fn create_items(
        &self,
        conn: &mut PgConnection,
        table: &str,
        rows: u64,
    ) -> Result<(), BenchError> {
        let name = self.qualified(table);
        conn.batch_execute(&format!(
            "CREATE TABLE {name} (
                 id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
                 qty integer NOT NULL,
                 price numeric(12, 2) NOT NULL,
                 name text NOT NULL,
                 note text NOT NULL,
                 updated_at timestamptz NOT NULL
             );"
        ))?;
        if rows > 0 {
            conn.batch_execute(&format!(
                "{} FROM generate_series(1, {rows}) AS g;
                 ALTER TABLE {name} ALTER COLUMN id RESTART WITH {};",
                insert_rows(&name, true),
                rows + 1
            ))?;
        }
        Ok(())
    }

    /// The audit log's configuration.
    pub fn log_config(&self, log: &str) -> AuditConfig {
        AuditConfig::default()
            .with_table(&format!("{}.{log}", self.schema))
            .expect("scratch names are valid")
    }

    /// The spec of `table`.
    pub fn spec(&self, table: &str, full: bool) -> TrackSpec {
        TrackSpec::builder(table)
            .schema(self.schema.clone())
            .key(["id"])
            .columns([
                auditrum_diesel::Column::typed("id", "bigint"),
                auditrum_diesel::Column::typed("qty", "integer"),
                auditrum_diesel::Column::typed("price", "numeric(12,2)"),
                auditrum_diesel::Column::typed("name", "text"),
                auditrum_diesel::Column::typed("note", "text"),
                auditrum_diesel::Column::typed("updated_at", "timestamp with time zone"),
            ])
            .storage(if full {
                StorageMode::Full
            } else {
                StorageMode::Diff
            })
            .build()
            .expect("valid table name")
    }
}

/// `INSERT INTO table (…) SELECT …` of the rows numbered `g` (the caller adds `FROM`).
fn insert_rows(table: &str, with_id: bool) -> String {
    format!(
        "INSERT INTO {table} ({id}qty, price, name, note, updated_at)
         SELECT {gid}(g % 1000)::integer, (g % 100000) / 100.0, 'item ' || g, md5(g::text),
                timestamptz '2024-01-01 00:00:00+00' + g * interval '1 second'",
        id = if with_id { "id, " } else { "" },
        gid = if with_id { "g, " } else { "" },
    )
}

impl Setup<'_> {
    fn table(&self) -> String {
        self.scratch.qualified(self.table)
    }

    fn config(&self) -> AuditConfig {
        self.scratch.log_config(self.log)
    }

    /// Installs what the variant needs: the log, the triggers, the chain.
    pub fn install(&self, conn: &mut PgConnection) -> Result<(), BenchError> {
        match self.variant {
            Variant::Unaudited => {}
            Variant::Floor { .. } => {
                auditrum_diesel::apply::install_core_schema(conn, &self.config())?;
            }
            Variant::Classic => conn.batch_execute(&self.classic_sql())?,
            Variant::Python => conn.batch_execute(&self.python_sql())?,
            Variant::Auditrum { full, chain, .. } => {
                let config = self.config();
                auditrum_diesel::apply::install_core_schema(conn, &config)?;
                auditrum_diesel::apply::install(
                    conn,
                    &self.scratch.spec(self.table, full),
                    &config,
                )?;
                if chain {
                    auditrum_diesel::ops::chain::enable(conn, &config)?;
                }
            }
        }
        Ok(())
    }

    /// The wiki-style row-level trigger and its plain table, with a primary key and a record
    /// index (table and key: without one, a record's history is a scan of the whole log).
    fn classic_sql(&self) -> String {
        let log = self.scratch.qualified(self.log);
        let function = self.scratch.qualified(&format!("{}_capture", self.log));
        let trigger = quote::ident(&format!("{}_capture", self.log));
        let record_index = quote::ident(&format!("{}_record_idx", self.log));
        let setting = quote::literal(CONTEXT_SETTING);
        format!(
            "CREATE TABLE {log} (
                 id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                 changed_at timestamptz NOT NULL DEFAULT now(),
                 table_schema text NOT NULL,
                 table_name text NOT NULL,
                 operation text NOT NULL,
                 txid bigint NOT NULL,
                 context jsonb,
                 old_data jsonb,
                 new_data jsonb
             );
             CREATE INDEX {record_index} ON {log} (table_name, (COALESCE(new_data, old_data) ->> 'id'));
             CREATE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $classic$
             BEGIN
                 INSERT INTO {log} (table_schema, table_name, operation, txid, context, old_data, new_data)
                 VALUES (TG_TABLE_SCHEMA, TG_TABLE_NAME, TG_OP, txid_current(),
                         NULLIF(current_setting({setting}, true), '')::jsonb,
                         CASE WHEN TG_OP IN ('UPDATE', 'DELETE') THEN to_jsonb(OLD) END,
                         CASE WHEN TG_OP IN ('INSERT', 'UPDATE') THEN to_jsonb(NEW) END);
                 RETURN NULL;
             END
             $classic$;
             CREATE TRIGGER {trigger} AFTER INSERT OR UPDATE OR DELETE ON {table}
                 FOR EACH ROW EXECUTE FUNCTION {function}();",
            table = self.table(),
        )
    }

    /// The Python package's SQL in one transaction, its unqualified names created in and
    /// resolved from the scratch schema: its functions' `search_path` names `public`, which
    /// becomes the scratch schema (the only change to the SQL as it ships).
    fn python_sql(&self) -> String {
        let schema = quote::ident(&self.scratch.schema);
        format!(
            "BEGIN; SET LOCAL search_path = {schema}, pg_catalog;\n{}\nCOMMIT;",
            PYTHON_SQL.replace(
                "SET search_path = pg_catalog, public;",
                &format!("SET search_path = pg_catalog, {schema};")
            )
        )
    }

    /// The measured statement. `id` is the row of a single-row UPDATE (SQL text: a number,
    /// or a placeholder the caller replaces).
    pub fn statement(&self, workload: Workload, rows: u64, id: &str) -> String {
        let table = self.table();
        let set: Vec<String> = workload
            .changes()
            .iter()
            .map(|(column, new, _)| format!("{column} = {new}"))
            .collect();
        let set = set.join(", ");
        let write = match workload {
            Workload::BulkUpdate | Workload::BulkUpdateOneColumn => {
                format!("UPDATE {table} SET {set}")
            }
            Workload::RowUpdate => format!("UPDATE {table} SET {set} WHERE id = {id}"),
            Workload::BulkInsert => format!(
                "{} FROM generate_series(1, {rows}) AS g",
                insert_rows(&table, true)
            ),
            Workload::RowInsert => format!(
                "INSERT INTO {table} (qty, price, name, note, updated_at)
                 VALUES (1, 9.99, 'new item', 'a note on the new item', now())"
            ),
            Workload::BulkDelete => format!("DELETE FROM {table}"),
        };
        match self.variant {
            Variant::Floor { full } => self.floor(&write, workload, full),
            _ => write,
        }
    }

    /// The write and, in the same statement, the audit rows auditrum's trigger would write
    /// (same columns, same values but `id` and `changed_at`; see the test
    /// `floor_writes_what_the_trigger_writes`).
    fn floor(&self, write: &str, workload: Workload, full: bool) -> String {
        let config = self.config();
        let new_data: Vec<String> = COLUMNS.iter().map(|c| format!("'{c}', n.{c}")).collect();
        let new_data = format!("jsonb_build_object({})", new_data.join(", "));
        let (operation, columns, values) = match workload {
            Workload::BulkInsert | Workload::RowInsert => (
                "INSERT",
                "record_id, new_data, meta",
                format!("n.id::text, {new_data}, NULL"),
            ),
            Workload::BulkDelete => (
                "DELETE",
                "record_id, old_data, meta",
                format!("n.id::text, {new_data}, NULL"),
            ),
            Workload::BulkUpdate | Workload::BulkUpdateOneColumn | Workload::RowUpdate => {
                let changes = workload.changes();
                let diff: Vec<String> = changes
                    .iter()
                    .map(|(c, _, old)| {
                        format!("'{c}', jsonb_build_object('old', {old}, 'new', n.{c})")
                    })
                    .collect();
                let diff = format!("jsonb_build_object({})", diff.join(", "));
                if full {
                    let old: Vec<String> = COLUMNS
                        .iter()
                        .map(|c| match changes.iter().find(|(name, _, _)| name == c) {
                            Some((_, _, old)) => format!("'{c}', {old}"),
                            None => format!("'{c}', n.{c}"),
                        })
                        .collect();
                    let old = format!("jsonb_build_object({})", old.join(", "));
                    (
                        "UPDATE",
                        "record_id, old_record_id, diff, old_data, new_data, meta",
                        format!("n.id::text, NULL, {diff}, {old}, {new_data}, NULL"),
                    )
                } else {
                    (
                        "UPDATE",
                        "record_id, old_record_id, diff, meta",
                        format!("n.id::text, NULL, {diff}, NULL"),
                    )
                }
            }
        };
        // As the trigger: a one-row statement keeps the context on its event, a bulk one
        // points at the context row.
        let context = match workload {
            Workload::RowInsert | Workload::RowUpdate => format!(
                "NULL, NULLIF(current_setting({}, true), '')::jsonb",
                quote::literal(CONTEXT_SETTING)
            ),
            _ => format!(
                "(SELECT {}()), NULL",
                quote::qualified(config.schema(), &format!("{}_context_id", config.table()))
            ),
        };
        format!(
            "WITH n AS ({write} RETURNING *)
             INSERT INTO {log} (operation, table_schema, table_name, txid, context_id, context, {columns})
             SELECT '{operation}', {schema}, {name}, txid_current(), {context}, {values}
             FROM n",
            log = config.qualified_table(),
            schema = quote::literal(&self.scratch.schema),
            name = quote::literal(self.table),
        )
    }

    /// Events written, and bytes on disk of the log (tables, partitions, indexes, TOAST;
    /// for auditrum also the context table and, with the chain, its tables).
    pub fn footprint(&self, conn: &mut PgConnection) -> Result<Option<(i64, i64)>, BenchError> {
        let log = self.scratch.qualified(self.log);
        let sql = match self.variant {
            Variant::Unaudited => return Ok(None),
            Variant::Classic => format!(
                "SELECT (SELECT count(*) FROM {log})::bigint AS events,
                        pg_total_relation_size({lit})::bigint AS bytes",
                lit = quote::literal(&log)
            ),
            Variant::Python => format!(
                "SELECT (SELECT count(*) FROM {log})::bigint AS events,
                        ((SELECT sum(pg_total_relation_size(relid)) FROM pg_partition_tree({lit}))
                         + pg_total_relation_size({context}))::bigint AS bytes",
                lit = quote::literal(&log),
                context = quote::literal(&self.scratch.qualified("audit_context")),
            ),
            _ => {
                let config = self.config();
                let rel = |suffix: &str| {
                    quote::literal(&quote::qualified(
                        config.schema(),
                        &format!("{}{suffix}", config.table()),
                    ))
                };
                format!(
                    "SELECT (SELECT count(*) FROM {log})::bigint AS events,
                            ((SELECT coalesce(sum(pg_total_relation_size(relid)), 0) FROM pg_partition_tree({log_lit}))
                             + pg_total_relation_size({context})
                             + coalesce(pg_total_relation_size(to_regclass({chain})), 0)
                             + coalesce(pg_total_relation_size(to_regclass({state})), 0))::bigint AS bytes",
                    log_lit = rel(""),
                    context = rel("_context"),
                    chain = rel("_chain"),
                    state = rel("_chain_state"),
                )
            }
        };
        #[derive(diesel::QueryableByName)]
        struct Footprint {
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            events: i64,
            #[diesel(sql_type = diesel::sql_types::BigInt)]
            bytes: i64,
        }
        let row: Footprint = diesel::RunQueryDsl::get_result(diesel::sql_query(sql), conn)?;
        Ok(Some((row.events, row.bytes)))
    }

    /// Seals the chain (when on): links made and seconds taken.
    pub fn seal(&self, conn: &mut PgConnection) -> Result<Option<(i32, f64)>, BenchError> {
        if !self.variant.chain() {
            return Ok(None);
        }
        let start = std::time::Instant::now();
        let links = auditrum_diesel::ops::chain::seal(conn, &self.config())?;
        Ok(Some((links, start.elapsed().as_secs_f64())))
    }

    /// Inserts `rows` rows through the triggers, `batch` per transaction, with a context
    /// and `synchronous_commit = off` (filling is not measured).
    pub fn fill(&self, conn: &mut PgConnection, rows: u64, batch: u64) -> Result<(), BenchError> {
        let table = self.table();
        let mut done = 0;
        while done < rows {
            let n = batch.min(rows - done);
            conn.batch_execute(&format!(
                "BEGIN; SET LOCAL synchronous_commit = off;
                 SET LOCAL {CONTEXT_SETTING} = {context};
                 {insert} FROM generate_series(1, {n}) AS g;
                 COMMIT;",
                context = quote::literal(r#"{"source": "auditrum-bench fill"}"#),
                insert = insert_rows(&table, false),
            ))?;
            done += n;
        }
        Ok(())
    }
}
