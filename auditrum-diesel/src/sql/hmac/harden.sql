-- auditrum: `harden` for the key of hashed columns. The admin owns the key and the
-- function; nobody else holds any right on the key table; only the capture role may
-- execute the function (others are granted it deliberately, see docs/personal-data.md).
DO $auditrum$
DECLARE
    key_table regclass := to_regclass({{key_table_literal}});
    hmac_function regprocedure := to_regprocedure({{hmac_signature}});
    admin_role text := {{admin_role}};
    grantee oid;
BEGIN
    IF key_table IS NULL OR hmac_function IS NULL THEN
        RETURN;
    END IF;
    IF admin_role IS NOT NULL THEN
        EXECUTE format('ALTER TABLE %s OWNER TO %I', key_table, admin_role);
        EXECUTE format('ALTER FUNCTION %s OWNER TO %I', hmac_function, admin_role);
    END IF;
    EXECUTE format('REVOKE ALL ON %s FROM PUBLIC', key_table);
    FOR grantee IN
        SELECT DISTINCT a.grantee FROM pg_class c, aclexplode(c.relacl) a
        WHERE c.oid = key_table AND a.grantee <> c.relowner AND a.grantee <> 0
    LOOP
        EXECUTE format('REVOKE ALL ON %s FROM %s', key_table, grantee::regrole);
    END LOOP;
    EXECUTE format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', hmac_function);
    EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO %I', hmac_function, {{capture_role}});
END
$auditrum$;
