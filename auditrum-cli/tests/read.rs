//! The read commands as processes: `as-of` and `blame` (and `revert`, `verify-history`)
//! against a real PostgreSQL.

mod common;

use auditrum_testdb::TestDatabase;
use common::{cli, stderr, stdout};
use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sql_types::Text;
use serde_json::{json, Value};

/// A database with the log, a table `accounts` tracked without its `secret`.
fn database() -> (TestDatabase, PgConnection) {
    let db = TestDatabase::new();
    let mut conn = db.connect();
    let init = cli(&["init-schema"], Some(db.url()));
    assert!(init.status.success(), "{}", stderr(&init));
    conn.batch_execute(
        "CREATE TABLE accounts (id int PRIMARY KEY, email text NOT NULL, karma int NOT NULL,
            secret text NOT NULL DEFAULT 's')",
    )
    .unwrap();
    let track = cli(
        &["track", "accounts", "--exclude", "secret"],
        Some(db.url()),
    );
    assert!(track.status.success(), "{}", stderr(&track));
    (db, conn)
}

/// Runs `sql` in one transaction with the context `ctx`.
fn write(conn: &mut PgConnection, ctx: Value, sql: &str) {
    let ctx = ctx.to_string().replace('\'', "''");
    conn.batch_execute(&format!(
        "BEGIN; SET LOCAL auditrum.context = '{ctx}'; {sql}; COMMIT;"
    ))
    .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// The server's clock, as text.
fn instant(conn: &mut PgConnection) -> String {
    #[derive(QueryableByName)]
    struct Now {
        #[diesel(sql_type = Text)]
        now: String,
    }
    diesel::sql_query("SELECT clock_timestamp()::text AS now")
        .get_result::<Now>(conn)
        .unwrap()
        .now
}

fn run(args: &[&str], db: &TestDatabase) -> std::process::Output {
    let output = cli(args, Some(db.url()));
    assert!(output.status.success(), "{args:?}: {}", stderr(&output));
    output
}

fn json_out(args: &[&str], db: &TestDatabase) -> Value {
    serde_json::from_str(&stdout(&run(args, db))).expect("JSON on stdout")
}

#[test]
fn as_of_prints_rows_and_tables_as_they_were() {
    let (db, mut conn) = database();
    write(
        &mut conn,
        json!({"user_id": "alice"}),
        "INSERT INTO accounts VALUES (1, 'a@x', 1, 's1'), (2, 'b@x', 2, 's2')",
    );
    let t1 = instant(&mut conn);
    write(&mut conn, json!({"user_id": "bob"}), "UPDATE accounts SET email = 'a@y', secret = 's1b' WHERE id = 1; DELETE FROM accounts WHERE id = 2");
    let t2 = instant(&mut conn);

    let one = json_out(&["as-of", "accounts", &t1, "--key", "1"], &db);
    assert_eq!(
        one,
        json!({"id": 1, "email": "a@x", "karma": 1, "secret": "s1b"}),
        "secret: untracked, from the live row"
    );
    let two = json_out(&["as-of", "accounts", &t1, "--key", "2"], &db);
    assert_eq!(
        two,
        json!({"id": 2, "email": "b@x", "karma": 2}),
        "deleted since: no secret to give"
    );
    assert_eq!(
        json_out(&["as-of", "public.accounts", &t2, "--key", "2"], &db),
        Value::Null
    );

    let mut table = json_out(&["as-of", "accounts", &t1], &db);
    let rows = table.as_array_mut().unwrap();
    rows.sort_by_key(|r| r["id"].as_i64());
    assert_eq!(rows, &[one.clone(), two]);
    let lines = stdout(&run(&["as-of", "accounts", &t2, "--format", "jsonl"], &db));
    let rows: Vec<Value> = lines
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        rows,
        [json!({"id": 1, "email": "a@y", "karma": 1, "secret": "s1b"})]
    );
    let before = json_out(&["as-of", "accounts", "2000-01-01T00:00:00Z"], &db);
    assert_eq!(before, json!([]));

    let bad = cli(&["as-of", "accounts", "not a time"], Some(db.url()));
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        stderr(&bad).contains("invalid instant \"not a time\""),
        "{}",
        stderr(&bad)
    );
}

#[test]
fn blame_prints_aligned_text_and_complete_json() {
    let (db, mut conn) = database();
    let long = "x".repeat(200);
    write(
        &mut conn,
        json!({"user_id": "alice", "change_reason": "signup", "request_id": "r-1"}),
        "INSERT INTO accounts VALUES (1, 'a@x', 1)",
    );
    write(
        &mut conn,
        json!({"user_id": "bob", "change_reason": "ticket 7: typo in the email address, reported by phone", "request_id": "r-2"}),
        &format!("UPDATE accounts SET email = '{long}' WHERE id = 1"),
    );
    write(
        &mut conn,
        json!({"source": "cron:nightly"}),
        "UPDATE accounts SET karma = 2",
    );

    let text = stdout(&run(&["blame", "accounts", "1"], &db));
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 4, "{text}");
    assert!(lines[0].starts_with("EVENT  WHEN (UTC)"), "{text}");
    assert!(lines[1].contains("alice") && lines[1].contains("signup") && lines[1].contains("r-1"));
    assert!(
        lines[2].contains("ticket 7: typo in the email…"),
        "long reasons are cut: {text}"
    );
    assert!(lines[2].contains("email: \"a@x\" → \"xxxxxxxx"), "{text}");
    assert!(!lines[2].contains(&long), "long values are cut: {text}");
    assert!(
        lines[3].contains("cron:nightly"),
        "no user: the source is who: {text}"
    );
    // Aligned: every column starts where its header does.
    let starts: Vec<usize> = ["WHEN", "OP", "WHO", "REASON", "REQUEST", "CHANGES"]
        .iter()
        .map(|h| lines[0].find(h).unwrap())
        .collect();
    for line in &lines[1..] {
        let chars: Vec<char> = line.chars().collect();
        for &start in &starts {
            assert!(
                chars[start - 1] == ' ' && chars[start] != ' ',
                "not aligned at {start}:\n{text}"
            );
        }
    }

    let json = json_out(&["blame", "accounts", "1", "--format", "json"], &db);
    let events = json.as_array().unwrap();
    assert_eq!(events.len(), 3);
    assert_eq!(
        events[1]["changes"]["email"]["new"],
        Value::from(long.clone()),
        "complete in JSON"
    );
    assert_eq!(
        events[1]["context"]["change_reason"],
        "ticket 7: typo in the email address, reported by phone"
    );
    assert_eq!(events[0]["changes"]["email"], json!({"new": "a@x"}));

    let field = stdout(&run(&["blame", "accounts", "1", "karma"], &db));
    let field: Vec<&str> = field.lines().collect();
    assert_eq!(field.len(), 3, "header, insert, update: {field:?}");
    assert!(field[0].ends_with("KARMA"));
    assert!(field[2].ends_with("1 → 2"), "{field:?}");
    let last = json_out(
        &[
            "blame", "accounts", "1", "karma", "--format", "json", "-n", "1",
        ],
        &db,
    );
    assert_eq!(last.as_array().unwrap().len(), 1);
    assert_eq!(last[0]["old"], 1);
    assert_eq!(last[0]["new"], 2);
    assert_eq!(last[0]["context"]["source"], "cron:nightly");

    let none = stdout(&run(&["blame", "accounts", "99"], &db));
    assert_eq!(none.trim(), "no events for accounts 99");
}

/// The id of the newest event.
fn last_event(conn: &mut PgConnection) -> i64 {
    common::count(conn, "SELECT max(id) FROM auditlog")
}

fn accounts(conn: &mut PgConnection) -> Vec<(i32, String, i32)> {
    #[derive(QueryableByName)]
    struct Row {
        #[diesel(sql_type = diesel::sql_types::Integer)]
        id: i32,
        #[diesel(sql_type = Text)]
        email: String,
        #[diesel(sql_type = diesel::sql_types::Integer)]
        karma: i32,
    }
    diesel::sql_query("SELECT id, email, karma FROM accounts ORDER BY id")
        .load::<Row>(conn)
        .unwrap()
        .into_iter()
        .map(|r| (r.id, r.email, r.karma))
        .collect()
}

#[test]
fn revert_refuses_conflicts_dry_runs_and_writes_through_the_log() {
    let (db, mut conn) = database();
    write(
        &mut conn,
        json!({"user_id": "alice", "request_id": "r-1"}),
        "INSERT INTO accounts VALUES (1, 'a@x', 1), (2, 'b@x', 2)",
    );
    write(
        &mut conn,
        json!({"user_id": "bob", "request_id": "r-2"}),
        "UPDATE accounts SET email = 'bad@x' WHERE id = 1",
    );
    let bad = last_event(&mut conn);
    write(
        &mut conn,
        json!({"user_id": "carol", "request_id": "r-3"}),
        "UPDATE accounts SET email = 'c@x' WHERE id = 1",
    );
    let events = common::count(&mut conn, "SELECT count(*) FROM auditlog");

    let refused = cli(&["revert", "--event", &bad.to_string()], Some(db.url()));
    assert_eq!(refused.status.code(), Some(1), "{}", stderr(&refused));
    let out = stdout(&refused);
    assert!(out.contains("refused: 1 conflict(s)"), "{out}");
    assert!(
        out.contains(&format!(
            "public.accounts 1: #{} changed email after #{bad}",
            bad + 1
        )),
        "{out}"
    );
    let dry = cli(
        &["revert", "--event", &bad.to_string(), "--dry-run"],
        Some(db.url()),
    );
    assert_eq!(
        dry.status.code(),
        Some(1),
        "a dry run with conflicts is a problem found"
    );
    assert!(
        stdout(&dry).contains("would write 1 row(s)"),
        "{}",
        stdout(&dry)
    );
    assert!(
        stdout(&dry).contains(r#"UPDATE public.accounts 1 SET email = "a@x""#),
        "{}",
        stdout(&dry)
    );
    assert_eq!(
        common::count(&mut conn, "SELECT count(*) FROM auditlog"),
        events,
        "nothing written"
    );
    assert_eq!(accounts(&mut conn)[0].1, "c@x");

    // The request of carol reverts cleanly, as the admin, with a reason.
    let done = run(
        &[
            "revert",
            "--request-id",
            "r-3",
            "--user-id",
            "admin",
            "--reason",
            "ticket 5",
        ],
        &db,
    );
    assert!(
        stdout(&done).contains("wrote 1 row(s)"),
        "{}",
        stdout(&done)
    );
    assert_eq!(accounts(&mut conn)[0].1, "bad@x");
    let context: Value = {
        #[derive(QueryableByName)]
        struct Ctx {
            #[diesel(sql_type = diesel::sql_types::Jsonb)]
            context: Value,
        }
        diesel::sql_query("SELECT COALESCE(e.context, c.context) AS context FROM auditlog e LEFT JOIN auditlog_context c ON c.id = e.context_id ORDER BY e.id DESC LIMIT 1")
            .get_result::<Ctx>(&mut conn)
            .unwrap()
            .context
    };
    assert_eq!(
        context,
        json!({"user_id": "admin", "source": "revert", "change_reason": "ticket 5; revert of request r-3",
        "change_reasons": ["ticket 5", "revert of request r-3"], "reverts": {"request_id": "r-3"}})
    );

    // Now bob's event has no conflict left... except the revert itself changed email: forced.
    let forced = cli(
        &[
            "revert",
            "--event",
            &bad.to_string(),
            "--force",
            "--format",
            "json",
        ],
        Some(db.url()),
    );
    assert!(forced.status.success(), "{}", stderr(&forced));
    let report: Value = serde_json::from_str(&stdout(&forced)).unwrap();
    assert_eq!(report["steps"][0]["applied"], true);
    assert_eq!(report["conflicts"].as_array().unwrap().len(), 2);
    assert_eq!(
        accounts(&mut conn),
        [(1, "a@x".into(), 1), (2, "b@x".into(), 2)]
    );

    let missing = cli(&["revert", "--event", "99999"], Some(db.url()));
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        stderr(&missing).contains("no event #99999"),
        "{}",
        stderr(&missing)
    );
    let no_target = cli(&["revert"], Some(db.url()));
    assert_eq!(no_target.status.code(), Some(2));
}

#[test]
fn verify_history_exits_1_on_an_update_made_with_the_triggers_off() {
    let (db, mut conn) = database();
    write(
        &mut conn,
        json!({"user_id": "alice"}),
        "INSERT INTO accounts VALUES (1, 'a@x', 1), (2, 'b@x', 2)",
    );
    write(
        &mut conn,
        json!({"user_id": "bob"}),
        "UPDATE accounts SET karma = 5 WHERE id = 2",
    );
    let clean = run(&["verify-history"], &db);
    assert_eq!(
        stdout(&clean).trim(),
        "public.accounts: 2 record(s), 3 event(s) checked"
    );

    conn.batch_execute(
        "ALTER TABLE accounts DISABLE TRIGGER USER;
         UPDATE accounts SET email = 'bypass@x' WHERE id = 1;
         ALTER TABLE accounts ENABLE TRIGGER USER;",
    )
    .unwrap();
    let found = cli(&["verify-history", "--table", "accounts"], Some(db.url()));
    assert_eq!(found.status.code(), Some(1), "{}", stderr(&found));
    assert!(
        stdout(&found).contains(r#"public.accounts 1: the live row differs from the log: changed with the triggers off: email expected "a@x" found "bypass@x""#),
        "{}",
        stdout(&found)
    );
    assert!(stderr(&found).contains("1 sign(s) of writes the triggers did not see"));
    let json = cli(&["verify-history", "--format", "json"], Some(db.url()));
    assert_eq!(json.status.code(), Some(1));
    let report: Value = serde_json::from_str(&stdout(&json)).unwrap();
    assert_eq!(report["findings"][0]["column"], "email");
    assert_eq!(report["findings"][0]["found"], "bypass@x");
}

/// Runs `auditrum-diesel ARGS` with stdout to a file, sampling the process's peak resident
/// memory (`VmHWM`, a high-water mark) until it exits; returns it in kB and stdout's lines.
fn peak_memory_kb(args: &[&str], db: &TestDatabase) -> (u64, usize) {
    let out = tempfile_path();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_auditrum-diesel"))
        .args(args)
        .env("DATABASE_URL", db.url())
        .stdout(std::fs::File::create(&out).unwrap())
        .spawn()
        .unwrap();
    let status = format!("/proc/{}/status", child.id());
    let mut peak = 0;
    loop {
        if let Ok(text) = std::fs::read_to_string(&status) {
            if let Some(kb) = text
                .lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            {
                peak = peak.max(kb);
            }
        }
        if let Some(exit) = child.try_wait().unwrap() {
            assert!(exit.success());
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    let lines = std::fs::read_to_string(&out).unwrap().lines().count();
    std::fs::remove_file(&out).unwrap();
    (peak, lines)
}

fn tempfile_path() -> std::path::PathBuf {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    std::env::temp_dir().join(format!("auditrum-as-of-{}-{n}.jsonl", std::process::id()))
}

/// `as-of` of a whole table streams: ten times the rows, about the same peak memory.
#[test]
fn as_of_a_whole_table_keeps_memory_flat() {
    let (db, mut conn) = database();
    conn.batch_execute(
        "INSERT INTO accounts SELECT g, 'user' || g || '@example.com', g FROM generate_series(1, 20000) g;
         UPDATE accounts SET karma = karma + 1 WHERE id % 2 = 0;",
    )
    .unwrap();
    let now = instant(&mut conn);
    let (small, rows) = peak_memory_kb(&["as-of", "accounts", &now, "--format", "jsonl"], &db);
    assert_eq!(rows, 20_000);
    conn.batch_execute(
        "INSERT INTO accounts SELECT g, 'user' || g || '@example.com', g FROM generate_series(20001, 200000) g;
         UPDATE accounts SET karma = karma + 1 WHERE id % 2 = 0 AND id > 20000;",
    )
    .unwrap();
    let now = instant(&mut conn);
    let (large, rows) = peak_memory_kb(&["as-of", "accounts", &now, "--format", "jsonl"], &db);
    assert_eq!(rows, 200_000);
    eprintln!("peak memory: {small} kB for 20,000 rows, {large} kB for 200,000 rows");
    assert!(
        large < small + 4_096,
        "memory grew with the table: {small} kB for 20,000 rows, {large} kB for 200,000"
    );
}
