-- auditrum: spec 442353ab116c6732a7db8d0ca94d9c79ec36c1ba51841ce3d03ed0ec03d7b298 {"schema":"app","table":"memberships","key":["group_id","user_id"],"columns":[{"name":"group_id"},{"name":"user_id"},{"name":"role"},{"name":"tenant_id"}],"condition":"NEW.role <> 'guest'","meta":["tenant_id"],"storage":"full"}
-- Written by auditrum-diesel `makemigrations`. The `-- auditrum:` lines above tell
-- it what this migration installs: keep them as they are.

-- auditrum: capture app.memberships (spec 442353ab116c6732a7db8d0ca94d9c79ec36c1ba51841ce3d03ed0ec03d7b298)
CREATE OR REPLACE FUNCTION "app"."auditlog_memberships_insert"() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $auditrum$
#variable_conflict use_column
BEGIN
    INSERT INTO "public"."auditlog" (operation, table_schema, table_name, txid, context_id, record_id, new_data, meta)
    SELECT 'INSERT', 'app', 'memberships', txid_current(), (SELECT "public"."auditlog_context_id"()), jsonb_build_array(new."group_id", new."user_id")::text, jsonb_build_object('group_id', new."group_id", 'user_id', new."user_id", 'role', new."role", 'tenant_id', new."tenant_id"), jsonb_build_object('tenant_id', new."tenant_id")
    FROM new_rows AS new
    WHERE (NEW.role <> 'guest');
    RETURN NULL;
END
$auditrum$;
DROP TRIGGER IF EXISTS "auditlog_insert" ON "app"."memberships";
CREATE TRIGGER "auditlog_insert" AFTER INSERT ON "app"."memberships" REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION "app"."auditlog_memberships_insert"();

CREATE OR REPLACE FUNCTION "app"."auditlog_memberships_update"() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $auditrum$
#variable_conflict use_column
BEGIN
    INSERT INTO "public"."auditlog" (operation, table_schema, table_name, txid, context_id, record_id, old_record_id, diff, old_data, new_data, meta)
    SELECT 'UPDATE', 'app', 'memberships', txid_current(), (SELECT "public"."auditlog_context_id"()), jsonb_build_array(n."group_id", n."user_id")::text, NULLIF(jsonb_build_array(o."group_id", o."user_id")::text, jsonb_build_array(n."group_id", n."user_id")::text), CASE WHEN n."group_id" IS DISTINCT FROM o."group_id" THEN jsonb_build_object('group_id', jsonb_build_object('old', o."group_id", 'new', n."group_id")) ELSE '{}'::jsonb END
        || CASE WHEN n."user_id" IS DISTINCT FROM o."user_id" THEN jsonb_build_object('user_id', jsonb_build_object('old', o."user_id", 'new', n."user_id")) ELSE '{}'::jsonb END
        || CASE WHEN n."role" IS DISTINCT FROM o."role" THEN jsonb_build_object('role', jsonb_build_object('old', o."role", 'new', n."role")) ELSE '{}'::jsonb END
        || CASE WHEN n."tenant_id" IS DISTINCT FROM o."tenant_id" THEN jsonb_build_object('tenant_id', jsonb_build_object('old', o."tenant_id", 'new', n."tenant_id")) ELSE '{}'::jsonb END, jsonb_build_object('group_id', o."group_id", 'user_id', o."user_id", 'role', o."role", 'tenant_id', o."tenant_id"), jsonb_build_object('group_id', n."group_id", 'user_id', n."user_id", 'role', n."role", 'tenant_id', n."tenant_id"), jsonb_build_object('tenant_id', n."tenant_id")
    FROM (SELECT row_number() OVER () AS auditrum_position, (NEW.role <> 'guest') AS auditrum_in_scope, new."group_id", new."user_id", new."role", new."tenant_id" FROM new_rows AS new) AS n
    JOIN (SELECT row_number() OVER () AS auditrum_position, (NEW.role <> 'guest') AS auditrum_in_scope, new."group_id", new."user_id", new."role", new."tenant_id" FROM old_rows AS new) AS o ON o.auditrum_position = n.auditrum_position
    WHERE (n."group_id" IS DISTINCT FROM o."group_id"
        OR n."user_id" IS DISTINCT FROM o."user_id"
        OR n."role" IS DISTINCT FROM o."role"
        OR n."tenant_id" IS DISTINCT FROM o."tenant_id")
      AND (n.auditrum_in_scope OR o.auditrum_in_scope);
    RETURN NULL;
END
$auditrum$;
DROP TRIGGER IF EXISTS "auditlog_update" ON "app"."memberships";
CREATE TRIGGER "auditlog_update" AFTER UPDATE ON "app"."memberships" REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION "app"."auditlog_memberships_update"();

CREATE OR REPLACE FUNCTION "app"."auditlog_memberships_delete"() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $auditrum$
#variable_conflict use_column
BEGIN
    INSERT INTO "public"."auditlog" (operation, table_schema, table_name, txid, context_id, record_id, old_data, meta)
    SELECT 'DELETE', 'app', 'memberships', txid_current(), (SELECT "public"."auditlog_context_id"()), jsonb_build_array(new."group_id", new."user_id")::text, jsonb_build_object('group_id', new."group_id", 'user_id', new."user_id", 'role', new."role", 'tenant_id', new."tenant_id"), jsonb_build_object('tenant_id', new."tenant_id")
    FROM old_rows AS new
    WHERE (NEW.role <> 'guest');
    RETURN NULL;
END
$auditrum$;
DROP TRIGGER IF EXISTS "auditlog_delete" ON "app"."memberships";
CREATE TRIGGER "auditlog_delete" AFTER DELETE ON "app"."memberships" REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION "app"."auditlog_memberships_delete"();

CREATE OR REPLACE FUNCTION "app"."auditlog_memberships_truncate"() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $auditrum$
#variable_conflict use_column
BEGIN
    INSERT INTO "public"."auditlog" (operation, table_schema, table_name, txid, context_id, record_id)
    VALUES ('TRUNCATE', 'app', 'memberships', txid_current(), (SELECT "public"."auditlog_context_id"()), NULL);
    RETURN NULL;
END
$auditrum$;
DROP TRIGGER IF EXISTS "auditlog_truncate" ON "app"."memberships";
CREATE TRIGGER "auditlog_truncate" AFTER TRUNCATE ON "app"."memberships"
    FOR EACH STATEMENT EXECUTE FUNCTION "app"."auditlog_memberships_truncate"();

INSERT INTO "public"."auditlog_tracked" (table_schema, table_name, spec, fingerprint, checksum)
VALUES ('app', 'memberships', '{"schema":"app","table":"memberships","key":["group_id","user_id"],"columns":[{"name":"group_id"},{"name":"user_id"},{"name":"role"},{"name":"tenant_id"}],"condition":"NEW.role <> ''guest''","meta":["tenant_id"],"storage":"full"}'::jsonb, '442353ab116c6732a7db8d0ca94d9c79ec36c1ba51841ce3d03ed0ec03d7b298', 'a14462411cfe9b321197beea4fb662dd6d6f6012d91e45d261dbc83c07ac860f')
ON CONFLICT (table_schema, table_name) DO UPDATE SET spec = EXCLUDED.spec, fingerprint = EXCLUDED.fingerprint, checksum = EXCLUDED.checksum, installed_at = now();
