//! `AuditedConnection` and `audited_transaction`: the context of the scope in force reaches
//! the events of every write path, in one batch with `BEGIN`, and nowhere else.

use std::sync::{Arc, Mutex};

use auditrum_diesel::connection::{AuditedConnection, AuditedTransactionExt};
use auditrum_diesel::context::{
    self, audit_tracked, with_change_reason, with_context, AuditContext, ContextError,
};
use auditrum_diesel::TrackSpec;
use auditrum_integration_tests::*;
use diesel::connection::{Instrumentation, InstrumentationEvent, SimpleConnection};
use diesel::prelude::*;
use serde_json::{json, Value};

diesel::table! {
    notes (id) {
        id -> Int4,
        body -> Nullable<Text>,
    }
}

/// A fresh audited database with a tracked table `notes`, a plain connection to read
/// what was committed, and an `AuditedConnection` to write.
fn setup() -> (
    auditrum_testdb::TestDatabase,
    PgConnection,
    AuditedConnection,
) {
    let (db, mut reader) = audited_database();
    exec(
        &mut reader,
        "CREATE TABLE notes (id int PRIMARY KEY, body text)",
    );
    track(
        &mut reader,
        &TrackSpec::builder("notes")
            .columns(["id", "body"])
            .build()
            .unwrap(),
    );
    let writer = AuditedConnection::new(db.connect());
    (db, reader, writer)
}

/// The stored context of each event of `notes`, in event order.
fn contexts(reader: &mut PgConnection) -> Vec<Option<Value>> {
    events_of(reader, "notes")
        .iter()
        .map(|event| context_of(reader, event))
        .collect()
}

fn insert(conn: &mut AuditedConnection, id: i32) -> QueryResult<usize> {
    diesel::insert_into(notes::table)
        .values((notes::id.eq(id), notes::body.eq("x")))
        .execute(conn)
}

/// Records the statements a connection sends (Diesel's instrumentation events).
#[derive(Clone, Default)]
struct Statements(Arc<Mutex<Vec<String>>>);

impl Statements {
    fn attach(conn: &mut AuditedConnection) -> Self {
        let statements = Statements::default();
        conn.set_instrumentation(statements.clone());
        statements
    }

    fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

impl Instrumentation for Statements {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        if let InstrumentationEvent::StartQuery { query, .. } = event {
            self.0.lock().unwrap().push(query.to_string());
        }
    }
}

#[test]
fn the_context_rides_in_the_begin_batch_at_no_extra_round_trip() {
    let (_db, mut reader, mut conn) = setup();
    let statements = Statements::attach(&mut conn);

    conn.transaction(|conn| insert(conn, 1)).unwrap();
    let without = statements.take();

    with_context(AuditContext::new().user_id(7), || {
        conn.transaction(|conn| insert(conn, 2))
    })
    .unwrap();
    let with = statements.take();

    assert_eq!(without.len(), 3, "BEGIN, INSERT, COMMIT: {without:?}");
    assert_eq!(
        with.len(),
        without.len(),
        "the context costs no statement of its own: {with:?}"
    );
    assert_eq!(without[0], "BEGIN");
    assert_eq!(
        with[0],
        "BEGIN;\nSET LOCAL auditrum.context = E'{\"user_id\":\"7\"}'"
    );
    assert_eq!(contexts(&mut reader), [None, Some(json!({"user_id": "7"}))]);
}

#[test]
fn a_change_reason_scope_reaches_the_events_with_the_other_keys() {
    let (_db, mut reader, mut conn) = setup();
    let user = AuditContext::new()
        .user_id("alice@example.com")
        .request_id("r-1");
    with_context(user, || {
        with_change_reason("x", || {
            conn.transaction(|conn| {
                insert(conn, 1)?;
                diesel::update(notes::table)
                    .set(notes::body.eq("y"))
                    .execute(conn)
            })
        })
    })
    .unwrap();
    let expected =
        json!({"user_id": "alice@example.com", "request_id": "r-1", "change_reason": "x"});
    assert_eq!(
        contexts(&mut reader),
        [Some(expected.clone()), Some(expected)]
    );
    assert_eq!(
        context_rows(&mut reader),
        0,
        "each statement wrote one row, whose event carries the context itself"
    );
}

#[test]
fn writes_outside_a_transaction_are_wrapped_and_attributed() {
    let (_db, mut reader, mut conn) = setup();
    let statements = Statements::attach(&mut conn);
    with_change_reason("autocommit", || -> QueryResult<()> {
        // execute
        insert(&mut conn, 1)?;
        // load (INSERT … RETURNING)
        let id: i32 = diesel::insert_into(notes::table)
            .values(notes::id.eq(2))
            .returning(notes::id)
            .get_result(&mut conn)?;
        assert_eq!(id, 2);
        // a raw batch
        conn.batch_execute("UPDATE notes SET body = 'z' WHERE id = 1")?;
        // raw SQL through sql_query
        diesel::sql_query("DELETE FROM notes WHERE id = 2").execute(&mut conn)?;
        Ok(())
    })
    .unwrap();
    let sent = statements.take();
    assert_eq!(
        sent.len(),
        3 + 3 + 1 + 3,
        "BEGIN…/write/COMMIT for each prepared write, one batch for the raw batch: {sent:#?}"
    );
    assert!(
        sent[6].starts_with("SET LOCAL auditrum.context = ") && sent[6].ends_with("WHERE id = 1")
    );
    let reason = Some(json!({"change_reason": "autocommit"}));
    assert_eq!(contexts(&mut reader), vec![reason; 4]);
    assert_eq!(
        context_rows(&mut reader),
        0,
        "one transaction per write, each a one-row statement whose event carries the context"
    );
}

#[test]
fn without_a_context_nothing_is_added_and_events_have_none() {
    let (_db, mut reader, mut conn) = setup();
    let statements = Statements::attach(&mut conn);
    insert(&mut conn, 1).unwrap();
    conn.batch_execute("UPDATE notes SET body = 'z'").unwrap();
    conn.transaction(|conn| insert(conn, 2)).unwrap();
    assert_eq!(statements.take().len(), 1 + 1 + 3);
    assert_eq!(contexts(&mut reader), [None, None, None]);
    assert_eq!(context_rows(&mut reader), 0);
}

#[test]
fn reads_outside_a_transaction_are_sent_as_they_are() {
    let (_db, _reader, mut conn) = setup();
    let statements = Statements::attach(&mut conn);
    with_change_reason("reading", || {
        let n: i64 = notes::table.count().get_result(&mut conn).unwrap();
        assert_eq!(n, 0);
        conn.batch_execute("SELECT 1").unwrap();
    });
    assert_eq!(statements.take().len(), 2, "no BEGIN/COMMIT around reads");
}

#[test]
fn the_context_does_not_leak_into_the_next_transaction_or_write() {
    let (_db, mut reader, mut conn) = setup();
    with_change_reason("first", || conn.transaction(|conn| insert(conn, 1))).unwrap();
    conn.transaction(|conn| insert(conn, 2)).unwrap();
    insert(&mut conn, 3).unwrap();
    conn.batch_execute("INSERT INTO notes VALUES (4, 'raw')")
        .unwrap();
    assert_eq!(
        contexts(&mut reader),
        [Some(json!({"change_reason": "first"})), None, None, None]
    );
}

#[test]
fn a_scope_inside_a_transaction_applies_to_its_writes_only() {
    let (_db, mut reader, mut conn) = setup();
    let statements = Statements::attach(&mut conn);
    with_change_reason("outer", || {
        conn.transaction(|conn| {
            insert(conn, 1)?;
            with_change_reason("inner", || insert(conn, 2))?;
            insert(conn, 3)?;
            // A nested transaction in a nested scope: the savepoint carries it, in one batch.
            with_change_reason("savepoint", || conn.transaction(|conn| insert(conn, 4)))?;
            insert(conn, 5)?;
            // A nested transaction rolled back: its context goes with it.
            let _ = with_change_reason("rolled back", || {
                conn.transaction(|conn| {
                    insert(conn, 6)?;
                    Err::<(), _>(diesel::result::Error::RollbackTransaction)
                })
            });
            insert(conn, 7)
        })
    })
    .unwrap();
    let reason = |r: &str| Some(json!({"change_reason": r}));
    let nested = |r: &str| {
        Some(json!({"change_reason": format!("outer; {r}"), "change_reasons": ["outer", r]}))
    };
    assert_eq!(
        contexts(&mut reader),
        [
            reason("outer"),
            nested("inner"),
            reason("outer"),
            nested("savepoint"),
            reason("outer"),
            reason("outer"),
        ]
    );
    let sent = statements.take();
    assert!(
        sent.iter()
            .any(|s| s.starts_with("SAVEPOINT diesel_savepoint_1;\nSET LOCAL auditrum.context = ")),
        "{sent:#?}"
    );
}

#[test]
fn after_a_panic_the_outer_context_is_back() {
    let (_db, mut reader, mut conn) = setup();
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        with_change_reason("doomed", || {
            conn.transaction(|conn| insert(conn, 1)).unwrap();
            panic!("handler failed");
        })
    }));
    assert!(caught.is_err());
    assert_eq!(AuditContext::current(), None);
    insert(&mut conn, 2).unwrap();
    assert_eq!(
        contexts(&mut reader),
        [Some(json!({"change_reason": "doomed"})), None]
    );
}

#[test]
fn awkward_values_arrive_intact() {
    let (_db, mut reader, mut conn) = setup();
    let long: String = "0123456789abcdef\\'\"".repeat(600); // ~11 KB
    let ctx = AuditContext::new()
        .user_id("o'brien@example.com")
        .change_reason("it's a \\ test with $$dollar$$ quotes\nand a newline\tand a tab")
        .insert("emoji", "🦀 naïve café ∑ 日本語")
        .insert("escape_like", r"\x41 \u0041 E'\'' \\")
        .insert("long", long.clone())
        .insert("nested", json!({"a": [1, "two", null, {"b'": "c\\"}]}));
    with_context(ctx.clone(), || conn.transaction(|conn| insert(conn, 1))).unwrap();
    with_context(ctx.clone(), || insert(&mut conn, 2)).unwrap();
    with_context(ctx.clone(), || {
        conn.batch_execute("UPDATE notes SET body = 'y'")
    })
    .unwrap();
    let expected = ctx.to_json();
    assert_eq!(expected["long"].as_str().unwrap().len(), long.len());
    assert_eq!(
        contexts(&mut reader),
        vec![Some(expected); 4],
        "transaction, wrapped write and batch"
    );
}

/// A small deterministic generator, so a failure can be replayed.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn string(&mut self) -> String {
        const PALETTE: &[char] = &[
            '\'', '\\', '"', '$', 'E', 'e', ';', '-', '/', '*', '\n', '\r', '\t', ' ', 'a', '{',
            '}', '[', ']', ':', ',', '\u{1}', '\u{7f}', 'é', '€', '🦀', '\u{200b}', '\u{feff}',
            'u', '0', '%', '_',
        ];
        let len = (self.next() % 40) as usize;
        (0..len)
            .map(|_| PALETTE[(self.next() % PALETTE.len() as u64) as usize])
            .collect()
    }
}

#[test]
fn random_values_round_trip_exactly() {
    let (_db, mut reader, mut conn) = setup();
    let mut rng = XorShift(0x5eed_1234_abcd_0001);
    let mut expected = Vec::new();
    for id in 0..200 {
        let mut ctx = AuditContext::new().user_id(rng.string());
        for _ in 0..3 {
            ctx = ctx.insert(rng.string(), rng.string());
        }
        ctx = ctx.change_reason(rng.string());
        expected.push(Some(ctx.to_json()));
        with_context(ctx, || conn.transaction(|conn| insert(conn, id))).unwrap();
    }
    assert_eq!(contexts(&mut reader), expected);
}

#[test]
fn nul_is_refused_before_anything_is_sent_and_nothing_is_written() {
    let (_db, mut reader, mut conn) = setup();
    let statements = Statements::attach(&mut conn);
    let bad = AuditContext::new().user_id("a\0b");
    let in_transaction =
        with_context(bad.clone(), || conn.transaction(|conn| insert(conn, 1))).map(|_| ());
    let autocommit = with_context(bad.clone(), || insert(&mut conn, 2));
    let batch = with_context(bad, || {
        conn.batch_execute("INSERT INTO notes VALUES (3, 'x')")
    });
    for result in [in_transaction, autocommit.map(|_| ()), batch] {
        let error = result.expect_err("a NUL in the context fails the write");
        assert_eq!(
            ContextError::from_diesel(&error),
            Some(&ContextError::Nul {
                key: "user_id".into()
            }),
            "{error}"
        );
        assert!(error.to_string().contains("NUL"), "{error}");
    }
    assert_eq!(statements.take(), Vec::<String>::new(), "nothing was sent");
    assert_eq!(count(&mut reader, "SELECT count(*) FROM notes"), 0);
    assert_eq!(events(&mut reader).len(), 0);
    // The connection is fine afterwards.
    insert(&mut conn, 4).unwrap();
}

#[test]
fn set_transaction_isolation_level_still_works_in_an_audited_transaction() {
    let (_db, mut reader, mut conn) = setup();
    #[derive(QueryableByName)]
    struct Isolation {
        #[diesel(sql_type = diesel::sql_types::Text)]
        transaction_isolation: String,
    }
    let level = with_change_reason("serializable", || {
        conn.transaction(|conn| {
            conn.batch_execute("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE")?;
            insert(conn, 1)?;
            diesel::sql_query("SHOW transaction_isolation").get_result::<Isolation>(conn)
        })
    })
    .unwrap();
    assert_eq!(level.transaction_isolation, "serializable");
    assert_eq!(
        contexts(&mut reader),
        [Some(json!({"change_reason": "serializable"}))]
    );
}

#[test]
fn audit_tracked_marks_a_command_in_guard_and_closure_form() {
    let (_db, mut reader, mut conn) = setup();
    {
        let _audit = audit_tracked("cli:import");
        insert(&mut conn, 1).unwrap();
        audit_tracked("cli:import:fixup")
            .run(|| conn.transaction(|conn| insert(conn, 2)))
            .unwrap();
    }
    insert(&mut conn, 3).unwrap();
    assert_eq!(
        contexts(&mut reader),
        [
            Some(json!({"source": "cli:import"})),
            Some(json!({"source": "cli:import:fixup"})),
            None
        ]
    );
}

#[context::with_change_reason("user requested password reset")]
fn reset_password(conn: &mut AuditedConnection, id: i32) -> QueryResult<usize> {
    if id < 0 {
        return Ok(0);
    }
    let n = insert(conn, id)?;
    Ok(n)
}

#[test]
fn the_attribute_form_scopes_a_whole_function() {
    let (_db, mut reader, mut conn) = setup();
    reset_password(&mut conn, 1).unwrap();
    insert(&mut conn, 2).unwrap();
    assert_eq!(
        contexts(&mut reader),
        [
            Some(json!({"change_reason": "user requested password reset"})),
            None
        ]
    );
}

#[test]
fn the_connection_context_lies_beneath_the_scopes() {
    let (_db, mut reader, mut conn) = setup();
    conn.set_connection_context(Some(AuditContext::new().source("billing-service")));
    insert(&mut conn, 1).unwrap();
    with_context(AuditContext::new().user_id(5).source("web"), || {
        insert(&mut conn, 2)
    })
    .unwrap();
    conn.set_connection_context(None);
    insert(&mut conn, 3).unwrap();
    assert_eq!(
        contexts(&mut reader),
        [
            Some(json!({"source": "billing-service"})),
            Some(json!({"source": "web", "user_id": "5"})),
            None
        ]
    );
}

#[test]
fn audited_transaction_works_on_a_plain_pg_connection() {
    let (db, mut reader, _conn) = setup();
    let mut plain = db.connect();
    let ctx = AuditContext::new().user_id(42).change_reason("ticket 7");
    plain
        .audited_transaction(ctx, |conn| {
            diesel::insert_into(notes::table)
                .values(notes::id.eq(1))
                .execute(conn)
        })
        .unwrap();
    // Nested in a plain transaction: its context is for its own writes only.
    plain
        .transaction(|conn| {
            conn.batch_execute(
                r#"SET LOCAL auditrum.context = '{"source": "outer"}'; INSERT INTO notes VALUES (2)"#,
            )?;
            conn.audited_transaction(AuditContext::new().user_id(43), |conn| {
                conn.batch_execute("INSERT INTO notes VALUES (3)")
            })?;
            conn.batch_execute("INSERT INTO notes VALUES (4)")
        })
        .unwrap();
    // Nested and rolled back: nothing of it stays.
    plain
        .transaction(|conn| {
            let _ = conn.audited_transaction(AuditContext::new().user_id(44), |conn| {
                conn.batch_execute("INSERT INTO notes VALUES (5)")?;
                Err::<(), _>(diesel::result::Error::RollbackTransaction)
            });
            conn.batch_execute("INSERT INTO notes VALUES (6)")
        })
        .unwrap();
    assert_eq!(
        contexts(&mut reader),
        [
            Some(json!({"user_id": "42", "change_reason": "ticket 7"})),
            Some(json!({"source": "outer"})),
            Some(json!({"user_id": "43"})),
            Some(json!({"source": "outer"})),
            None,
        ]
    );
}

#[test]
fn a_pool_of_two_serves_a_thousand_requests_without_leaking_context() {
    use diesel::r2d2::{ConnectionManager, Pool};

    let (db, mut reader, _conn) = setup();
    let pool = Pool::builder()
        .max_size(2)
        .build(ConnectionManager::<AuditedConnection>::new(db.url()))
        .unwrap();
    const THREADS: i32 = 4;
    const PER_THREAD: i32 = 250;
    std::thread::scope(|scope| {
        for t in 0..THREADS {
            let pool = &pool;
            scope.spawn(move || {
                for k in 0..PER_THREAD {
                    let id = t * PER_THREAD + k;
                    let request = || -> QueryResult<()> {
                        let mut conn = pool.get().expect("a pooled connection");
                        match id % 4 {
                            0 => conn.transaction(|conn| insert(conn, id)).map(|_| ()),
                            1 => insert(&mut conn, id).map(|_| ()),
                            2 => {
                                conn.batch_execute(&format!("INSERT INTO notes VALUES ({id}, 'b')"))
                            }
                            // A failed request: its write and its context are rolled back.
                            _ => conn.transaction(|conn| {
                                insert(conn, id)?;
                                Err(diesel::result::Error::RollbackTransaction)
                            }),
                        }
                    };
                    let result = if id % 10 == 9 {
                        // Some requests carry no context at all.
                        request()
                    } else {
                        let ctx = AuditContext::new()
                            .request_id(format!("req-{id}"))
                            .user_id(id);
                        with_context(ctx, request)
                    };
                    match (id % 4, result) {
                        (3, Err(diesel::result::Error::RollbackTransaction)) => {}
                        (_, Ok(())) => {}
                        (_, other) => panic!("request {id}: {other:?}"),
                    }
                }
            });
        }
    });
    let events = events_of(&mut reader, "notes");
    let expected_ids: Vec<i32> = (0..THREADS * PER_THREAD).filter(|id| id % 4 != 3).collect();
    assert_eq!(events.len(), expected_ids.len());
    for event in &events {
        let id: i32 = event.record_id.as_deref().unwrap().parse().unwrap();
        let expected = (id % 10 != 9)
            .then(|| json!({"request_id": format!("req-{id}"), "user_id": id.to_string()}));
        assert_eq!(
            context_of(&mut reader, event),
            expected,
            "event of request {id}"
        );
    }
    let with_context_count = expected_ids.iter().filter(|id| *id % 10 != 9).count() as i64;
    assert_eq!(
        count(
            &mut reader,
            "SELECT count(*) FROM auditlog WHERE context IS NOT NULL"
        ),
        with_context_count,
        "one stored context per committed request with a context (on its one-row event), \
         none for the rolled-back ones"
    );
    assert_eq!(context_rows(&mut reader), 0);
}

#[test]
fn migrations_through_the_connection_are_attributed_to_migration() {
    use diesel_migrations::{FileBasedMigrations, MigrationHarness};

    let (_db, mut reader, mut conn) = setup();
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, file: &str, sql: &str| {
        let folder = dir.path().join(name);
        std::fs::create_dir_all(&folder).unwrap();
        std::fs::write(folder.join(file), sql).unwrap();
    };
    write(
        "2024-01-01-000000_seed",
        "up.sql",
        "INSERT INTO notes VALUES (1, 'seeded'); UPDATE notes SET body = 'seeded!' WHERE id = 1;",
    );
    write(
        "2024-01-01-000000_seed",
        "down.sql",
        "DELETE FROM notes WHERE id = 1;",
    );
    // A migration that opts out of the transaction goes through batch_execute on its own.
    write(
        "2024-01-02-000000_backfill",
        "up.sql",
        "INSERT INTO notes VALUES (2, 'backfill');",
    );
    write(
        "2024-01-02-000000_backfill",
        "down.sql",
        "DELETE FROM notes WHERE id = 2;",
    );
    write(
        "2024-01-02-000000_backfill",
        "metadata.toml",
        "run_in_transaction = false\n",
    );
    let migrations = FileBasedMigrations::from_path(dir.path()).unwrap();

    with_context(
        AuditContext::new()
            .user_id("ops@example.com")
            .source("deploy"),
        || conn.run_pending_migrations(migrations.clone()).map(|_| ()),
    )
    .unwrap();
    conn.revert_last_migration(migrations).unwrap();
    // Outside the harness, the connection is back to no context.
    insert(&mut conn, 3).unwrap();

    let migration = |name: &str, direction: &str, user: bool| {
        let mut ctx =
            json!({"source": "migration", "migration": name, "migration_direction": direction});
        if user {
            ctx["user_id"] = json!("ops@example.com");
        }
        Some(ctx)
    };
    assert_eq!(
        contexts(&mut reader),
        [
            migration("2024-01-01-000000_seed", "up", true),
            migration("2024-01-01-000000_seed", "up", true),
            migration("2024-01-02-000000_backfill", "up", true),
            migration("2024-01-02-000000_backfill", "down", false),
            None,
        ]
    );
    assert_eq!(
        count(
            &mut reader,
            "SELECT count(*) FROM __diesel_schema_migrations"
        ),
        1,
        "the harness records versions as Diesel's does"
    );
}

#[test]
fn row_by_row_writes_outside_a_transaction_are_refused_inside_one_they_work() {
    use diesel::pg::PgRowByRowLoadingMode;

    let (_db, mut reader, mut conn) = setup();
    let returning = |id: i32| {
        diesel::insert_into(notes::table)
            .values(notes::id.eq(id))
            .returning(notes::id)
    };
    with_change_reason("streamed", || {
        let error = returning(1)
            .load_iter::<i32, PgRowByRowLoadingMode>(&mut conn)
            .map(|rows| rows.count())
            .expect_err("no transaction can be closed around a streamed write");
        assert_eq!(
            ContextError::from_diesel(&error),
            Some(&ContextError::RowByRowOutsideTransaction)
        );
        conn.transaction(|conn| {
            let ids: Vec<i32> = returning(2)
                .load_iter::<i32, PgRowByRowLoadingMode>(conn)?
                .collect::<QueryResult<_>>()?;
            assert_eq!(ids, [2]);
            QueryResult::Ok(())
        })
        .unwrap();
        // Reads stream as usual.
        let n = notes::table
            .select(notes::id)
            .load_iter::<i32, PgRowByRowLoadingMode>(&mut conn)
            .unwrap()
            .count();
        assert_eq!(n, 1);
    });
    assert_eq!(
        contexts(&mut reader),
        [Some(json!({"change_reason": "streamed"}))]
    );
}

#[test]
fn another_context_setting_is_honoured_end_to_end() {
    use auditrum_diesel::{apply, AuditConfig};

    let db = auditrum_testdb::TestDatabase::new();
    let mut reader = db.connect();
    let config = AuditConfig::default()
        .with_context_setting("myapp.audit_ctx")
        .unwrap();
    apply::install_core_schema(&mut reader, &config).unwrap();
    exec(
        &mut reader,
        "CREATE TABLE notes (id int PRIMARY KEY, body text)",
    );
    apply::install(
        &mut reader,
        &TrackSpec::builder("notes")
            .columns(["id", "body"])
            .build()
            .unwrap(),
        &config,
    )
    .unwrap();
    let mut conn = AuditedConnection::with_config(db.connect(), config);
    let statements = Statements::attach(&mut conn);
    with_change_reason("custom setting", || {
        conn.transaction(|conn| insert(conn, 1))
    })
    .unwrap();
    assert!(statements.take()[0].contains("SET LOCAL myapp.audit_ctx = E'"));
    assert_eq!(
        contexts(&mut reader),
        [Some(json!({"change_reason": "custom setting"}))]
    );
}

#[test]
fn a_pool_customizer_sets_the_connection_context_of_every_connection() {
    use auditrum_diesel::connection::AuditedCustomizer;
    use auditrum_diesel::AuditConfig;
    use diesel::r2d2::{ConnectionManager, Pool};

    let (db, mut reader, _conn) = setup();
    let pool = Pool::builder()
        .max_size(2)
        .connection_customizer(Box::new(
            AuditedCustomizer::new(AuditConfig::default())
                .connection_context(AuditContext::new().insert("service", "billing")),
        ))
        .build(ConnectionManager::<AuditedConnection>::new(db.url()))
        .unwrap();
    insert(&mut pool.get().unwrap(), 1).unwrap();
    with_context(AuditContext::new().request_id("r-2"), || {
        insert(&mut pool.get().unwrap(), 2)
    })
    .unwrap();
    assert_eq!(
        contexts(&mut reader),
        [
            Some(json!({"service": "billing"})),
            Some(json!({"service": "billing", "request_id": "r-2"}))
        ]
    );
}
