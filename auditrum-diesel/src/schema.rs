//! Diesel schema of the default audit log (`public.auditlog`).
//!
//! These describe the tables [`core_schema_sql`](crate::core_schema_sql) creates with the
//! default [`AuditConfig`](crate::AuditConfig). A log under another name is read with the
//! helpers in [`history`](crate::history), which take the configuration.

/// SQL types of the audit log.
pub mod sql_types {
    /// The PostgreSQL enum `auditrum_operation`.
    #[derive(diesel::sql_types::SqlType, diesel::query_builder::QueryId, Debug)]
    #[diesel(postgres_type(name = "auditrum_operation"))]
    pub struct AuditrumOperation;
}

diesel::table! {
    use diesel::sql_types::*;
    use super::sql_types::AuditrumOperation;

    /// The events, partitioned by month of `changed_at`.
    auditlog (id, changed_at) {
        /// Event id: a `bigint` identity, growing with time.
        id -> Int8,
        /// When the writing transaction started (the partition key).
        changed_at -> Timestamptz,
        /// `INSERT`, `UPDATE`, `DELETE` or `TRUNCATE`.
        operation -> AuditrumOperation,
        /// Schema of the audited table.
        table_schema -> Text,
        /// Name of the audited table.
        table_name -> Text,
        /// The row's key as text (a composite key as a JSON array); NULL for TRUNCATE.
        record_id -> Nullable<Text>,
        /// The key before an UPDATE that changed it; NULL otherwise.
        old_record_id -> Nullable<Text>,
        /// UPDATE: `{"column": {"old": …, "new": …}}` for each tracked column that changed.
        diff -> Nullable<Jsonb>,
        /// The tracked columns before: DELETE, and UPDATE in full storage mode.
        old_data -> Nullable<Jsonb>,
        /// The tracked columns after: INSERT, and UPDATE in full storage mode.
        new_data -> Nullable<Jsonb>,
        /// The spec's meta columns of the row.
        meta -> Nullable<Jsonb>,
        /// The writing transaction's id.
        txid -> Int8,
        /// The transaction's context row in `auditlog_context`; NULL without context, and
        /// when the context is stored on the event (`context`).
        context_id -> Nullable<Int8>,
        /// The context, on the event of a statement that wrote one row; NULL otherwise (then
        /// see `context_id`). Read `COALESCE(context, auditlog_context.context)`, as
        /// [`EventWithContext`](crate::read::EventWithContext) does.
        context -> Nullable<Jsonb>,
    }
}

diesel::table! {
    /// One context per transaction (and per distinct context within it).
    auditlog_context (id) {
        /// Context id, referenced by the events' `context_id`.
        id -> Int8,
        /// The transaction that stored it.
        txid -> Int8,
        /// When it was stored.
        created_at -> Timestamptz,
        /// The JSON object: `user_id`, `request_id`, `change_reason`, ….
        context -> Jsonb,
    }
}

diesel::table! {
    /// The specs installed on the database.
    auditlog_tracked (table_schema, table_name) {
        /// Schema of the audited table.
        table_schema -> Text,
        /// Name of the audited table.
        table_name -> Text,
        /// The installed `TrackSpec`, as JSON.
        spec -> Jsonb,
        /// SHA-256 of the spec's canonical JSON.
        fingerprint -> Text,
        /// SHA-256 of the spec's trigger SQL.
        checksum -> Text,
        /// When the spec was installed.
        installed_at -> Timestamptz,
    }
}

diesel::joinable!(auditlog -> auditlog_context (context_id));
diesel::allow_tables_to_appear_in_same_query!(auditlog, auditlog_context);
