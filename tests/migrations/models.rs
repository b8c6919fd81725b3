//! The application's models, as a user writes them. `v1` and `v2` are the same model
//! before and after an edit of its `#[audited]` options: a test puts one of them in its
//! registry, never both.

use diesel::prelude::*;

diesel::table! {
    users (id) {
        id -> Integer,
        email -> Text,
        name -> Text,
        password_hash -> Text,
    }
}

diesel::table! {
    app.memberships (group_id, user_id) {
        group_id -> Integer,
        user_id -> Integer,
        role -> Text,
        tenant_id -> Integer,
    }
}

/// The tables the models map, created by the application's own first migration.
pub const CREATE_TABLES: &str = "\
CREATE TABLE users (id serial PRIMARY KEY, email text NOT NULL, name text NOT NULL,
    password_hash text NOT NULL);
CREATE SCHEMA app;
CREATE TABLE app.memberships (group_id int, user_id int, role text NOT NULL,
    tenant_id int NOT NULL, PRIMARY KEY (group_id, user_id));
";

/// Undoes [`CREATE_TABLES`].
pub const DROP_TABLES: &str = "DROP TABLE app.memberships; DROP SCHEMA app; DROP TABLE users;\n";

pub mod v1 {
    use super::users;
    use auditrum_diesel::Audited;
    use diesel::prelude::*;

    /// Every column but the password hash; the field `email_address` maps the column
    /// `email`, and is audited under the column's name.
    #[derive(Debug, Queryable, Selectable, Insertable, Audited)]
    #[diesel(table_name = users)]
    #[audited(exclude(password_hash))]
    pub struct User {
        pub id: i32,
        #[diesel(column_name = email)]
        pub email_address: String,
        pub name: String,
        pub password_hash: String,
    }
}

pub mod v2 {
    use super::users;
    use auditrum_diesel::Audited;
    use diesel::prelude::*;

    /// The same model after an edit: only the email is audited now.
    #[derive(Debug, Queryable, Selectable, Insertable, Audited)]
    #[diesel(table_name = users)]
    #[audited(track_only(email_address))]
    pub struct User {
        pub id: i32,
        #[diesel(column_name = email)]
        pub email_address: String,
        pub name: String,
        pub password_hash: String,
    }
}

/// A schema-qualified table with a composite key, a meta column, a condition and full
/// storage.
#[derive(Debug, Queryable, Selectable, Insertable, auditrum_diesel::Audited)]
#[diesel(table_name = memberships, primary_key(group_id, user_id))]
#[audited(schema = "app", meta(tenant_id), condition = "NEW.role <> 'guest'")]
#[audited(storage = "full")]
pub struct Membership {
    pub group_id: i32,
    pub user_id: i32,
    pub role: String,
    pub tenant_id: i32,
}
