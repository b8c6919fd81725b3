//! The models the read tests audit.

use auditrum_diesel::{AuditConfig, Audited};
use diesel::prelude::*;

diesel::table! {
    users (id) {
        id -> Integer,
        email -> Text,
        name -> Text,
        karma -> Integer,
        password_hash -> Text,
    }
}

diesel::table! {
    app.memberships (group_id, user_id) {
        group_id -> Integer,
        user_id -> Integer,
        role -> Text,
        note -> Nullable<Text>,
    }
}

/// Every column but the password hash.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, Audited)]
#[diesel(table_name = users)]
#[audited(exclude(password_hash))]
pub struct User {
    pub id: i32,
    pub email: String,
    pub name: String,
    pub karma: i32,
    pub password_hash: String,
}

/// A composite key in another schema, only `role` tracked.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, Audited)]
#[diesel(table_name = memberships, primary_key(group_id, user_id))]
#[audited(schema = "app", track_only(role))]
pub struct Membership {
    pub group_id: i32,
    pub user_id: i32,
    pub role: String,
    pub note: Option<String>,
}

pub const CREATE_TABLES: &str = "\
CREATE TABLE users (id int PRIMARY KEY, email text NOT NULL, name text NOT NULL,
    karma int NOT NULL DEFAULT 0, password_hash text NOT NULL DEFAULT 'x');
CREATE SCHEMA app;
CREATE TABLE app.memberships (group_id int, user_id int, role text NOT NULL, note text,
    PRIMARY KEY (group_id, user_id));
";

/// A fresh database with the core schema of `config`, the tables and their triggers.
pub fn database(config: &AuditConfig) -> (auditrum_testdb::TestDatabase, PgConnection) {
    let (db, mut conn) = auditrum_integration_tests::audited_database_with(config);
    auditrum_integration_tests::exec(&mut conn, CREATE_TABLES);
    auditrum_integration_tests::track_with(&mut conn, &User::track_spec(), config);
    auditrum_integration_tests::track_with(&mut conn, &Membership::track_spec(), config);
    (db, conn)
}
