//! The chain's payload version 2: an event hashed as salted per-value digests, so that a
//! value can be erased later (`redact`) while the chain still verifies.
//!
//! - **leaves** of an event: `["record_id"]` and `["old_record_id"]` (their JSON), and for
//!   each of `diff`, `old_data`, `new_data`, `meta` and `context` (the event's context
//!   object): one leaf per top-level key, path `["new_data", "email"]`, value the key's JSON
//!   (a `diff` entry is one leaf: `{"new": …, "old": …}`); a column that is not an object
//!   (`null`, an array) is one leaf, path `["new_data"]`. A path is the text PostgreSQL prints
//!   for `jsonb_build_array(column, key)`, a value the text it prints for the `jsonb`.
//! - **salts**: each link (transaction) gets a random seed when sealed (`gen_random_uuid()`,
//!   kept in the link's `seed`); an event's seed is `hex(sha256(link seed || '|' || event
//!   id))`, a leaf's salt `hex(sha256(event seed || '|' || path))`.
//! - **leaf digest**: `hex(sha256(salt || '|' || path || '|' || value))`.
//! - **event payload**: the text of `jsonb_build_array(id, changed_at in microseconds,
//!   operation, table_schema, table_name, txid)`, then for each leaf in path order (bytes)
//!   a line `\n<path>=<digest>`. The events hash and the link hash are as in version 1.
//!
//! A redaction deletes the link's seed, keeps each other event's seed (table
//! `<log>_chain_seed`) and, for each event it touches, every other leaf's salt and the
//! erased leaves' digests (table `<log>_chain_redaction`, each digest naming the `REDACT`
//! event that erased it). The erased value's salt is then nowhere: its digest cannot be
//! brute-forced, and the rest still verifies.

use super::canonical::sha256_hex;

/// The object that stands where `redact` erased a value (see `read::protected`).
pub const REDACTED_JSON: &str = r#"{"$auditrum": "redacted"}"#;

/// The texts an erased leaf's value may have, as PostgreSQL prints them: the marker, a
/// `diff` entry with both sides erased, and a key column (text) holding the marker.
pub(crate) const REDACTED_VALUE_TEXTS: [&str; 3] = [
    r#"{"$auditrum": "redacted"}"#,
    r#"{"new": {"$auditrum": "redacted"}, "old": {"$auditrum": "redacted"}}"#,
    r#""{\"$auditrum\": \"redacted\"}""#,
];

/// The JSON columns whose top-level keys are leaves, as named in paths.
pub(crate) const JSON_COLUMNS: [&str; 5] = ["diff", "old_data", "new_data", "meta", "context"];

/// SQL: the event's header, the fixed (never erased) fields of event `e`.
pub(crate) const HEADER_SQL: &str = "jsonb_build_array(e.id, \
     (extract(epoch FROM e.changed_at) * 1000000)::bigint, e.operation::text, e.table_schema, \
     e.table_name, e.txid)::text";

/// SQL: the leaves `(path, value)` of event `e` with context row `c` (a subquery).
pub(crate) fn leaves_sql() -> String {
    let mut parts = vec![
        "SELECT '[\"record_id\"]'::text AS path, COALESCE(to_jsonb(e.record_id)::text, 'null') AS value".to_owned(),
        "SELECT '[\"old_record_id\"]'::text, COALESCE(to_jsonb(e.old_record_id)::text, 'null')".to_owned(),
    ];
    for column in JSON_COLUMNS {
        let expr = column_expr(column);
        parts.push(format!(
            "SELECT jsonb_build_array('{column}', k.key)::text, k.value::text \
             FROM jsonb_each(CASE WHEN jsonb_typeof({expr}) = 'object' THEN {expr} END) k"
        ));
        parts.push(format!(
            "SELECT '[\"{column}\"]'::text, COALESCE(({expr})::text, 'null') \
             WHERE jsonb_typeof({expr}) IS DISTINCT FROM 'object'"
        ));
    }
    format!("({})", parts.join(" UNION ALL "))
}

/// The SQL expression of a JSON column of event `e` / context row `c`.
pub(crate) fn column_expr(column: &str) -> &'static str {
    match column {
        "diff" => "e.diff",
        "old_data" => "e.old_data",
        "new_data" => "e.new_data",
        "meta" => "e.meta",
        // The event's own context (one-row statements, core schema 3), else its row's.
        "context" => crate::read::EVENT_CONTEXT,
        _ => unreachable!("not a JSON column of the log: {column}"),
    }
}

fn sha_sql(text: &str) -> String {
    format!("encode(sha256(convert_to({text}, 'UTF8')), 'hex')")
}

/// SQL: the payload of event `e` (context `c`), with `link_seed` the SQL of its link's
/// seed (a uuid). With `stored` (verification, redaction), erased digests and kept salts
/// come from the redaction table aliased `r` and event seeds from the seed table aliased
/// `es` (`tables` = (redaction table, seed table)); the seal has none yet.
pub(crate) fn event_payload_sql(link_seed: &str, tables: Option<(&str, &str)>) -> String {
    let event_seed_of_link = sha_sql(&format!("{link_seed}::text || '|' || e.id::text"));
    let (event_seed, salt, digest_join) = match tables {
        Some((redaction, seeds)) => (
            format!("COALESCE((SELECT es.seed FROM {seeds} es WHERE es.event_id = e.id), {event_seed_of_link})"),
            "COALESCE(r.salt, {derived})",
            format!(" LEFT JOIN {redaction} r ON r.event_id = e.id AND r.path = p.path"),
        ),
        None => (event_seed_of_link, "{derived}", String::new()),
    };
    // The event's seed once per event (a one-row subquery), not once per value.
    let derived = sha_sql("ev.seed || '|' || p.path");
    let salt = salt.replace("{derived}", &derived);
    let computed = sha_sql(&format!("{salt} || '|' || p.path || '|' || p.value"));
    let digest = if tables.is_some() {
        format!("COALESCE(r.digest, {computed})")
    } else {
        computed
    };
    format!(
        "({HEADER_SQL} || COALESCE((SELECT string_agg(E'\\n' || p.path || '=' || {digest}, '' ORDER BY p.path COLLATE \"C\") \
         FROM (SELECT {event_seed} AS seed) ev CROSS JOIN {leaves} p{digest_join}), ''))",
        leaves = leaves_sql()
    )
}

/// One leaf as the client-side check reads it.
#[derive(Debug, Clone, serde::Deserialize)]
pub(crate) struct Leaf {
    pub path: String,
    pub value: String,
    /// Its explicit salt, once a redaction touched its event.
    pub salt: Option<String>,
    /// Its digest, when its value was erased.
    pub digest: Option<String>,
}

/// An event's seed from its link's seed.
pub(crate) fn event_seed(link_seed: &str, event_id: i64) -> String {
    sha256_hex(format!("{link_seed}|{event_id}").as_bytes())
}

/// A leaf's salt from its event's seed.
pub(crate) fn leaf_salt(event_seed: &str, path: &str) -> String {
    sha256_hex(format!("{event_seed}|{path}").as_bytes())
}

/// A leaf's digest.
pub(crate) fn leaf_digest(salt: &str, path: &str, value: &str) -> String {
    sha256_hex(format!("{salt}|{path}|{value}").as_bytes())
}

/// The version 2 payload of an event, in Rust: `header` as PostgreSQL prints it, the
/// leaves, and the event's seed when known (from the link's seed or the seed table).
/// `None` when a leaf has neither a digest, a salt nor a seed to derive one from.
pub(crate) fn event_payload(
    header: &str,
    leaves: &mut [Leaf],
    seed: Option<&str>,
) -> Option<String> {
    leaves.sort_by(|a, b| a.path.as_bytes().cmp(b.path.as_bytes()));
    let mut out = header.to_owned();
    for leaf in leaves.iter() {
        let digest = match (&leaf.digest, &leaf.salt, seed) {
            (Some(digest), _, _) => digest.clone(),
            (None, Some(salt), _) => leaf_digest(salt, &leaf.path, &leaf.value),
            (None, None, Some(seed)) => {
                leaf_digest(&leaf_salt(seed, &leaf.path), &leaf.path, &leaf.value)
            }
            (None, None, None) => return None,
        };
        out.push('\n');
        out.push_str(&leaf.path);
        out.push('=');
        out.push_str(&digest);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_digest_stands_in_for_its_value() {
        let seed = event_seed("00000000-0000-4000-8000-000000000000", 7);
        let path = r#"["new_data", "email"]"#;
        let mut with_value = vec![Leaf {
            path: path.into(),
            value: r#""a@b.c""#.into(),
            salt: None,
            digest: None,
        }];
        let plain = event_payload("[7]", &mut with_value, Some(&seed)).unwrap();
        let digest = leaf_digest(&leaf_salt(&seed, path), path, r#""a@b.c""#);
        let mut erased = vec![Leaf {
            path: path.into(),
            value: REDACTED_JSON.into(),
            salt: None,
            digest: Some(digest),
        }];
        assert_eq!(event_payload("[7]", &mut erased, None).unwrap(), plain);
    }

    #[test]
    fn leaves_are_ordered_by_bytes() {
        let mut leaves: Vec<Leaf> = ["[\"b\"]", "[\"a\", \"z\"]", "[\"a\"]"]
            .iter()
            .map(|p| Leaf {
                path: (*p).into(),
                value: "1".into(),
                salt: Some("s".into()),
                digest: None,
            })
            .collect();
        let payload = event_payload("h", &mut leaves, None).unwrap();
        let paths: Vec<_> = payload
            .lines()
            .skip(1)
            .map(|l| l.split('=').next().unwrap())
            .collect();
        // `,` sorts before `]`: PostgreSQL's "C" collation compares bytes the same way.
        assert_eq!(paths, ["[\"a\", \"z\"]", "[\"a\"]", "[\"b\"]"]);
    }
}
