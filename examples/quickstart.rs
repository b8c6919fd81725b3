//! Quickstart: the whole path of a Diesel app, on a throwaway database.
//!
//! 1. a model says what to audit (`#[derive(Audited)]`);
//! 2. the generator writes Diesel migrations for it (`makemigrations`), which run like any
//!    other migration (`diesel migration run`);
//! 3. writes go through `AuditedConnection`, with the context (who, why, from where) set by
//!    scopes;
//! 4. the log answers who changed the row, when, why and from where (a blame of the row).
//!
//! ```sh
//! cargo run --example quickstart
//! ```
//!
//! It works in a fresh database: on a throwaway PostgreSQL it starts itself, or, when
//! `DATABASE_URL` is set, on that server (its user needs `CREATEDB`); the database is
//! dropped at the end.

use auditrum_diesel::connection::AuditedConnection;
use auditrum_diesel::context::{with_change_reason, with_context, AuditContext};
use auditrum_diesel::migrations::Generator;
use auditrum_diesel::read::{blame, field_history, BlameText, FieldText};
use auditrum_diesel::registry::Registry;
use auditrum_diesel::{AuditConfig, Audited};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel_migrations::{FileBasedMigrations, MigrationHarness};

diesel::table! {
    users (id) {
        id -> Int8,
        email -> Text,
        name -> Nullable<Text>,
        password_hash -> Text,
    }
}

/// The app's model. The password hash never reaches the log.
#[allow(dead_code)] // the fields are read by Diesel
#[derive(Queryable, Selectable, Insertable, Audited)]
#[diesel(table_name = users)]
#[audited(exclude(password_hash))]
struct User {
    id: i64,
    email: String,
    name: Option<String>,
    password_hash: String,
}

fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let database = auditrum_testdb::TestDatabase::new();
    println!("database: {}\n", auditrum_testdb::server().description());
    let mut conn = PgConnection::establish(database.url())?;
    // The app's own schema (normally its own migration).
    conn.batch_execute(
        "CREATE TABLE users (id bigint PRIMARY KEY, email text NOT NULL, name text, password_hash text NOT NULL)",
    )?;

    // makemigrations: Diesel migrations for every audited model linked into this binary.
    let migrations = tempfile::tempdir()?;
    let generator = Generator::new(migrations.path(), Registry::linked());
    for folder in generator.generate(chrono::Utc::now())? {
        println!(
            "wrote migration {}",
            folder.file_name().unwrap_or_default().to_string_lossy()
        );
    }
    // diesel migration run
    conn.run_pending_migrations(FileBasedMigrations::from_path(migrations.path())?)?;
    println!(
        "ran the migrations: {} is audited\n",
        User::track_spec().display_name()
    );

    // Writes, with context. In a web app the axum layer sets who and from where per request.
    let mut conn = AuditedConnection::new(conn);
    let signup = AuditContext::new()
        .user_id("alice")
        .source("signup")
        .request_id("req-1");
    with_context(signup, || {
        diesel::insert_into(users::table)
            .values(User {
                id: 1,
                email: "bob@example.com".into(),
                name: Some("Bob".into()),
                password_hash: "h1".into(),
            })
            .execute(&mut conn)
    })?;
    let support = AuditContext::new().user_id("support-7").source("admin");
    with_context(support, || {
        with_change_reason("ticket #42: typo in email", || {
            conn.transaction(|conn| {
                diesel::update(users::table.find(1))
                    .set((
                        users::email.eq("bob@example.org"),
                        users::password_hash.eq("h2"),
                    ))
                    .execute(conn)
            })
        })
    })?;
    // No context: still recorded, just without who and why.
    diesel::update(users::table.find(1))
        .set(users::name.eq(None::<String>))
        .execute(&mut conn)?;

    // Who changed user 1, when, why and from where: a git-style blame of the row, then the
    // timeline of one field (also `auditrum-diesel blame users 1 [email]`).
    let config = AuditConfig::default();
    println!("blame users 1:\n");
    print!(
        "{}",
        BlameText(&blame(conn.inner_mut(), &config, "users", "1", None)?)
    );
    println!("\nblame users 1 email:\n");
    let email = field_history(conn.inner_mut(), &config, "users", "1", "email", None)?;
    print!("{}", FieldText(&email));
    Ok(())
}
