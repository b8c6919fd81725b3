-- Reverts 2024-01-01-000000_auditrum_core, written by auditrum-diesel `makemigrations`.

-- Removes the auditrum core schema: the audit log and everything it recorded.
DROP FUNCTION IF EXISTS "public"."auditlog_add_partitions"(integer);
DROP FUNCTION IF EXISTS "public"."auditlog_context_id"();
DROP FUNCTION IF EXISTS "public"."auditlog_context_overlong"(jsonb);
DROP TABLE IF EXISTS "public"."auditlog_tracked";
DROP TABLE IF EXISTS "public"."auditlog";
DROP TABLE IF EXISTS "public"."auditlog_context";
-- The operation type is shared by the audit tables of the schema: keep it while one uses it.
DO $auditrum$
BEGIN
    DROP TYPE IF EXISTS "public".auditrum_operation;
EXCEPTION WHEN dependent_objects_still_exist THEN NULL;
END
$auditrum$;
