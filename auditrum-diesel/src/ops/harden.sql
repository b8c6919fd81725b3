-- auditrum harden: the application role may read the audit log and, through the capture
-- triggers, add events; it may not change or remove them, nor raise its rights through
-- them. The admin role owns the log's objects and maintains it (partitions, purge). The
-- capture role (NOLOGIN) owns the capture functions, which run as it: it may only append
-- to the log. Safe to run again; it runs in one transaction and refuses, changing nothing,
-- what it cannot fix.
DO $auditrum$
DECLARE
    app_role text := {{app_role}};
    admin_role text := {{admin_role}};
    capture_role text := {{capture_role}};
    log_schema text := {{schema}};
    object regclass;
    fn regprocedure;
    grantee oid;
    owner_role oid;
    found text;
BEGIN
    IF to_regrole(app_role) IS NULL THEN
        RAISE EXCEPTION 'auditrum: role % does not exist', app_role USING ERRCODE = 'undefined_object';
    END IF;
    IF admin_role IS NOT NULL AND to_regrole(admin_role) IS NULL THEN
        RAISE EXCEPTION 'auditrum: role % does not exist', admin_role USING ERRCODE = 'undefined_object';
    END IF;
    IF admin_role IS NOT NULL AND pg_has_role(app_role, admin_role, 'USAGE') THEN
        RAISE EXCEPTION 'auditrum: % is (or is a member of) the admin role %, so it could do all the admin does: use an admin role it is not a member of', app_role, admin_role
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    IF (SELECT rolsuper OR rolcreaterole FROM pg_roles WHERE rolname = app_role) THEN
        RAISE EXCEPTION 'auditrum: % is a superuser or has CREATEROLE (it can make itself a member of any role): nothing it does to the log can be prevented', app_role
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'ALTER ROLE ' || quote_ident(app_role) || ' NOSUPERUSER NOCREATEROLE';
    END IF;
    -- The schema's owner (directly, through a group, or as pg_database_owner of public when
    -- it owns the database) may drop everything in it, whatever the grants.
    SELECT nspowner INTO owner_role FROM pg_namespace WHERE nspname = log_schema;
    IF pg_has_role(app_role, owner_role, 'USAGE') THEN
        RAISE EXCEPTION 'auditrum: % owns the schema % of the audit log (directly, through a role it belongs to, or by owning the database), so it can drop the log', app_role, log_schema
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'Put the log in a schema the application does not own (audit table `audit.auditlog`), or ALTER SCHEMA ' || quote_ident(log_schema) || ' OWNER TO another role.';
    END IF;

    -- The capture role: NOLOGIN, no attribute. Role names are global to the cluster; a
    -- concurrent harden of another database may create it first.
    IF to_regrole(capture_role) IS NULL THEN
        BEGIN
            EXECUTE format('CREATE ROLE %I NOLOGIN NOINHERIT', capture_role);
        EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
        END;
    END IF;
    IF (SELECT rolsuper OR rolcanlogin OR rolcreaterole OR rolcreatedb OR rolbypassrls FROM pg_roles WHERE rolname = capture_role) THEN
        RAISE EXCEPTION 'auditrum: the capture role % may log in or has attributes (SUPERUSER, CREATEROLE, CREATEDB, BYPASSRLS): the capture runs as it, so it must hold nothing but INSERT on the log', capture_role
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'ALTER ROLE ' || quote_ident(capture_role) || ' NOLOGIN NOSUPERUSER NOCREATEROLE NOCREATEDB NOBYPASSRLS';
    END IF;

    -- The log's tables: the audit table, every partition, context storage, registry, chain.
    FOR object IN
        SELECT to_regclass({{audit_table}})
        UNION ALL SELECT inhrelid::regclass FROM pg_inherits WHERE inhparent = to_regclass({{audit_table}})
        UNION ALL SELECT to_regclass({{context_table}})
        UNION ALL SELECT to_regclass({{registry_table}})
        UNION ALL SELECT to_regclass({{chain_table}})
        UNION ALL SELECT to_regclass({{chain_state_table}})
        UNION ALL SELECT to_regclass({{chain_seed_table}})
        UNION ALL SELECT to_regclass({{chain_redaction_table}})
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
        -- Every role granted a right to change it (directly or on some of its columns), the
        -- app, its groups and anyone else, loses it: events are added by the capture only.
        FOR grantee IN
            SELECT DISTINCT a.grantee FROM pg_class c, aclexplode(c.relacl) a
            WHERE c.oid = object AND a.grantee <> 0 AND a.grantee <> c.relowner
            UNION
            SELECT DISTINCT a.grantee FROM pg_attribute att, aclexplode(att.attacl) a
            WHERE att.attrelid = object AND a.grantee <> 0
        LOOP
            EXECUTE format('REVOKE INSERT, UPDATE, DELETE, TRUNCATE, TRIGGER, REFERENCES ON %s FROM %s', object, grantee::regrole);
        END LOOP;
        EXECUTE format('GRANT SELECT ON %s TO %I', object, app_role);
    END LOOP;

    -- What the capture needs, and nothing more: append events and context rows, and read
    -- back the context row's id and transaction (the context function's cache check).
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO %I', log_schema, capture_role);
    EXECUTE format('GRANT INSERT ON %s TO %I', to_regclass({{audit_table}}), capture_role);
    EXECUTE format('GRANT INSERT, SELECT (id, txid) ON %s TO %I', to_regclass({{context_table}}), capture_role);

    -- The capture functions and the context function run as the capture role. A new owner
    -- must be allowed to create in the schema (for a non-superuser running harden); that
    -- right is taken back below.
    EXECUTE format('GRANT CREATE ON SCHEMA %I TO %I', log_schema, capture_role);
    FOR fn IN
        SELECT p.oid::regprocedure FROM pg_proc p
        WHERE p.oid = to_regprocedure({{context_function}})
           OR p.oid IN (SELECT t.tgfoid FROM pg_trigger t
                        JOIN {{registry_table_ident}} r ON t.tgrelid = to_regclass(format('%I.%I', r.table_schema, r.table_name))
                        WHERE t.tgname IN ({{trigger_names}}))
    LOOP
        IF (SELECT n.nspname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace WHERE p.oid = fn) <> log_schema THEN
            RAISE EXCEPTION 'auditrum: the capture function % is not in the log''s schema %: re-install the spec (`track`, or the migration of this version) first', fn, log_schema
                USING ERRCODE = 'object_not_in_prerequisite_state';
        END IF;
        EXECUTE format('ALTER FUNCTION %s OWNER TO %I', fn, capture_role);
    END LOOP;
    EXECUTE format('REVOKE CREATE ON SCHEMA %I FROM %I', log_schema, capture_role);

    -- The maintenance functions run as the admin (or the log's owner); never the app.
    FOR fn IN
        SELECT p.oid::regprocedure FROM pg_proc p
        WHERE p.oid IN (to_regprocedure({{partitions_function}}), to_regprocedure({{context_overlong_function}}),
                        to_regprocedure({{chain_mark_function}}), to_regprocedure({{chain_seal_function}}))
    LOOP
        IF admin_role IS NOT NULL THEN
            EXECUTE format('ALTER FUNCTION %s OWNER TO %I', fn, admin_role);
        ELSIF pg_has_role(app_role, (SELECT proowner FROM pg_proc WHERE oid = fn), 'USAGE') THEN
            RAISE EXCEPTION 'auditrum: % is owned by %, so it runs with the rights of the app: pass --admin-role to hand the log to another role', fn, app_role
                USING ERRCODE = 'insufficient_privilege',
                      HINT = 'Pass --admin-role to make another role the owner of the audit log.';
        END IF;
    END LOOP;
    -- The admin creates next months' partitions in the log's schema.
    IF admin_role IS NOT NULL THEN
        EXECUTE format('GRANT USAGE, CREATE ON SCHEMA %I TO %I', log_schema, admin_role);
    END IF;
    -- Only the admin adds partitions.
    EXECUTE format('REVOKE EXECUTE ON FUNCTION %s FROM PUBLIC', to_regprocedure({{partitions_function}}));

    -- What grants cannot take away: a role that can still change the log through membership
    -- (in its owner, in the capture role, in pg_write_all_data) or by owning its schema.
    -- The owner, its members (the admins) and superusers are trusted; the app never is.
    owner_role := (SELECT relowner FROM pg_class WHERE oid = to_regclass({{audit_table}}));
    SELECT string_agg(DISTINCT format('%s (%s)', r.rolname, o.relname), ', ') INTO found
    FROM pg_roles r, pg_class o
    WHERE o.oid IN (SELECT to_regclass({{audit_table}})
                    UNION ALL SELECT inhrelid FROM pg_inherits WHERE inhparent = to_regclass({{audit_table}})
                    UNION ALL SELECT to_regclass({{context_table}})
                    UNION ALL SELECT to_regclass({{registry_table}})
                    UNION ALL SELECT to_regclass({{chain_table}})
                    UNION ALL SELECT to_regclass({{chain_state_table}})
                    UNION ALL SELECT to_regclass({{chain_seed_table}})
                    UNION ALL SELECT to_regclass({{chain_redaction_table}}))
      AND NOT r.rolsuper AND r.rolname NOT LIKE 'pg\_%' AND r.rolname <> capture_role
      AND (r.rolname = app_role OR NOT pg_has_role(r.oid, owner_role, 'USAGE'))
      AND has_table_privilege(r.oid, o.oid, 'INSERT, UPDATE, DELETE, TRUNCATE, TRIGGER');
    IF found IS NOT NULL THEN
        RAISE EXCEPTION 'auditrum: after revoking every grant, these roles can still change the log through a role they belong to (its owner, the capture role, pg_write_all_data): %', found
            USING ERRCODE = 'insufficient_privilege',
                  HINT = 'REVOKE that membership (see \du), then run harden again.';
    END IF;
END
$auditrum$;
