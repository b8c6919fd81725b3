//! Finding 6: every type family, and an extension type (`hstore`, in `public`), with a
//! change that must be recorded (several are "equal" to `=` but not the same value: a `box`
//! of equal area, `1.0` and `1.00`, `-0` and `0`, `1 day` and `24 hours`) and a write of the
//! same value that must not be.

use diesel::connection::SimpleConnection;

use crate::{count, Scene};

/// (type, first value, changed value). The same value is written again as the non-change.
const MATRIX: &[(&str, &str, &str)] = &[
    ("smallint", "1", "2"),
    ("integer", "1", "2"),
    ("bigint", "1", "2"),
    ("numeric", "1.0", "1.00"),
    ("numeric(10,2)", "1.5", "1.25"),
    ("real", "0", "-0"),
    ("double precision", "0", "-0"),
    ("money", "1.00", "2.00"),
    ("text", "a", "b"),
    ("varchar(10)", "a", "b"),
    ("character(5)", "a", "b"),
    ("bytea", "\\x01", "\\x02"),
    ("boolean", "true", "false"),
    ("date", "2024-01-01", "2024-01-02"),
    ("time", "10:00", "11:00"),
    ("timetz", "10:00+01", "09:00+00"),
    ("timestamp", "2024-01-01 10:00", "2024-01-01 11:00"),
    ("timestamptz", "2024-01-01 10:00+00", "2024-01-01 11:00+00"),
    ("interval", "1 day", "24 hours"),
    (
        "uuid",
        "00000000-0000-0000-0000-000000000001",
        "00000000-0000-0000-0000-000000000002",
    ),
    ("json", "{\"a\":1}", "{\"a\":1.0}"),
    ("jsonb", "{\"a\": 1.0}", "{\"a\": 1}"),
    ("xml", "<a/>", "<b/>"),
    ("inet", "10.0.0.1/8", "10.0.0.1/16"),
    ("cidr", "10.0.0.0/8", "10.0.0.0/16"),
    ("macaddr", "08:00:2b:01:02:03", "08:00:2b:01:02:04"),
    (
        "macaddr8",
        "08:00:2b:01:02:03:04:05",
        "08:00:2b:01:02:03:04:06",
    ),
    ("point", "(1,1)", "(2,2)"),
    ("line", "{1,-1,0}", "{2,-2,0}"),
    ("lseg", "[(0,0),(1,1)]", "[(1,1),(0,0)]"),
    ("box", "(2,2),(0,0)", "(4,1),(0,0)"),
    ("path", "[(0,0),(1,1)]", "((0,0),(1,1))"),
    ("polygon", "((0,0),(1,1),(1,0))", "((0,0),(1,0),(1,1))"),
    ("circle", "<(0,0),1>", "<(5,5),1>"),
    ("bit(4)", "1010", "0101"),
    ("varbit", "1", "10"),
    ("tsvector", "a b", "a c"),
    ("tsquery", "a & b", "a | b"),
    ("int4range", "[1,2)", "[1,3)"),
    (
        "tstzrange",
        "[2024-01-01,2024-02-01)",
        "[2024-01-01,2024-03-01)",
    ),
    ("int4multirange", "{[1,2)}", "{[1,3)}"),
    ("integer[]", "{1,2}", "{2,1}"),
    ("text[]", "{a}", "{a,b}"),
    ("oid", "1", "2"),
    ("pg_lsn", "0/1", "0/2"),
    ("public.mood", "happy", "sad"),
    ("public.pair", "(1,a)", "(1,b)"),
    ("public.positive", "1", "2"),
    ("public.hstore", "a=>1", "a=>2"),
    ("public.citext", "abc", "ABC"),
];

#[test]
fn every_type_family_records_changes_and_only_changes() {
    let mut scene = Scene::new();
    scene
        .operator
        .batch_execute(
            "CREATE EXTENSION hstore SCHEMA public; CREATE EXTENSION citext SCHEMA public;
             CREATE TYPE public.mood AS ENUM ('happy', 'sad');
             CREATE TYPE public.pair AS (n int, t text);
             CREATE DOMAIN public.positive AS int CHECK (VALUE > 0);",
        )
        .unwrap();
    let columns: Vec<String> = MATRIX
        .iter()
        .enumerate()
        .map(|(i, (sql_type, _, _))| format!("c{i} {sql_type}"))
        .collect();
    let values: Vec<String> = MATRIX
        .iter()
        .map(|(sql_type, first, _)| format!("'{first}'::{sql_type}"))
        .collect();
    scene
        .as_app()
        .batch_execute(&format!(
            "CREATE TABLE app.typed (id int PRIMARY KEY, {});
             INSERT INTO app.typed VALUES (1, {});",
            columns.join(", "),
            values.join(", ")
        ))
        .unwrap();
    scene.ok(&["track", "app.typed"]);
    scene.harden();
    let mut as_app = scene.as_app();
    let events = |scene: &mut Scene| {
        count(
            &mut scene.operator,
            "SELECT count(*) FROM auditlog WHERE table_name = 'typed'",
        )
    };
    let mut failures = Vec::new();
    for (i, (sql_type, first, changed)) in MATRIX.iter().enumerate() {
        let before = events(&mut scene);
        let same = format!("UPDATE app.typed SET c{i} = '{first}'::{sql_type}");
        if let Err(e) = as_app.batch_execute(&same) {
            failures.push(format!("{sql_type}: writing the same value failed: {e}"));
            continue;
        }
        if events(&mut scene) != before {
            failures.push(format!(
                "{sql_type}: the same value was recorded as a change"
            ));
        }
        let change = format!("UPDATE app.typed SET c{i} = '{changed}'::{sql_type}");
        if let Err(e) = as_app.batch_execute(&change) {
            failures.push(format!("{sql_type}: the change failed: {e}"));
            continue;
        }
        let recorded = count(
            &mut scene.operator,
            &format!("SELECT count(*) FROM auditlog WHERE table_name = 'typed' AND diff ? 'c{i}'"),
        );
        if events(&mut scene) != before + 1 || recorded != 1 {
            failures.push(format!("{sql_type}: {first} → {changed} was not recorded"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
