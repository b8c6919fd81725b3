//! Without derive: tables audited from a `TrackSpec`, installed as SQL, written to in
//! `audited_transaction`s on a plain `PgConnection`.
//!
//! ```sh
//! cargo run --example plain_sql
//! ```
//!
//! For apps whose tables have no Diesel model, that write SQL by hand, or that decide what
//! to audit at run time. It works in a fresh database: on a throwaway PostgreSQL it starts
//! itself or, when `DATABASE_URL` is set, on that server (its user needs `CREATEDB`); the
//! database is dropped at the end.

use auditrum_diesel::connection::AuditedTransactionExt;
use auditrum_diesel::context::AuditContext;
use auditrum_diesel::read::{record_history, EventWithContext};
use auditrum_diesel::{apply, core_schema_sql, install_sql, introspect, AuditConfig, TrackSpec};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Text};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let database = auditrum_examples::database();
    let mut conn = PgConnection::establish(database.url())?;
    let config = AuditConfig::default(); // public.auditlog, context in auditrum.context

    // The app's tables.
    conn.batch_execute(
        "CREATE TABLE invoices (
             id bigint PRIMARY KEY,
             tenant_id int NOT NULL,
             customer text NOT NULL,
             status text NOT NULL,
             total numeric(12, 2) NOT NULL,
             internal_note text
         );
         CREATE TABLE invoice_lines (
             invoice_id bigint REFERENCES invoices,
             line_no int,
             product text NOT NULL,
             quantity int NOT NULL,
             PRIMARY KEY (invoice_id, line_no)
         );",
    )?;

    // 1. As SQL: what you would put in a migration's up.sql. The core schema once (audit
    //    table, partitions, context storage, registry), then the triggers of each table.
    //    This spec lists the table's columns itself: no database needed to produce the SQL.
    let invoices = TrackSpec::builder("invoices")
        .columns([
            "id",
            "tenant_id",
            "customer",
            "status",
            "total",
            "internal_note",
        ])
        .exclude(["internal_note"]) // never reaches the log
        .meta(["tenant_id"])
        .build()?; // copied onto every event, for filtering
    let up_sql = format!(
        "{}\n{}",
        core_schema_sql(&config),
        install_sql(&invoices, &config)?
    );
    conn.transaction(|conn| conn.batch_execute(&up_sql))?;
    println!(
        "installed the core schema and the triggers of {} ({} lines of SQL)",
        invoices.display_name(),
        up_sql.lines().count()
    );

    // 2. Or straight from Rust, with the columns, their types and the (composite) primary
    //    key read from the database.
    let lines = introspect::complete(&mut conn, TrackSpec::builder("invoice_lines"), true)?;
    apply::install(&mut conn, &lines, &config)?;
    println!(
        "installed the triggers of {} (key: {})\n",
        lines.display_name(),
        lines.key().join(", ")
    );

    // 3. Writes. `audited_transaction` begins the transaction with the context, in one
    //    round trip: `BEGIN; SET LOCAL auditrum.context = '{…}'`.
    let billing = AuditContext::new()
        .user_id("billing-bot")
        .source("cron:invoicing")
        .change_reason("monthly invoicing");
    conn.audited_transaction(billing, |conn| {
        conn.batch_execute(
            "INSERT INTO invoices VALUES (1, 7, 'ACME Corp', 'open', 140.00, 'call before sending');
             INSERT INTO invoice_lines VALUES (1, 1, 'widget', 10), (1, 2, 'gadget', 2);",
        )
    })?;

    // Bound parameters work as in any Diesel code.
    let support = AuditContext::new()
        .user_id("carol@example.com")
        .change_reason("customer asked for a discount");
    conn.audited_transaction(support, |conn| {
        diesel::sql_query(
            "UPDATE invoice_lines SET quantity = $1 WHERE invoice_id = $2 AND line_no = $3",
        )
        .bind::<Integer, _>(12)
        .bind::<BigInt, _>(1)
        .bind::<Integer, _>(1)
        .execute(conn)?;
        diesel::sql_query(
            "UPDATE invoices SET total = total * 0.9, internal_note = $1 WHERE id = $2",
        )
        .bind::<Text, _>("discount approved by Carol")
        .bind::<BigInt, _>(1)
        .execute(conn)
    })?;

    // Nested: a savepoint; the inner context is merged over the outer one, and reasons add
    // up ("customer cancelled; issue a credit note").
    let cancel = AuditContext::new()
        .user_id("dave@example.com")
        .change_reason("customer cancelled");
    conn.audited_transaction(cancel, |conn| {
        diesel::sql_query("DELETE FROM invoice_lines WHERE invoice_id = 1 AND line_no = 2")
            .execute(conn)?;
        let credit = AuditContext::new().change_reason("issue a credit note");
        conn.audited_transaction(credit, |conn| {
            diesel::sql_query("UPDATE invoices SET status = 'credited' WHERE id = 1").execute(conn)
        })
    })?;

    // Outside `audited_transaction` a plain `PgConnection` sends no context: the change is
    // still recorded, without who or why. (An `AuditedConnection` would attribute it.)
    diesel::sql_query("UPDATE invoices SET status = 'archived' WHERE id = 1").execute(&mut conn)?;

    // 4. The history of an invoice, and of one of its lines (a composite key is written as
    //    a JSON array).
    println!("history of public.invoices 1:\n");
    let invoice = record_history(&mut conn, &config, "public", "invoices", "1")?;
    print_history(&invoice);
    println!("history of public.invoice_lines [1, 2]:\n");
    let line = record_history(&mut conn, &config, "public", "invoice_lines", "[1, 2]")?;
    print_history(&line);

    // What the history shows is checked, so CI notices if it ever stops being true.
    assert_eq!(invoice.len(), 4, "insert, discount, credit note, archive");
    assert!(invoice.iter().all(|e| e
        .event
        .new_data
        .as_ref()
        .is_none_or(|d| d.get("internal_note").is_none())));
    let reasons = &invoice[2].context.as_ref().unwrap().change_reasons;
    assert_eq!(reasons, &["customer cancelled", "issue a credit note"]);
    assert!(invoice[3].context.is_none());
    assert_eq!(line.len(), 2, "insert, delete");
    Ok(())
}

/// Each event as the CLI's `history` prints it, with its `meta` and stored context.
fn print_history(events: &[EventWithContext]) {
    for event in events {
        print!("{event}");
        if let Some(meta) = &event.event.meta {
            println!("    meta: {meta}");
        }
        match &event.context {
            Some(context) => println!("    context: {}", context.to_json()),
            None => println!("    context: none"),
        }
    }
    println!();
}
