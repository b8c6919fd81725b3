//! The DDL guard `harden` installs (issue 15, finding 4): a role other than the admin role
//! cannot switch capture off by DDL, and schema changes of audited tables are chained events.

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::Text;

use crate::audited_notes;
use crate::chain::verify;
use crate::common::{cli, count, stderr, stdout, Roles};

/// Hardened with an admin role, the chain on, and `notes` owned by the app role (as when the
/// app's migrations create its tables): without the guard, the owner may drop its triggers.
fn guarded() -> (auditrum_testdb::TestDatabase, PgConnection, Roles) {
    let (db, mut conn) = audited_notes();
    let roles = Roles::create(&db, "notes");
    conn.batch_execute(&format!(
        "ALTER TABLE notes OWNER TO {app}; GRANT CREATE ON SCHEMA public TO {app}",
        app = roles.app
    ))
    .unwrap();
    assert!(cli(&["enable-hash-chain"], Some(db.url())).status.success());
    let out = cli(
        &[
            "harden",
            "--app-role",
            &roles.app,
            "--admin-role",
            &roles.admin,
        ],
        Some(db.url()),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    (db, conn, roles)
}

/// The statement as the app role: its error, or `None` when it passed.
fn as_app(roles: &Roles, sql: &str) -> Option<String> {
    let mut app = PgConnection::establish(&roles.url_for(&roles.app)).unwrap();
    app.batch_execute(sql).err().map(|e| e.to_string())
}

fn capture_function(conn: &mut PgConnection, trigger: &str) -> String {
    #[derive(QueryableByName)]
    struct F {
        #[diesel(sql_type = Text)]
        f: String,
    }
    diesel::sql_query(
        "SELECT tgfoid::regprocedure::text AS f FROM pg_trigger
         WHERE tgrelid = 'notes'::regclass AND tgname = $1",
    )
    .bind::<Text, _>(trigger)
    .get_result::<F>(conn)
    .unwrap()
    .f
}

#[test]
fn status_tells_whether_the_guard_is_installed() {
    let (db, _conn) = audited_notes();
    let out = cli(&["status"], Some(db.url()));
    assert!(
        stdout(&out).contains("DDL guard: not installed"),
        "{}",
        stdout(&out)
    );
    let roles = Roles::create(&db, "notes");
    let out = cli(
        &[
            "harden",
            "--app-role",
            &roles.app,
            "--admin-role",
            &roles.admin,
        ],
        Some(db.url()),
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = cli(&["status"], Some(db.url()));
    assert!(
        stdout(&out).contains("DDL guard: installed"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn the_app_role_cannot_switch_capture_off() {
    let (db, mut conn, roles) = guarded();
    let function = capture_function(&mut conn, "auditlog_update");
    // Hand the capture function to the app too: then only the guard stands in the way.
    conn.batch_execute(&format!("ALTER FUNCTION {function} OWNER TO {}", roles.app))
        .unwrap();
    let definition: String = {
        #[derive(QueryableByName)]
        struct D {
            #[diesel(sql_type = Text)]
            d: String,
        }
        diesel::sql_query(format!(
            "SELECT pg_get_functiondef('{function}'::regprocedure) AS d"
        ))
        .get_result::<D>(&mut conn)
        .unwrap()
        .d
    };
    for forbidden in [
        "DROP TRIGGER auditlog_insert ON notes".to_owned(),
        "ALTER TABLE notes DISABLE TRIGGER auditlog_update".to_owned(),
        "ALTER TABLE notes DISABLE TRIGGER ALL".to_owned(),
        "ALTER TABLE notes ENABLE REPLICA TRIGGER auditlog_update".to_owned(),
        "ALTER TABLE notes ENABLE ALWAYS TRIGGER auditlog_delete".to_owned(),
        definition,
        format!("DROP FUNCTION {function} CASCADE"),
    ] {
        let error = as_app(&roles, &forbidden).unwrap_or_else(|| panic!("passed: {forbidden}"));
        assert!(
            error.contains(&format!("only the admin role {}", roles.admin)),
            "{forbidden}: {error}"
        );
    }
    assert_eq!(
        count(
            &mut conn,
            "SELECT count(*) FROM pg_trigger WHERE tgrelid = 'notes'::regclass AND tgname LIKE 'auditlog_%' AND tgenabled = 'O'"
        ),
        4,
        "every capture trigger is still there and on"
    );
    // A superuser (as any member of the admin role) may: `untrack` still works.
    let out = cli(&["untrack", "notes"], Some(db.url()));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[test]
fn schema_changes_of_audited_tables_are_chained_ddl_events() {
    let (db, mut conn, roles) = guarded();
    let changes = [
        r#"BEGIN; SET LOCAL auditrum.context = '{"user_id": "dba", "change_reason": "ticket 7"}';
           ALTER TABLE notes ADD COLUMN extra int; COMMIT;"#,
        "ALTER TABLE notes RENAME COLUMN extra TO spare",
        "ALTER TABLE notes ALTER COLUMN spare TYPE bigint",
        "ALTER TABLE notes DROP COLUMN spare",
        "ALTER TABLE notes RENAME TO memos",
        "DROP TABLE memos",
    ];
    for sql in changes {
        assert_eq!(as_app(&roles, sql), None, "{sql}");
    }
    #[derive(QueryableByName, Debug)]
    struct Ddl {
        #[diesel(sql_type = Text)]
        table_name: String,
        #[diesel(sql_type = Text)]
        tag: String,
        #[diesel(sql_type = Text)]
        statement: String,
        #[diesel(sql_type = diesel::sql_types::Nullable<Text>)]
        user_id: Option<String>,
    }
    let events: Vec<Ddl> = diesel::sql_query(
        "SELECT e.table_name, e.new_data ->> 'command_tag' AS tag, e.new_data ->> 'statement' AS statement,
                COALESCE(e.context, c.context) ->> 'user_id' AS user_id
         FROM auditlog e LEFT JOIN auditlog_context c ON c.id = e.context_id
         WHERE e.operation = 'DDL' ORDER BY e.id",
    )
    .load(&mut conn)
    .unwrap();
    assert_eq!(events.len(), 6, "{events:#?}");
    assert_eq!(
        events[0].user_id.as_deref(),
        Some("dba"),
        "with its context"
    );
    assert!(events[1].statement.contains("RENAME COLUMN extra TO spare"));
    assert_eq!(events[4].table_name, "memos", "filed under the new name");
    assert_eq!(events[5].tag, "DROP TABLE");
    assert!(
        events[..5].iter().all(|e| e.tag == "ALTER TABLE"),
        "{events:#?}"
    );

    let (code, text) = verify(&db, &[]);
    assert_eq!(code, Some(0), "{text}");
    assert_eq!(
        count(
            &mut conn,
            "SELECT count(*) FROM auditlog e JOIN auditlog_chain l ON l.txid = e.txid WHERE e.operation = 'DDL'"
        ),
        6,
        "chained like any event"
    );
}

#[test]
fn history_shows_the_tables_schema_changes() {
    let (db, _conn, roles) = guarded();
    for sql in [
        "INSERT INTO notes VALUES (1, 'a')",
        "ALTER TABLE notes ADD COLUMN extra int",
        "UPDATE notes SET body = 'b'",
    ] {
        assert_eq!(as_app(&roles, sql), None, "{sql}");
    }
    let out = cli(&["history", "notes", "1"], Some(db.url()));
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    let (insert, ddl, update) = (
        text.find("INSERT").unwrap(),
        text.find("DDL").unwrap(),
        text.find("UPDATE").unwrap(),
    );
    assert!(insert < ddl && ddl < update, "{text}");
    assert!(text.contains("ADD COLUMN extra"), "{text}");
}
