//! Helpers shared by the CLI tests: run the binary, read the database.
#![allow(dead_code)] // each test binary uses a different subset

use std::process::{Command, Output};

use diesel::prelude::*;
use diesel::sql_types::BigInt;

/// Runs `auditrum-diesel ARGS` with `DATABASE_URL` set to `database_url` (or unset).
pub fn cli(args: &[&str], database_url: Option<&str>) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_auditrum-diesel"));
    command
        .args(args)
        .env_remove("DATABASE_URL")
        .env_remove("AUDITRUM_TABLE");
    if let Some(url) = database_url {
        command.env("DATABASE_URL", url);
    }
    command.output().expect("the binary runs")
}

/// The process's stderr.
pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The process's stdout.
pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// `SELECT (sql)::bigint`.
pub fn count(conn: &mut PgConnection, sql: &str) -> i64 {
    #[derive(QueryableByName)]
    struct N {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }
    diesel::sql_query(format!("SELECT ({sql})::bigint AS n"))
        .get_result::<N>(conn)
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .n
}

/// `url` with its user (and password) replaced.
pub fn url_as(url: &str, user: &str, password: &str) -> String {
    let (scheme, rest) = url.split_once("://").expect("a postgres:// URL");
    let after_user = rest.split_once('@').map_or(rest, |(_, after)| after);
    format!("{scheme}://{user}:{password}@{after_user}")
}
