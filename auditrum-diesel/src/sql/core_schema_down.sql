-- Removes the auditrum core schema: the audit log and everything it recorded.
DROP FUNCTION IF EXISTS {{partitions_function}}(integer);
DROP FUNCTION IF EXISTS {{context_function}}();
DROP FUNCTION IF EXISTS {{context_overlong_function}}(jsonb);
DROP TABLE IF EXISTS {{registry_table}};
DROP TABLE IF EXISTS {{audit_table}};
DROP TABLE IF EXISTS {{context_table}};
-- The operation type is shared by the audit tables of the schema: keep it while one uses it.
DO $auditrum$
BEGIN
    DROP TYPE IF EXISTS {{schema}}.auditrum_operation;
EXCEPTION WHEN dependent_objects_still_exist THEN NULL;
END
$auditrum$;
