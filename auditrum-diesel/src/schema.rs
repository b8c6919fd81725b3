//! Diesel schema of the default audit log (`public.auditlog`).
//!
//! These describe the tables [`core_schema_sql`](crate::core_schema_sql) creates with the
//! default [`AuditConfig`](crate::AuditConfig). A log under another name is read with the
//! helpers in [`history`](crate::history), which take the configuration.
#![allow(missing_docs)] // the columns are documented in core_schema.sql

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
        id -> Int8,
        changed_at -> Timestamptz,
        operation -> AuditrumOperation,
        table_schema -> Text,
        table_name -> Text,
        record_id -> Nullable<Text>,
        old_record_id -> Nullable<Text>,
        diff -> Nullable<Jsonb>,
        old_data -> Nullable<Jsonb>,
        new_data -> Nullable<Jsonb>,
        meta -> Nullable<Jsonb>,
        txid -> Int8,
        context_id -> Nullable<Int8>,
    }
}

diesel::table! {
    /// One context per transaction (and per distinct context within it).
    auditlog_context (id) {
        id -> Int8,
        txid -> Int8,
        created_at -> Timestamptz,
        context -> Jsonb,
    }
}

diesel::table! {
    /// The specs installed on the database.
    auditlog_tracked (table_schema, table_name) {
        table_schema -> Text,
        table_name -> Text,
        spec -> Jsonb,
        fingerprint -> Text,
        checksum -> Text,
        installed_at -> Timestamptz,
    }
}

diesel::joinable!(auditlog -> auditlog_context (context_id));
diesel::allow_tables_to_appear_in_same_query!(auditlog, auditlog_context);
