//! Helpers shared by the CLI tests: run the binary, read the database.
#![allow(dead_code)] // each test binary uses a different subset

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Output, Stdio};

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

/// `SELECT (sql)::text`.
pub fn text(conn: &mut PgConnection, sql: &str) -> String {
    #[derive(QueryableByName)]
    struct T {
        #[diesel(sql_type = diesel::sql_types::Text)]
        t: String,
    }
    diesel::sql_query(format!("SELECT ({sql})::text AS t"))
        .get_result::<T>(conn)
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .t
}

/// `url` with its user (and password) replaced.
pub fn url_as(url: &str, user: &str, password: &str) -> String {
    let (scheme, rest) = url.split_once("://").expect("a postgres:// URL");
    let after_user = rest.split_once('@').map_or(rest, |(_, after)| after);
    format!("{scheme}://{user}:{password}@{after_user}")
}

/// An application role and an admin role for one test (roles are cluster-wide, so they are
/// named after the test's database), with `LOGIN PASSWORD 'pw'` and all rights on `table`
/// for the app. Dropped, with what they own, when this value is dropped.
pub struct Roles {
    /// The application role.
    pub app: String,
    /// The admin role.
    pub admin: String,
    url: String,
}

impl Roles {
    /// Creates both roles.
    pub fn create(db: &auditrum_testdb::TestDatabase, table: &str) -> Roles {
        use diesel::connection::SimpleConnection;
        let roles = Roles {
            app: format!("{}_app", db.name()),
            admin: format!("{}_admin", db.name()),
            url: db.url().to_owned(),
        };
        let mut conn = PgConnection::establish(db.url()).unwrap();
        conn.batch_execute(&format!(
            "CREATE ROLE {app} LOGIN PASSWORD 'pw'; CREATE ROLE {admin} LOGIN PASSWORD 'pw';
             GRANT ALL ON {table} TO {app};",
            app = roles.app,
            admin = roles.admin,
        ))
        .unwrap();
        roles
    }

    /// The database URL for `role`.
    pub fn url_for(&self, role: &str) -> String {
        url_as(&self.url, role, "pw")
    }
}

impl Drop for Roles {
    fn drop(&mut self) {
        use diesel::connection::SimpleConnection;
        if let Ok(mut conn) = PgConnection::establish(&self.url) {
            let _ = conn.batch_execute(&format!(
                "REASSIGN OWNED BY {admin} TO CURRENT_USER; DROP OWNED BY {app}; DROP OWNED BY {admin};
                 DROP ROLE {app}; DROP ROLE {admin};",
                app = self.app,
                admin = self.admin,
            ));
        }
    }
}

/// `serve ARGS` on a fresh port; returns the process and the address it printed.
pub fn serve(db: &auditrum_testdb::TestDatabase, args: &[&str]) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_auditrum-diesel"))
        .arg("serve")
        .args(args)
        .env("DATABASE_URL", db.url())
        .env_remove("AUDITRUM_VIEWER_TOKEN")
        .env_remove("AUDITRUM_TABLE")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let address = line
        .trim()
        .strip_prefix("auditrum-diesel: serving the audit viewer at http://")
        .and_then(|rest| rest.strip_suffix('/'))
        .unwrap_or_else(|| panic!("unexpected first line: {line:?}"))
        .to_owned();
    (child, address)
}

/// Status line and body of `GET path`.
pub fn get(address: &str, path: &str, authorization: Option<&str>) -> (String, String) {
    let mut stream = TcpStream::connect(address).unwrap();
    let mut request = format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n");
    if let Some(value) = authorization {
        request.push_str(&format!("Authorization: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).unwrap();
    let mut raw = String::new();
    stream.read_to_string(&mut raw).unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").unwrap();
    (head.lines().next().unwrap().to_owned(), body.to_owned())
}
