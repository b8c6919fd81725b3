-- auditrum DDL guard, installed by `harden` (needs a superuser: event triggers). Two event
-- triggers call {{guard_function}}():
--
-- - refused for every role but the admin role (members of it, and superusers): dropping a
--   capture trigger of an audited table (DROP TRIGGER, DROP FUNCTION … CASCADE), turning one
--   off or re-routing it (ALTER TABLE … DISABLE / ENABLE REPLICA / ENABLE ALWAYS TRIGGER),
--   replacing or altering a capture function or one of the log's helper functions (CREATE OR
--   REPLACE, ALTER, DROP FUNCTION), replacing a capture trigger (CREATE OR REPLACE TRIGGER);
-- - recorded as events of their own (operation DDL, with the command tag, the object, the
--   statement, the role and the transaction's context), chained like any event: every
--   ALTER TABLE of an audited table (columns added, dropped, altered, renamed; the table
--   renamed) and DROP TABLE of an audited table.
--
-- An audited table is one that carries a capture trigger (by name), so a renamed table stays
-- audited. The caller is `session_user`: the function runs as its owner (it writes the log),
-- where `current_user` names the owner. A superuser can still switch event triggers off
-- (ALTER EVENT TRIGGER, session_replication_role): the hash chain and published tips are the
-- answer to that role. Safe to run again.

DO $auditrum$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_enum WHERE enumtypid = {{operation_type_literal}}::regtype AND enumlabel = 'DDL') THEN
        ALTER TYPE {{operation_type}} ADD VALUE IF NOT EXISTS 'DDL';
    END IF;
END
$auditrum$;

CREATE OR REPLACE FUNCTION {{guard_function}}() RETURNS event_trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $auditrum$
DECLARE
    -- Hardened without an admin role (or with one since dropped), the log's owner is the one
    -- allowed.
    admin text := COALESCE((SELECT rolname FROM pg_roles WHERE rolname = {{admin_role}}),
        (SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = to_regclass({{audit_table_literal}})));
    allowed boolean;
    triggers text[] := ARRAY[{{trigger_names}}];
    helpers text[] := ARRAY[{{helper_names}}];
    obj record;
BEGIN
    -- No audit table (the log was removed): nothing to guard.
    allowed := admin IS NULL OR pg_has_role(session_user, admin, 'MEMBER');
    IF TG_EVENT = 'sql_drop' THEN
        FOR obj IN
            SELECT d.object_type, d.object_identity
            FROM pg_event_trigger_dropped_objects() d
            WHERE (d.object_type = 'trigger' AND d.address_names[3] = ANY (triggers)
                   AND NOT EXISTS (SELECT FROM pg_event_trigger_dropped_objects() t
                                   WHERE t.object_type = 'table' AND t.address_names = d.address_names[1:2]))
               OR (d.object_type = 'function' AND d.address_names[1] = {{schema_literal}}
                   AND d.address_names[2] = ANY (helpers))
        LOOP
            IF NOT allowed THEN
                RAISE EXCEPTION 'auditrum: only the admin role % may drop % %: it captures changes for the audit log', admin, obj.object_type, obj.object_identity
                    USING ERRCODE = 'insufficient_privilege',
                          HINT = format('Run it as a member of %s (to stop auditing a table: `auditrum-diesel untrack`).', admin);
            END IF;
        END LOOP;
        -- An audited table dropped (its capture triggers go with it): recorded.
        FOR obj IN
            SELECT DISTINCT d.address_names[1] AS table_schema, d.address_names[2] AS table_name, t.object_identity
            FROM pg_event_trigger_dropped_objects() d
            JOIN pg_event_trigger_dropped_objects() t
              ON t.object_type = 'table' AND t.address_names = d.address_names[1:2]
            WHERE d.object_type = 'trigger' AND d.address_names[3] = ANY (triggers)
        LOOP
            INSERT INTO {{audit_table}} (operation, table_schema, table_name, new_data, txid, context_id)
            VALUES ('DDL', obj.table_schema, obj.table_name,
                    jsonb_build_object('command_tag', tg_tag, 'object_type', 'table',
                                       'object_identity', obj.object_identity,
                                       'statement', current_query(), 'role', session_user::text),
                    txid_current(), {{context_function}}());
        END LOOP;
        RETURN;
    END IF;
    -- ddl_command_end: the catalog already shows the command's effect.
    FOR obj IN
        SELECT DISTINCT c.command_tag, c.classid, c.objid, c.object_type, c.object_identity
        FROM pg_event_trigger_ddl_commands() c
    LOOP
        IF obj.classid = 'pg_class'::regclass AND obj.command_tag = 'ALTER TABLE'
           AND EXISTS (SELECT FROM pg_trigger t WHERE t.tgrelid = obj.objid AND t.tgname = ANY (triggers)) THEN
            IF NOT allowed AND EXISTS (SELECT FROM pg_trigger t WHERE t.tgrelid = obj.objid
                                       AND t.tgname = ANY (triggers) AND t.tgenabled <> 'O') THEN
                RAISE EXCEPTION 'auditrum: only the admin role % may disable or re-route the audit triggers of % (DISABLE, ENABLE REPLICA and ENABLE ALWAYS TRIGGER change what the audit log captures)', admin, obj.object_identity
                    USING ERRCODE = 'insufficient_privilege',
                          HINT = format('Run it as a member of %s.', admin);
            END IF;
            INSERT INTO {{audit_table}} (operation, table_schema, table_name, new_data, txid, context_id)
            SELECT 'DDL', n.nspname, c.relname,
                   jsonb_build_object('command_tag', obj.command_tag, 'object_type', obj.object_type,
                                      'object_identity', obj.object_identity,
                                      'statement', current_query(), 'role', session_user::text),
                   txid_current(), {{context_function}}()
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE c.oid = obj.objid;
        ELSIF NOT allowed AND obj.classid = 'pg_proc'::regclass
              AND (EXISTS (SELECT FROM pg_trigger t WHERE t.tgfoid = obj.objid AND t.tgname = ANY (triggers))
                   OR EXISTS (SELECT FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                              WHERE p.oid = obj.objid AND n.nspname = {{schema_literal}} AND p.proname = ANY (helpers))) THEN
            RAISE EXCEPTION 'auditrum: only the admin role % may replace or alter the capture function %', admin, obj.object_identity
                USING ERRCODE = 'insufficient_privilege',
                      HINT = format('Run it as a member of %s (`auditrum-diesel track` re-installs capture).', admin);
        ELSIF NOT allowed AND obj.classid = 'pg_trigger'::regclass
              AND EXISTS (SELECT FROM pg_trigger t WHERE t.oid = obj.objid AND t.tgname = ANY (triggers)) THEN
            RAISE EXCEPTION 'auditrum: only the admin role % may create or replace the audit trigger %', admin, obj.object_identity
                USING ERRCODE = 'insufficient_privilege',
                      HINT = format('Run it as a member of %s (`auditrum-diesel track` re-installs capture).', admin);
        END IF;
    END LOOP;
END
$auditrum$;

DO $auditrum$
BEGIN
    IF {{admin_role}} IS NOT NULL THEN
        EXECUTE format('ALTER FUNCTION %s() OWNER TO %I', {{guard_function_literal}}, {{admin_role}});
    END IF;
    IF NOT EXISTS (SELECT FROM pg_event_trigger WHERE evtname = {{end_trigger_literal}}) THEN
        CREATE EVENT TRIGGER {{end_trigger}} ON ddl_command_end
            WHEN TAG IN ('ALTER TABLE', 'CREATE FUNCTION', 'ALTER FUNCTION', 'CREATE TRIGGER')
            EXECUTE FUNCTION {{guard_function}}();
    END IF;
    IF NOT EXISTS (SELECT FROM pg_event_trigger WHERE evtname = {{drop_trigger_literal}}) THEN
        CREATE EVENT TRIGGER {{drop_trigger}} ON sql_drop EXECUTE FUNCTION {{guard_function}}();
    END IF;
END
$auditrum$;
-- Switched off by hand? On again.
ALTER EVENT TRIGGER {{end_trigger}} ENABLE;
ALTER EVENT TRIGGER {{drop_trigger}} ENABLE;
