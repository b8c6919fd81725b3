//! The findings of issue 13, each replayed as an attack by a real application role (a
//! LOGIN role that owns or writes the audited tables) on a real server, asserting that
//! after `harden` it is prevented, or detected by `status` (exit code 1 and a message).
//! See docs/hardening.md for the threat model and the table these tests back.

#[path = "../common/mod.rs"]
mod common;

mod capture_rights;
mod context_cache;
mod hmac_key;
mod names;
mod privileges;
mod small;
mod trigger_tampering;
mod types;

use auditrum_testdb::TestDatabase;
use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};

use common::{cli, stderr, stdout, url_as};

/// One test's cast: a database, a superuser connection (the operator), an application role
/// (LOGIN, owns schema `app`) and an admin role (NOLOGIN is not needed: it never logs in
/// here). Roles are cluster-wide, so they are named after the database.
#[allow(missing_debug_implementations)] // holds a connection; never printed
pub struct Scene {
    pub db: TestDatabase,
    pub operator: PgConnection,
    pub app: String,
    pub admin: String,
}

impl Scene {
    /// The audit log installed, the app role created and owning schema `app`, where it
    /// created `app.items (id int PRIMARY KEY, body text)`, tracked by the operator.
    #[allow(clippy::new_without_default)] // a database per call: not a default value
    pub fn new() -> Scene {
        let db = TestDatabase::new();
        let mut operator = db.connect();
        let app = format!("{}_app", db.name());
        let admin = format!("{}_admin", db.name());
        operator
            .batch_execute(&format!(
                "CREATE ROLE {app} LOGIN PASSWORD 'pw'; CREATE ROLE {admin} LOGIN PASSWORD 'pw';
                 CREATE SCHEMA app AUTHORIZATION {app};"
            ))
            .unwrap();
        let scene = Scene {
            db,
            operator,
            app,
            admin,
        };
        scene.ok(&["init-schema"]);
        scene
            .as_app()
            .batch_execute("CREATE TABLE app.items (id int PRIMARY KEY, body text)")
            .unwrap();
        scene.ok(&["track", "app.items"]);
        scene
    }

    /// `harden --app-role app --admin-role admin`, which must succeed.
    pub fn harden(&self) {
        self.ok(&[
            "harden",
            "--app-role",
            &self.app,
            "--admin-role",
            &self.admin,
        ]);
    }

    /// A connection as the application role.
    pub fn as_app(&self) -> PgConnection {
        PgConnection::establish(&url_as(self.db.url(), &self.app, "pw")).unwrap()
    }

    /// Runs the CLI as the operator (a superuser): (exit code, stdout, stderr).
    pub fn run(&self, args: &[&str]) -> (i32, String, String) {
        let out = cli(args, Some(self.db.url()));
        (out.status.code().unwrap_or(-1), stdout(&out), stderr(&out))
    }

    /// Runs the CLI and asserts exit 0.
    pub fn ok(&self, args: &[&str]) -> String {
        let (code, out, err) = self.run(args);
        assert_eq!(code, 0, "{args:?}: {err}");
        out
    }

    /// `status`: (exit code, its report).
    pub fn status(&self) -> (i32, String) {
        let (code, out, err) = self.run(&["status"]);
        (code, format!("{out}{err}"))
    }
}

impl Drop for Scene {
    fn drop(&mut self) {
        let _ = self.operator.batch_execute(&format!(
            "REASSIGN OWNED BY {app}, {admin} TO CURRENT_USER; DROP OWNED BY {app}, {admin};
             DROP ROLE {app}; DROP ROLE {admin};",
            app = self.app,
            admin = self.admin,
        ));
    }
}

/// `SELECT (sql)::bigint`.
pub fn count(conn: &mut PgConnection, sql: &str) -> i64 {
    common::count(conn, sql)
}

/// `SELECT (sql)::bool`.
pub fn truth(conn: &mut PgConnection, sql: &str) -> bool {
    count(conn, &format!("({sql})::int")) == 1
}
