//! Per-table capture triggers, generated from a [`TrackSpec`].
//!
//! Each audited table gets one statement-level trigger per operation. INSERT, UPDATE and
//! DELETE read the statement's transition tables, so a bulk write stores its N events with
//! one `INSERT … SELECT`. TRUNCATE has no rows and writes one event. See `docs/architecture.md`.

mod delete;
mod insert;
mod truncate;
mod update;

use sha2::{Digest, Sha256};

use crate::quote;
use crate::spec::Protection;
use crate::{AuditConfig, Operation, TrackSpec};

/// Everything the generators need: the spec (validated) and the audit log it writes to.
pub(crate) struct Capture<'a> {
    pub spec: &'a TrackSpec,
    pub config: &'a AuditConfig,
}

/// Where the events of a statement keep the transaction's context.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ContextStorage {
    /// On the event itself (`context`): the statement wrote one row, so at most one event,
    /// and a one-row transaction writes one row of log rather than two.
    Inline,
    /// In the transaction's context row (`context_id`), stored once for all its events.
    Row,
}

impl Capture<'_> {
    /// The PL/pgSQL statements of the capture function of `operation`: a statement of one
    /// row keeps the context on its event, a larger one points at the context row.
    pub fn body(&self, operation: Operation) -> String {
        let Some(transition_table) = transition_table(operation) else {
            return format!("{};", self.statement(operation, ContextStorage::Inline));
        };
        format!(
            "IF (SELECT count(*) FROM (SELECT FROM {transition_table} LIMIT 2) AS auditrum_rows) = 1 THEN\n    \
             {};\n    ELSE\n    {};\n    END IF;",
            self.statement(operation, ContextStorage::Inline),
            self.statement(operation, ContextStorage::Row),
        )
    }

    /// The `INSERT INTO <audit table> …` statement run by the trigger of `operation`.
    pub fn statement(&self, operation: Operation, context: ContextStorage) -> String {
        match operation {
            Operation::Insert => insert::statement(self, context),
            Operation::Update => update::statement(self, context),
            Operation::Delete => delete::statement(self, context),
            Operation::Truncate => truncate::statement(self, context),
            Operation::Ddl | Operation::Purge | Operation::Redact => unreachable!(
                "{operation}: not a captured operation (only Operation::ALL has triggers)"
            ),
        }
    }

    /// The names of the table's capture objects.
    pub fn names(&self) -> Names<'_> {
        Names {
            schema: self.spec.schema(),
            table: self.spec.table(),
            config: self.config,
        }
    }

    /// See [`Names::function_name_raw`].
    pub fn function_name_raw(&self, operation: Operation) -> String {
        self.names().function_name_raw(operation)
    }

    /// See [`Names::function_name`].
    pub fn function_name(&self, operation: Operation) -> String {
        self.names().function_name(operation)
    }

    /// See [`Names::trigger_name_raw`].
    pub fn trigger_name_raw(&self, operation: Operation) -> String {
        self.names().trigger_name_raw(operation)
    }

    /// See [`Names::trigger_name`].
    pub fn trigger_name(&self, operation: Operation) -> String {
        self.names().trigger_name(operation)
    }

    /// See [`Names::table`].
    pub fn table(&self) -> String {
        self.names().table()
    }

    /// The columns every event names: operation, table, and the transaction's context.
    pub fn insert_into(&self, columns: &[&str]) -> String {
        format!(
            "INSERT INTO {} (operation, table_schema, table_name, txid, context_id, context, {})",
            self.config.qualified_table(),
            columns.join(", ")
        )
    }

    /// The values matching [`insert_into`](Self::insert_into)'s fixed columns. The txid
    /// and the context are uncorrelated subqueries: evaluated once per statement (not
    /// once per row), and only when at least one event is written.
    pub fn fixed_values(&self, operation: Operation, context: ContextStorage) -> String {
        let context = match context {
            ContextStorage::Inline => format!("NULL, {}", self.inline_context()),
            ContextStorage::Row => {
                format!("(SELECT {}()), NULL", self.config.object("_context_id"))
            }
        };
        format!(
            "'{}', {}, {}, (SELECT txid_current()), {context}",
            operation.as_str(),
            quote::literal(self.spec.schema()),
            quote::literal(self.spec.table()),
        )
    }

    /// The context setting as the JSON object an event stores, or NULL when none is set;
    /// the same checks as the context function, without calling a function: a value that
    /// does not start like an object goes to the context function, which refuses it with
    /// its message (it never returns for such a value); over-long `user_id` / `request_id`
    /// are cut by the same function as there.
    fn inline_context(&self) -> String {
        format!(
            "(SELECT CASE WHEN octet_length(c.ctx ->> 'user_id') > 1024 OR octet_length(c.ctx ->> 'request_id') > 1024 \
             THEN {overlong}(c.ctx) ELSE c.ctx END \
             FROM (SELECT CASE WHEN r.raw IS NULL THEN NULL WHEN left(ltrim(r.raw), 1) = '{{' THEN r.raw::jsonb \
             ELSE {refuse}()::text::jsonb END AS ctx \
             FROM (SELECT NULLIF(current_setting({setting}, true), '') AS raw) AS r OFFSET 0) AS c)",
            overlong = self.config.object("_context_overlong"),
            refuse = self.config.object("_context_id"),
            setting = quote::literal(self.config.context_setting()),
        )
    }

    /// The record key of the row `alias`: its text, or a JSON array for a composite key.
    pub fn key(&self, alias: &str) -> String {
        super::key::record_id(alias, self.spec.key())
    }

    /// The tracked columns of the row `alias` as a JSON object.
    pub fn data(&self, alias: &str) -> String {
        let names: Vec<String> = self
            .spec
            .tracked_columns()
            .into_iter()
            .map(|c| c.name)
            .collect();
        self.json_object(alias, &names)
    }

    /// The meta columns of the row `alias` as a JSON object, or NULL when there are none.
    pub fn meta(&self, alias: &str) -> String {
        if self.spec.meta().is_empty() {
            return "NULL".into();
        }
        self.json_object(alias, self.spec.meta())
    }

    /// The value of `column` of the row `alias` as the log stores it: the column itself,
    /// the masked marker (`mask(...)`: never the value, whatever it is, NULL included), or
    /// `"hmac-sha256:<hex>"` of its text form (`hash(...)`; NULL stays NULL). The one place
    /// a column's value enters an event: data, diff and meta all go through it.
    pub fn value(&self, alias: &str, column: &str) -> String {
        let raw = format!("{alias}.{}", quote::ident(column));
        match self.spec.protection(column) {
            None => raw,
            Some(Protection::Mask) => format!("{}::jsonb", quote::literal(MASKED_MARKER)),
            Some(Protection::Hash) => super::hmac::call(self.config, &format!("{raw}::text")),
        }
    }

    /// `jsonb_build_object('a', <value of a>, …)`, in calls of at most 50 pairs (PostgreSQL
    /// passes at most 100 arguments to a function) joined with `||`.
    fn json_object(&self, alias: &str, names: &[String]) -> String {
        let pairs: Vec<String> = names
            .iter()
            .map(|name| format!("{}, {}", quote::literal(name), self.value(alias, name)))
            .collect();
        pairs
            .chunks(50)
            .map(|chunk| format!("jsonb_build_object({})", chunk.join(", ")))
            .collect::<Vec<_>>()
            .join(" || ")
    }

    /// The condition, or TRUE, evaluated on the row named `new` in the query.
    pub fn condition(&self) -> String {
        match self.spec.condition() {
            Some(condition) => format!("({condition})"),
            None => "TRUE".into(),
        }
    }

    /// Columns the trigger reads from a transition table: key, tracked and meta columns.
    pub fn read_columns(&self) -> Vec<String> {
        let mut names: Vec<String> = self.spec.key().to_vec();
        let more = self.spec.tracked_columns().into_iter().map(|c| c.name);
        for name in more.chain(self.spec.meta().iter().cloned()) {
            if !names.contains(&name) {
                names.push(name);
            }
        }
        names
    }
}

/// The transition table whose rows the capture of `operation` reads (TRUNCATE has none).
fn transition_table(operation: Operation) -> Option<&'static str> {
    match operation {
        Operation::Insert | Operation::Update => Some("new_rows"),
        Operation::Delete => Some("old_rows"),
        _ => None,
    }
}

/// The names of one table's capture objects (functions, triggers): they depend only on the
/// table and the log, so uninstalling needs no spec.
pub(crate) struct Names<'a> {
    pub schema: &'a str,
    pub table: &'a str,
    pub config: &'a AuditConfig,
}

impl Names<'_> {
    /// `<audit table>_<schema>_<table>_<operation>`, unquoted, cut to PostgreSQL's
    /// 63-byte limit with a hash suffix so long names stay unique. It lives in the log's
    /// schema, not the table's: the application often owns the table's schema, and an
    /// owner of a schema may drop or replace what is in it.
    pub fn function_name_raw(&self, operation: Operation) -> String {
        shorten(&format!(
            "{}_{}_{}_{}",
            self.config.table(),
            self.schema,
            self.table,
            operation.suffix()
        ))
    }

    /// `"<log schema>"."<audit table>_<schema>_<table>_<operation>"`.
    pub fn function_name(&self, operation: Operation) -> String {
        quote::qualified(self.config.schema(), &self.function_name_raw(operation))
    }

    /// Where versions before 0.2 put the function: `"<table schema>"."<audit
    /// table>_<table>_<operation>"`. Install and uninstall drop it when no trigger uses it.
    pub fn legacy_function_name(&self, operation: Operation) -> String {
        let name = shorten(&format!(
            "{}_{}_{}",
            self.config.table(),
            self.table,
            operation.suffix()
        ));
        quote::qualified(self.schema, &name)
    }

    /// `<audit table>_<operation>`, unquoted: the trigger's name on the audited table.
    pub fn trigger_name_raw(&self, operation: Operation) -> String {
        trigger_name(self.config, operation)
    }

    /// The trigger's name, quoted.
    pub fn trigger_name(&self, operation: Operation) -> String {
        quote::ident(&self.trigger_name_raw(operation))
    }

    /// `"schema"."table"` of the audited table.
    pub fn table(&self) -> String {
        quote::qualified(self.schema, self.table)
    }
}

/// Columns the triggers of `spec` read from the table: key, tracked and meta columns.
pub(crate) fn read_columns(spec: &TrackSpec) -> Vec<String> {
    let config = AuditConfig::default();
    Capture {
        spec,
        config: &config,
    }
    .read_columns()
}

/// The names of the capture triggers an audit log puts on each table.
pub(crate) fn trigger_names(config: &AuditConfig) -> Vec<String> {
    Operation::ALL
        .iter()
        .map(|&op| trigger_name(config, op))
        .collect()
}

fn trigger_name(config: &AuditConfig, operation: Operation) -> String {
    shorten(&format!("{}_{}", config.table(), operation.suffix()))
}

/// What a masked column's values are stored as (`read::protected` reads it back).
pub(crate) const MASKED_MARKER: &str = r#"{"$auditrum": "masked"}"#;

/// Cuts a name to PostgreSQL's 63-byte identifier limit, keeping it unique with a hash.
pub(crate) fn shorten(name: &str) -> String {
    const LIMIT: usize = 63;
    if name.len() <= LIMIT {
        return name.to_owned();
    }
    let hash = hex::encode(&Sha256::digest(name.as_bytes())[..4]);
    let mut cut = LIMIT - hash.len() - 1;
    while !name.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}_{hash}", &name[..cut])
}

#[cfg(test)]
mod tests {
    #[test]
    fn long_names_are_cut_with_a_hash() {
        let long = "x".repeat(80);
        let short = super::shorten(&long);
        assert_eq!(short.len(), 63);
        assert_ne!(short, super::shorten(&"x".repeat(81)));
        assert_eq!(super::shorten("users"), "users");
    }
}
