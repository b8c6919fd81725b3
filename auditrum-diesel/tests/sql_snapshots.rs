//! Snapshots of the generated SQL, so a change to it shows in review. A snapshot proves
//! nothing about behaviour: the integration tests in `tests/` run this SQL on PostgreSQL.

use auditrum_diesel::{
    core_schema_sql, install_sql, uninstall_sql, AuditConfig, Column, StorageMode, TrackSpec,
};

fn users() -> TrackSpec {
    TrackSpec::builder("app.users")
        .columns([
            Column::typed("id", "bigint"),
            Column::typed("email", "text"),
            Column::typed("profile", "json"),
            Column::typed("password_hash", "text"),
            Column::typed("tenant_id", "integer"),
        ])
        .exclude(["password_hash"])
        .meta(["tenant_id"])
        .condition("NEW.tenant_id IS NOT NULL")
        .build()
        .unwrap()
}

#[test]
fn core_schema() {
    insta::assert_snapshot!(core_schema_sql(&AuditConfig::default()));
}

#[test]
fn install_with_condition_meta_and_json_column() {
    insta::assert_snapshot!(install_sql(&users(), &AuditConfig::default()).unwrap());
}

#[test]
fn install_composite_key_full_storage() {
    let spec = TrackSpec::builder("order_lines")
        .key(["order_id", "line_no"])
        .columns(["order_id", "line_no", "qty"])
        .storage(StorageMode::Full)
        .build()
        .unwrap();
    insta::assert_snapshot!(install_sql(&spec, &AuditConfig::default()).unwrap());
}

#[test]
fn uninstall() {
    insta::assert_snapshot!(uninstall_sql(&users().name(), &AuditConfig::default()).unwrap());
}

#[test]
fn install_with_mask_and_hash() {
    // The key table and hash function come first; masked and hashed values go through one
    // expression in data, diff and meta.
    let spec = TrackSpec::builder("people")
        .columns(["id", "email", "phone", "name"])
        .mask(["phone"])
        .hash(["email"])
        .meta(["email"])
        .storage(StorageMode::Full)
        .build()
        .unwrap();
    insta::assert_snapshot!(install_sql(&spec, &AuditConfig::default()).unwrap());
}
