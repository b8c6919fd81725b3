// A model using every option, beside Diesel's own derives; its spec is what it says.
use auditrum_diesel::registry::Registry;
use auditrum_diesel::{Audited, StorageMode};
use diesel::prelude::*;

diesel::table! {
    app.accounts (tenant_id, account_no) {
        tenant_id -> Integer,
        account_no -> Integer,
        #[sql_name = "type"]
        kind -> Text,
        email_address -> Text,
        secret -> Text,
        is_active -> Bool,
    }
}

#[derive(Queryable, Selectable, Audited)]
#[diesel(table_name = accounts, primary_key(tenant_id, account_no))]
#[audited(schema = "app", meta(tenant_id), condition = "NEW.is_active")]
#[audited(storage = "full")]
#[audited(mask(kind), hash(email))]
pub struct Account {
    pub tenant_id: i32,
    pub account_no: i32,
    #[diesel(column_name = kind)]
    #[audited(column = "type")]
    pub kind: String,
    #[diesel(column_name = email_address)]
    pub email: String,
    #[audited(skip)]
    pub secret: String,
    pub is_active: bool,
    // Computed, not a column: left out.
    #[diesel(select_expression = accounts::email_address)]
    #[diesel(select_expression_type = accounts::email_address)]
    pub contact: String,
}

pub struct Extra;

// Diesel's default table name: `Comment` → `comments`. Lifetimes are fine; an embedded
// struct is left out with `skip`.
#[derive(Audited)]
#[audited(track_only(body))]
pub struct Comment<'a> {
    pub id: i64,
    pub body: &'a str,
    #[diesel(embed)]
    #[audited(skip)]
    pub extra: Extra,
}

fn main() {
    let spec = Account::track_spec();
    assert_eq!(spec.display_name(), "app.accounts");
    assert_eq!(spec.key(), ["tenant_id", "account_no"]);
    let tracked: Vec<_> = spec.tracked_columns().into_iter().map(|c| c.name).collect();
    assert_eq!(
        tracked,
        ["tenant_id", "account_no", "type", "email_address", "is_active"]
    );
    assert_eq!(spec.meta(), ["tenant_id"]);
    assert_eq!(spec.condition(), Some("NEW.is_active"));
    assert_eq!(spec.storage(), StorageMode::Full);
    // Field names in, column names out.
    assert_eq!(spec.mask(), ["type"]);
    assert_eq!(spec.hash(), ["email_address"]);

    let comments = Comment::track_spec();
    assert_eq!(comments.display_name(), "public.comments");
    assert_eq!(comments.tracked_columns().len(), 1);

    // Both models are registered.
    let tables: Vec<_> = Registry::linked()
        .specs()
        .unwrap()
        .iter()
        .map(|s| s.display_name())
        .collect();
    assert_eq!(tables, ["app.accounts", "public.comments"]);
}
