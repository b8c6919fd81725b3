-- auditrum: spec f187c1a0d035e051888910b4feb7f7b2118135847c7d99323af5cbf6b77b0656 {"schema":"public","table":"users","key":["id"],"columns":[{"name":"id"},{"name":"email"},{"name":"name"},{"name":"password_hash"}],"exclude":["password_hash"],"storage":"diff"}
-- Written by auditrum-diesel `makemigrations`. The `-- auditrum:` lines above tell
-- it what this migration installs: keep them as they are.

-- auditrum: capture public.users (spec f187c1a0d035e051888910b4feb7f7b2118135847c7d99323af5cbf6b77b0656)
CREATE OR REPLACE FUNCTION "public"."auditlog_users_insert"() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $auditrum$
#variable_conflict use_column
BEGIN
    INSERT INTO "public"."auditlog" (operation, table_schema, table_name, txid, context_id, record_id, new_data, meta)
    SELECT 'INSERT', 'public', 'users', txid_current(), (SELECT "public"."auditlog_context_id"()), new."id"::text, jsonb_build_object('id', new."id", 'email', new."email", 'name', new."name"), NULL
    FROM new_rows AS new
    WHERE TRUE;
    RETURN NULL;
END
$auditrum$;
DROP TRIGGER IF EXISTS "auditlog_insert" ON "public"."users";
CREATE TRIGGER "auditlog_insert" AFTER INSERT ON "public"."users" REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION "public"."auditlog_users_insert"();

CREATE OR REPLACE FUNCTION "public"."auditlog_users_update"() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $auditrum$
#variable_conflict use_column
BEGIN
    INSERT INTO "public"."auditlog" (operation, table_schema, table_name, txid, context_id, record_id, old_record_id, diff, meta)
    SELECT 'UPDATE', 'public', 'users', txid_current(), (SELECT "public"."auditlog_context_id"()), n."id"::text, NULLIF(o."id"::text, n."id"::text), CASE WHEN n."id" IS DISTINCT FROM o."id" THEN jsonb_build_object('id', jsonb_build_object('old', o."id", 'new', n."id")) ELSE '{}'::jsonb END
        || CASE WHEN n."email" IS DISTINCT FROM o."email" THEN jsonb_build_object('email', jsonb_build_object('old', o."email", 'new', n."email")) ELSE '{}'::jsonb END
        || CASE WHEN n."name" IS DISTINCT FROM o."name" THEN jsonb_build_object('name', jsonb_build_object('old', o."name", 'new', n."name")) ELSE '{}'::jsonb END, NULL
    FROM (SELECT row_number() OVER () AS auditrum_position, new."id", new."email", new."name" FROM new_rows AS new) AS n
    JOIN (SELECT row_number() OVER () AS auditrum_position, new."id", new."email", new."name" FROM old_rows AS new) AS o ON o.auditrum_position = n.auditrum_position
    WHERE (n."id" IS DISTINCT FROM o."id"
        OR n."email" IS DISTINCT FROM o."email"
        OR n."name" IS DISTINCT FROM o."name");
    RETURN NULL;
END
$auditrum$;
DROP TRIGGER IF EXISTS "auditlog_update" ON "public"."users";
CREATE TRIGGER "auditlog_update" AFTER UPDATE ON "public"."users" REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION "public"."auditlog_users_update"();

CREATE OR REPLACE FUNCTION "public"."auditlog_users_delete"() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $auditrum$
#variable_conflict use_column
BEGIN
    INSERT INTO "public"."auditlog" (operation, table_schema, table_name, txid, context_id, record_id, old_data, meta)
    SELECT 'DELETE', 'public', 'users', txid_current(), (SELECT "public"."auditlog_context_id"()), new."id"::text, jsonb_build_object('id', new."id", 'email', new."email", 'name', new."name"), NULL
    FROM old_rows AS new
    WHERE TRUE;
    RETURN NULL;
END
$auditrum$;
DROP TRIGGER IF EXISTS "auditlog_delete" ON "public"."users";
CREATE TRIGGER "auditlog_delete" AFTER DELETE ON "public"."users" REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION "public"."auditlog_users_delete"();

CREATE OR REPLACE FUNCTION "public"."auditlog_users_truncate"() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $auditrum$
#variable_conflict use_column
BEGIN
    INSERT INTO "public"."auditlog" (operation, table_schema, table_name, txid, context_id, record_id)
    VALUES ('TRUNCATE', 'public', 'users', txid_current(), (SELECT "public"."auditlog_context_id"()), NULL);
    RETURN NULL;
END
$auditrum$;
DROP TRIGGER IF EXISTS "auditlog_truncate" ON "public"."users";
CREATE TRIGGER "auditlog_truncate" AFTER TRUNCATE ON "public"."users"
    FOR EACH STATEMENT EXECUTE FUNCTION "public"."auditlog_users_truncate"();

INSERT INTO "public"."auditlog_tracked" (table_schema, table_name, spec, fingerprint, checksum)
VALUES ('public', 'users', '{"schema":"public","table":"users","key":["id"],"columns":[{"name":"id"},{"name":"email"},{"name":"name"},{"name":"password_hash"}],"exclude":["password_hash"],"storage":"diff"}'::jsonb, 'f187c1a0d035e051888910b4feb7f7b2118135847c7d99323af5cbf6b77b0656', '8e45152f2334f28e3cce411b53e864e8a6ecedc016e683c53f12b4aee301479e')
ON CONFLICT (table_schema, table_name) DO UPDATE SET spec = EXCLUDED.spec, fingerprint = EXCLUDED.fingerprint, checksum = EXCLUDED.checksum, installed_at = now();
