-- Reverts 2024-05-01-120002_auditrum_track_users, written by auditrum-diesel `makemigrations`.

-- auditrum: stop capturing public.users
DROP TRIGGER IF EXISTS "auditlog_insert" ON "public"."users";
DROP FUNCTION IF EXISTS "public"."auditlog_users_insert"();
DROP TRIGGER IF EXISTS "auditlog_update" ON "public"."users";
DROP FUNCTION IF EXISTS "public"."auditlog_users_update"();
DROP TRIGGER IF EXISTS "auditlog_delete" ON "public"."users";
DROP FUNCTION IF EXISTS "public"."auditlog_users_delete"();
DROP TRIGGER IF EXISTS "auditlog_truncate" ON "public"."users";
DROP FUNCTION IF EXISTS "public"."auditlog_users_truncate"();
DELETE FROM "public"."auditlog_tracked" WHERE table_schema = 'public' AND table_name = 'users';
