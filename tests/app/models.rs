//! The application's audited tables: one model, and one table without a model.

use auditrum_diesel::{Audited, TrackSpec};

diesel::table! {
    users (id) {
        id -> Integer,
        email -> Text,
        name -> Text,
        password_hash -> Text,
    }
}

/// A model; the binary never reads it, it only registers it.
#[allow(dead_code)] // Fields of a model this binary only registers.
#[derive(diesel::Queryable, Audited)]
#[diesel(table_name = users)]
#[audited(exclude(password_hash))]
pub struct User {
    pub id: i32,
    pub email: String,
    pub name: String,
    pub password_hash: String,
}

auditrum_diesel::register!(TrackSpec::builder("legacy_events").track_only(["kind", "payload"]));
