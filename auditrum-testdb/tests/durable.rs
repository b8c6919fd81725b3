//! `durable_server()`: its own test binary, because a process has one server.

use auditrum_testdb::{durable_server, server, TestDatabase};
use diesel::prelude::*;
use diesel::sql_types::Text;

#[derive(QueryableByName)]
struct Setting {
    #[diesel(sql_type = Text)]
    value: String,
}

fn setting(conn: &mut PgConnection, name: &str) -> String {
    diesel::sql_query("SELECT current_setting($1) AS value")
        .bind::<Text, _>(name)
        .get_result::<Setting>(conn)
        .unwrap()
        .value
}

#[test]
fn durable_server_keeps_the_server_defaults_and_serves_test_databases() {
    let durable = durable_server().expect("a durable local cluster starts");
    assert!(durable.is_throwaway());
    assert!(
        durable
            .description()
            .starts_with("durable local initdb cluster"),
        "{}",
        durable.description()
    );
    // It is the process's server: test databases are made on it.
    assert!(std::ptr::eq(durable, server()));
    assert!(std::ptr::eq(durable, durable_server().unwrap()));

    let db = TestDatabase::new();
    let mut conn = db.connect();
    for name in ["fsync", "synchronous_commit", "full_page_writes"] {
        assert_eq!(setting(&mut conn, name), "on", "{name}");
    }
    assert_eq!(setting(&mut conn, "max_connections"), "100");
}
