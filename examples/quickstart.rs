//! Quickstart: audit a table, write with context, print a row's history.
//!
//! ```sh
//! cargo run --example quickstart            # starts a throwaway PostgreSQL
//! DATABASE_URL=postgres://… cargo run --example quickstart
//! ```
//!
//! With `DATABASE_URL` set, it works in a fresh schema `auditrum_quickstart_<pid>` of that
//! database and drops it at the end.

use auditrum_diesel::history::record_history;
use auditrum_diesel::{apply, AuditConfig, TrackSpec};
use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let (url, _throwaway) = auditrum_examples::database();
    let mut conn = PgConnection::establish(&url)?;
    let schema = format!("auditrum_quickstart_{}", std::process::id());
    let config = AuditConfig::new().with_table(&format!("{schema}.auditlog"))?;

    // 1. The audit log: a partitioned audit table, context storage, registry.
    conn.batch_execute(&format!("CREATE SCHEMA {schema}"))?;
    apply::install_core_schema(&mut conn, &config)?;

    // 2. An application table, audited except for its password hash.
    conn.batch_execute(&format!(
        "CREATE TABLE {schema}.users (id bigint PRIMARY KEY, email text NOT NULL, \
         name text, password_hash text)"
    ))?;
    let spec = TrackSpec::new(&format!("{schema}.users"))?
        .columns(["id", "email", "name", "password_hash"])
        .exclude(["password_hash"]);
    apply::install(&mut conn, &spec, &config)?;

    // 3. Writes. The context (who, why, from where) is set once per transaction.
    conn.batch_execute(&format!(
        r#"BEGIN;
           SET LOCAL auditrum.context = '{{"user_id": "alice", "source": "signup", "request_id": "req-1"}}';
           INSERT INTO {schema}.users VALUES (1, 'bob@example.com', 'Bob', 'hash-1');
           COMMIT;
           BEGIN;
           SET LOCAL auditrum.context = '{{"user_id": "support-7", "change_reason": "ticket #42: typo in email"}}';
           UPDATE {schema}.users SET email = 'bob@example.org', password_hash = 'hash-2' WHERE id = 1;
           COMMIT;
           UPDATE {schema}.users SET name = NULL WHERE id = 1;"#
    ))?;

    // 4. Who changed user 1, when, why and from where.
    println!("History of {schema}.users 1:\n");
    for event in record_history(&mut conn, &config, &schema, "users", "1")? {
        print!("{event}");
    }

    conn.batch_execute(&format!("DROP SCHEMA {schema} CASCADE"))?;
    Ok(())
}
