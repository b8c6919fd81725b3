-- auditrum: the key of hashed columns (`hash(...)`) and the function that uses it.
--
-- HMAC-SHA256 with PostgreSQL's built-in sha256() (no pgcrypto): the key K (32 random
-- bytes) is stored as its two padded forms K xor ipad and K xor opad (64 bytes each, RFC
-- 2104), so HMAC(K, m) = sha256(outer_pad || sha256(inner_pad || m)).
--
-- The key is made here, by the server, when the first hashed spec is installed: it never
-- appears in a migration file or on the client. Only the table's owner (the log's owner;
-- the admin after `harden`) can read it. The function runs as that owner (SECURITY
-- DEFINER); EXECUTE is revoked from PUBLIC and granted to the capture role only: whoever
-- else may hash values (a data-protection officer answering "every event where email was
-- X") is granted it deliberately (docs/personal-data.md).
CREATE TABLE IF NOT EXISTS {{key_table}} (
    id boolean PRIMARY KEY DEFAULT true CHECK (id),
    inner_pad bytea NOT NULL CHECK (length(inner_pad) = 64),
    outer_pad bytea NOT NULL CHECK (length(outer_pad) = 64),
    created_at timestamptz NOT NULL DEFAULT now()
);
REVOKE ALL ON {{key_table}} FROM PUBLIC;
DO $auditrum$
DECLARE
    k bytea;
    ipad bytea;
    opad bytea;
BEGIN
    IF EXISTS (SELECT FROM {{key_table}}) THEN
        RETURN;
    END IF;
    -- gen_random_uuid() draws from the server's strong random source (122 bits each).
    k := sha256(convert_to(gen_random_uuid()::text || gen_random_uuid()::text
                           || gen_random_uuid()::text || gen_random_uuid()::text, 'UTF8'))
         || decode(repeat('00', 32), 'hex');
    ipad := k;
    opad := k;
    FOR i IN 0..63 LOOP
        ipad := set_byte(ipad, i, get_byte(k, i) # 54);  -- 0x36
        opad := set_byte(opad, i, get_byte(k, i) # 92);  -- 0x5c
    END LOOP;
    INSERT INTO {{key_table}} (inner_pad, outer_pad) VALUES (ipad, opad) ON CONFLICT DO NOTHING;
END
$auditrum$;
CREATE OR REPLACE FUNCTION {{hmac_function}}(value text) RETURNS text
LANGUAGE sql STABLE STRICT SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $auditrum$
SELECT 'hmac-sha256:' || encode(sha256(k.outer_pad || sha256(k.inner_pad || convert_to(value, 'UTF8'))), 'hex')
FROM {{key_table}} AS k
$auditrum$;
REVOKE ALL ON FUNCTION {{hmac_function}}(text) FROM PUBLIC;
DO $auditrum$
BEGIN
    IF to_regrole({{capture_role}}) IS NOT NULL THEN
        EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO %I', {{hmac_signature}}::regprocedure, {{capture_role}});
    END IF;
END
$auditrum$;
