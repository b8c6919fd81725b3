//! Runs against a real server: whichever `auditrum_testdb::server()` picks.

use auditrum_testdb::{server, TestDatabase};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(QueryableByName)]
struct Name {
    #[diesel(sql_type = Text)]
    name: String,
}

fn count(conn: &mut PgConnection, sql: &str) -> i64 {
    diesel::sql_query(sql)
        .get_result::<Count>(conn)
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .n
}

fn current_database(conn: &mut PgConnection) -> String {
    diesel::sql_query("SELECT current_database()::text AS name")
        .get_result::<Name>(conn)
        .unwrap()
        .name
}

fn database_exists(name: &str) -> bool {
    let mut conn = PgConnection::establish(&server().url_for("postgres")).unwrap();
    diesel::sql_query("SELECT count(*) AS n FROM pg_database WHERE datname = $1")
        .bind::<Text, _>(name)
        .get_result::<Count>(&mut conn)
        .unwrap()
        .n
        == 1
}

#[test]
fn two_databases_are_separate() {
    let a = TestDatabase::new();
    let b = TestDatabase::new();
    assert_ne!(a.name(), b.name());
    assert_ne!(a.url(), b.url());

    let mut conn_a = a.connect();
    let mut conn_b = b.connect();
    assert_eq!(current_database(&mut conn_a), a.name());
    assert_eq!(current_database(&mut conn_b), b.name());

    conn_a
        .batch_execute("CREATE TABLE only_in_a (id int); INSERT INTO only_in_a VALUES (1)")
        .unwrap();
    let exists = "SELECT count(*) AS n FROM pg_tables WHERE tablename = 'only_in_a'";
    assert_eq!(count(&mut conn_a, exists), 1);
    assert_eq!(count(&mut conn_b, exists), 0);
    assert_eq!(count(&mut conn_a, "SELECT count(*) AS n FROM only_in_a"), 1);
}

#[test]
fn a_dropped_database_is_gone() {
    let db = TestDatabase::new();
    let name = db.name().to_owned();
    // An open connection must not keep the database alive: drop uses FORCE.
    let mut conn = db.connect();
    conn.batch_execute("CREATE TABLE t (id int)").unwrap();
    assert!(database_exists(&name));

    drop(db);
    assert!(!database_exists(&name), "{name} still exists");
    assert!(conn.batch_execute("SELECT 1").is_err());
}

#[test]
fn kept_database_survives_drop() {
    let db = TestDatabase::new();
    let name = db.name().to_owned();
    let url = db.keep();
    assert!(database_exists(&name));
    let mut conn = PgConnection::establish(&url).unwrap();
    assert_eq!(current_database(&mut conn), name);
    drop(conn);
    // Clean up by hand, since keep() opted out of it.
    let mut admin = PgConnection::establish(&server().url_for("postgres")).unwrap();
    admin
        .batch_execute(&format!("DROP DATABASE \"{name}\" WITH (FORCE)"))
        .unwrap();
}

#[test]
fn parallel_databases() {
    let threads: Vec<_> = (0..8)
        .map(|i| {
            std::thread::spawn(move || {
                let db = TestDatabase::new();
                let mut conn = db.connect();
                conn.batch_execute(&format!(
                    "CREATE TABLE t (id int); INSERT INTO t SELECT generate_series(1, {})",
                    i + 1
                ))
                .unwrap();
                assert_eq!(count(&mut conn, "SELECT count(*) AS n FROM t"), i + 1);
                db.name().to_owned()
            })
        })
        .collect();
    let mut names: Vec<String> = threads.into_iter().map(|t| t.join().unwrap()).collect();
    names.sort();
    names.dedup();
    assert_eq!(names.len(), 8);
    for name in &names {
        assert!(!database_exists(name), "{name} was not dropped");
    }
}

#[test]
fn server_describes_itself() {
    let description = server().description();
    assert!(
        description == "DATABASE_URL"
            || description == "testcontainers"
            || description.starts_with("local initdb cluster at "),
        "{description}"
    );
    assert!(server().url_for("some_db").contains("some_db"));
}

#[test]
fn durable_server_is_refused_once_the_test_server_runs() {
    let _ = server();
    let error = auditrum_testdb::durable_server().unwrap_err();
    assert!(error.contains("already uses"), "{error}");
}
