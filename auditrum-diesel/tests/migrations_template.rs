//! `migrations-template/` is a ready-to-copy Diesel migration of the core schema: exactly
//! what the generator writes for an empty registry. This test fails when it drifts, and
//! rewrites it with `AUDITRUM_REFRESH_TEMPLATE=1`.

use std::fs;
use std::path::Path;

use auditrum_diesel::migrations::Generator;
use auditrum_diesel::registry::Registry;

const TEMPLATE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../migrations-template");
const FOLDER: &str = "2024-01-01-000000_auditrum_core";
const REFRESH: &str = "AUDITRUM_REFRESH_TEMPLATE";

#[test]
fn the_template_is_what_the_generator_writes() {
    let generated = tempfile::tempdir().unwrap();
    let written = Generator::new(generated.path(), Registry::new())
        .generate("2024-01-01T00:00:00Z".parse().unwrap())
        .unwrap();
    assert_eq!(written.len(), 1);
    assert!(written[0].ends_with(FOLDER), "{written:?}");

    let template = Path::new(TEMPLATE);
    if std::env::var_os(REFRESH).is_some() {
        let _ = fs::remove_dir_all(template);
        fs::create_dir_all(template.join(FOLDER)).unwrap();
    }
    let mut listed: Vec<String> = fs::read_dir(template)
        .map(|entries| {
            entries
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    listed.sort();
    let refresh =
        format!("refresh it: {REFRESH}=1 cargo test -p auditrum-diesel --test migrations_template");
    assert_eq!(
        listed,
        [FOLDER],
        "migrations-template/ holds one folder; {refresh}"
    );
    for file in ["up.sql", "down.sql"] {
        let expected = fs::read_to_string(written[0].join(file)).unwrap();
        let path = template.join(FOLDER).join(file);
        if std::env::var_os(REFRESH).is_some() {
            fs::write(&path, &expected).unwrap();
        }
        let actual = fs::read_to_string(&path).unwrap_or_default();
        assert!(
            actual == expected,
            "migrations-template/{FOLDER}/{file} differs from what the generator writes; \
             {refresh}"
        );
    }
}

#[test]
fn the_template_runs_and_reverts_with_diesel_migrations() {
    use diesel::prelude::*;
    use diesel_migrations::{FileBasedMigrations, MigrationHarness};

    #[derive(QueryableByName)]
    struct Present {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        present: bool,
    }
    fn audit_table_exists(conn: &mut PgConnection) -> bool {
        diesel::sql_query("SELECT to_regclass('public.auditlog') IS NOT NULL AS present")
            .get_result::<Present>(conn)
            .unwrap()
            .present
    }

    let db = auditrum_testdb::TestDatabase::new();
    let mut conn = db.connect();
    let migrations = || FileBasedMigrations::from_path(TEMPLATE).unwrap();
    assert_eq!(conn.run_pending_migrations(migrations()).unwrap().len(), 1);
    assert!(audit_table_exists(&mut conn));
    conn.revert_last_migration(migrations()).unwrap();
    assert!(!audit_table_exists(&mut conn));
}
