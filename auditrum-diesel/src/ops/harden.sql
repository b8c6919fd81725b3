-- auditrum harden: the application role may read the audit log and, through the
-- SECURITY DEFINER triggers, add events; it may not change or remove them. The admin role
-- owns the log's objects and maintains it (partitions, purge). Safe to run again.
DO $auditrum$
DECLARE
    app_role text := {{app_role}};
    admin_role text := {{admin_role}};
    object regclass;
    fn regprocedure;
BEGIN
    IF to_regrole(app_role) IS NULL THEN
        RAISE EXCEPTION 'auditrum: role % does not exist', app_role USING ERRCODE = 'undefined_object';
    END IF;
    IF admin_role IS NOT NULL AND to_regrole(admin_role) IS NULL THEN
        RAISE EXCEPTION 'auditrum: role % does not exist', admin_role USING ERRCODE = 'undefined_object';
    END IF;
    -- The log's tables: the audit table, every partition, context storage, registry.
    FOR object IN
        SELECT to_regclass({{audit_table}})
        UNION ALL SELECT inhrelid::regclass FROM pg_inherits WHERE inhparent = to_regclass({{audit_table}})
        UNION ALL SELECT to_regclass({{context_table}})
        UNION ALL SELECT to_regclass({{registry_table}})
        UNION ALL SELECT to_regclass({{chain_table}})
        UNION ALL SELECT to_regclass({{chain_state_table}})
    LOOP
        CONTINUE WHEN object IS NULL;
        IF admin_role IS NOT NULL THEN
            EXECUTE format('ALTER TABLE %s OWNER TO %I', object, admin_role);
        ELSIF pg_has_role(app_role, (SELECT relowner FROM pg_class WHERE oid = object), 'USAGE') THEN
            RAISE EXCEPTION 'auditrum: % is owned by %, whose owner rights cannot be revoked: pass --admin-role to hand the log to another role', object, app_role
                USING ERRCODE = 'insufficient_privilege',
                      HINT = 'Pass --admin-role to make another role the owner of the audit log.';
        END IF;
        EXECUTE format('REVOKE ALL ON %s FROM PUBLIC', object);
        EXECUTE format('REVOKE ALL ON %s FROM %I', object, app_role);
        EXECUTE format('GRANT SELECT ON %s TO %I', object, app_role);
    END LOOP;
    -- The trigger and helper functions run as their owner, who must be able to write the
    -- log: the admin, or the log's current owner; never the application role.
    FOR fn IN
        SELECT p.oid::regprocedure FROM pg_proc p
        WHERE p.oid IN (to_regprocedure({{context_function}}), to_regprocedure({{partitions_function}}),
                        to_regprocedure({{chain_mark_function}}), to_regprocedure({{chain_seal_function}}))
           OR p.oid IN (SELECT t.tgfoid FROM pg_trigger t
                        JOIN {{registry_table_ident}} r ON t.tgrelid = to_regclass(format('%I.%I', r.table_schema, r.table_name))
                        WHERE t.tgname IN ({{trigger_names}}))
    LOOP
        IF admin_role IS NOT NULL THEN
            EXECUTE format('ALTER FUNCTION %s OWNER TO %I', fn, admin_role);
        ELSIF pg_has_role(app_role, (SELECT proowner FROM pg_proc WHERE oid = fn), 'USAGE') THEN
            RAISE EXCEPTION 'auditrum: % is owned by %, so after hardening it could not write the log: pass --admin-role to hand the log to another role', fn, app_role
                USING ERRCODE = 'insufficient_privilege',
                      HINT = 'Pass --admin-role to make another role the owner of the audit log.';
        END IF;
    END LOOP;
    -- The admin creates next months' partitions in the log's schema.
    IF admin_role IS NOT NULL THEN
        EXECUTE format('GRANT USAGE, CREATE ON SCHEMA %I TO %I', {{schema}}, admin_role);
    END IF;
    -- Only the admin adds partitions.
    EXECUTE format('REVOKE EXECUTE ON FUNCTION %s FROM PUBLIC', to_regprocedure({{partitions_function}}));
END
$auditrum$;
