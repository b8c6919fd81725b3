-- Reverts 2024-05-01-120001_auditrum_track_app_memberships, written by auditrum-diesel `makemigrations`.

-- auditrum: stop capturing app.memberships
DROP TRIGGER IF EXISTS "auditlog_insert" ON "app"."memberships";
DROP FUNCTION IF EXISTS "app"."auditlog_memberships_insert"();
DROP TRIGGER IF EXISTS "auditlog_update" ON "app"."memberships";
DROP FUNCTION IF EXISTS "app"."auditlog_memberships_update"();
DROP TRIGGER IF EXISTS "auditlog_delete" ON "app"."memberships";
DROP FUNCTION IF EXISTS "app"."auditlog_memberships_delete"();
DROP TRIGGER IF EXISTS "auditlog_truncate" ON "app"."memberships";
DROP FUNCTION IF EXISTS "app"."auditlog_memberships_truncate"();
DELETE FROM "public"."auditlog_tracked" WHERE table_schema = 'app' AND table_name = 'memberships';
