//! Which roles, besides the log's owner and superusers, can change the log? Effective
//! privileges (`has_table_privilege`, so grants through group roles and
//! `pg_write_all_data` count), and ownership of the log's schema (its owner can drop the
//! log whatever the grants). The capture role may only `INSERT`.

use diesel::prelude::*;
use diesel::sql_types::Text;

use crate::{AuditConfig, Error};

#[derive(QueryableByName)]
struct Writer {
    #[diesel(sql_type = Text)]
    role: String,
    #[diesel(sql_type = Text)]
    how: String,
}

/// One sentence per role that can modify the log, other than its owner and superusers.
pub(super) fn problems(
    conn: &mut PgConnection,
    config: &AuditConfig,
) -> Result<Vec<String>, Error> {
    let literal = |suffix: &str| config.object(suffix);
    let writers: Vec<Writer> = diesel::sql_query(
        "WITH log(o) AS (
             SELECT x FROM (SELECT to_regclass($1)
                            UNION ALL SELECT inhrelid::regclass FROM pg_inherits WHERE inhparent = to_regclass($1)
                            UNION ALL SELECT to_regclass($2) UNION ALL SELECT to_regclass($3)
                            UNION ALL SELECT to_regclass($4) UNION ALL SELECT to_regclass($5)
                            UNION ALL SELECT to_regclass($7) UNION ALL SELECT to_regclass($8)) t(x)
             WHERE x IS NOT NULL),
         owner AS (SELECT c.relowner AS oid, n.nspowner FROM pg_class c
                   JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = to_regclass($1)),
         candidates AS (SELECT r.oid, r.rolname FROM pg_roles r, owner
                        WHERE NOT r.rolsuper AND r.rolname !~ '^pg_' AND r.oid <> owner.oid)
         SELECT c.rolname::text AS role,
                'can ' || string_agg(DISTINCT p.privilege, ', ') || ' ' ||
                string_agg(DISTINCT l.o::text, ', ') AS how
         FROM candidates c CROSS JOIN log l
         CROSS JOIN unnest(ARRAY['INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'TRIGGER']) p(privilege)
         WHERE has_table_privilege(c.oid, l.o, p.privilege)
           AND NOT (c.rolname = $6 AND p.privilege = 'INSERT')
         GROUP BY c.rolname
         UNION ALL
         SELECT c.rolname::text, 'owns the log''s schema (directly, through a role, or by owning the database): it can drop the log'
         FROM candidates c, owner
         WHERE owner.nspowner <> owner.oid AND pg_has_role(c.oid, owner.nspowner, 'USAGE')
         ORDER BY 1",
    )
    .bind::<Text, _>(literal(""))
    .bind::<Text, _>(literal("_context"))
    .bind::<Text, _>(literal("_tracked"))
    .bind::<Text, _>(literal("_chain"))
    .bind::<Text, _>(literal("_chain_state"))
    .bind::<Text, _>(config.capture_role())
    .bind::<Text, _>(literal("_chain_seed"))
    .bind::<Text, _>(literal("_chain_redaction"))
    .load(conn)?;
    Ok(writers
        .into_iter()
        .map(|w| {
            format!(
                "role {} {}: only the log's owner may change it; run `harden` (it revokes grants and refuses what it cannot fix)",
                w.role, w.how
            )
        })
        .collect())
}
