//! The [`Audited`] trait: a Diesel model that knows what to audit on its table.

use crate::TrackSpec;

/// A model whose table is audited, with the [`TrackSpec`] of that table.
///
/// Implemented by `#[derive(Audited)]`, which reads Diesel's own attributes (`table_name`,
/// `primary_key`, `column_name`) and its own `#[audited(...)]` options, and also registers
/// the model in the [registry](crate::registry) that the migration generator reads.
///
/// ```
/// use auditrum_diesel::Audited;
/// use diesel::prelude::*;
///
/// diesel::table! {
///     users (id) {
///         id -> Integer,
///         email -> Text,
///         #[sql_name = "name"]
///         full_name -> Text,
///         password_hash -> Text,
///     }
/// }
///
/// #[derive(Queryable, Selectable, Audited)]
/// #[diesel(table_name = users)]
/// #[audited(exclude(password_hash))]
/// pub struct User {
///     pub id: i32,
///     pub email: String,
///     // The Rust name of the column is `full_name`; in SQL it is `name`.
///     #[diesel(column_name = full_name)]
///     #[audited(column = "name")]
///     pub display_name: String,
///     pub password_hash: String,
/// }
///
/// let spec = User::track_spec();
/// assert_eq!(spec.display_name(), "public.users");
/// let tracked: Vec<_> = spec.tracked_columns().into_iter().map(|c| c.name).collect();
/// assert_eq!(tracked, ["id", "email", "name"]);
/// ```
pub trait Audited {
    /// The spec of the model's table: its key, its columns and the options of
    /// `#[audited(...)]`.
    fn track_spec() -> TrackSpec;
}
