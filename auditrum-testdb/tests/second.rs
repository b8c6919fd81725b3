//! `second_server()`: a second local cluster beside the test server, for logical replication.

use auditrum_testdb::{second_server, server, TestDatabase};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};

#[derive(QueryableByName)]
struct Value {
    #[diesel(sql_type = Text)]
    value: String,
}

fn query(conn: &mut PgConnection, sql: &str) -> String {
    diesel::sql_query(sql)
        .get_result::<Value>(conn)
        .unwrap()
        .value
}

#[test]
fn a_second_cluster_runs_beside_the_first_with_logical_wal_and_drops_its_databases() {
    let second = second_server();
    assert!(!std::ptr::eq(second, server()));
    assert!(std::ptr::eq(second, second_server()));
    assert!(second.is_throwaway());
    assert!(
        second.description().starts_with("local initdb cluster"),
        "{}",
        second.description()
    );

    let first = TestDatabase::new();
    let other = TestDatabase::on(second);
    let (mut a, mut b) = (first.connect(), other.connect());
    // Two servers: each has its own data directory.
    let dir_a = query(&mut a, "SELECT current_setting('data_directory') AS value");
    let dir_b = query(&mut b, "SELECT current_setting('data_directory') AS value");
    assert_ne!(dir_a, dir_b);
    assert_eq!(
        query(&mut b, "SELECT current_setting('wal_level') AS value"),
        "logical"
    );
    // Every server this crate starts publishes (a DATABASE_URL server is the user's).
    if server().is_throwaway() {
        assert_eq!(
            query(&mut a, "SELECT current_setting('wal_level') AS value"),
            "logical"
        );
    }

    let name = other.name().to_owned();
    drop(b);
    drop(other);
    #[derive(QueryableByName)]
    struct N {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    let mut admin = PgConnection::establish(&second.url_for("postgres")).unwrap();
    let left: N = diesel::sql_query("SELECT count(*) AS n FROM pg_database WHERE datname = $1")
        .bind::<Text, _>(&name)
        .get_result(&mut admin)
        .unwrap();
    assert_eq!(
        left.n, 0,
        "the second server's database is dropped with its value"
    );
}
