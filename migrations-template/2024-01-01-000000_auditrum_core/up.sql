-- auditrum: core public.auditlog v3 7670f2ee85d8fabecdb2239af9a715cb26e6fd4c26cbbf79f3d69cc17b1c79c8
-- Written by auditrum-diesel `makemigrations`. The `-- auditrum:` lines above tell
-- it what this migration installs: keep them as they are.

-- auditrum core schema: the audit table, its per-transaction context storage, the registry
-- of installed specs and the helper functions the triggers call. Safe to run twice.

-- Operation of an event. Shared by every audit table of the schema.
DO $auditrum$
BEGIN
    CREATE TYPE "public".auditrum_operation AS ENUM ('INSERT', 'UPDATE', 'DELETE', 'TRUNCATE');
EXCEPTION WHEN duplicate_object THEN NULL;
END
$auditrum$;
-- Events the log writes about itself: a schema change of an audited table (the DDL guard
-- installed by `harden`), a retention cut (`purge` with the hash chain on) and an erasure
-- (`redact`). Added only when missing: ALTER TYPE needs the type's owner even when the
-- value exists.
DO $auditrum$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_enum WHERE enumtypid = '"public".auditrum_operation'::regtype AND enumlabel = 'DDL') THEN
        ALTER TYPE "public".auditrum_operation ADD VALUE IF NOT EXISTS 'DDL';
    END IF;
    IF NOT EXISTS (SELECT FROM pg_enum WHERE enumtypid = '"public".auditrum_operation'::regtype AND enumlabel = 'PURGE') THEN
        ALTER TYPE "public".auditrum_operation ADD VALUE IF NOT EXISTS 'PURGE';
    END IF;
    IF NOT EXISTS (SELECT FROM pg_enum WHERE enumtypid = '"public".auditrum_operation'::regtype AND enumlabel = 'REDACT') THEN
        ALTER TYPE "public".auditrum_operation ADD VALUE IF NOT EXISTS 'REDACT';
    END IF;
END
$auditrum$;

-- One row per transaction (and per distinct context within it): who, why, from where.
-- Events point at it through context_id, so a bulk write stores its context once.
CREATE TABLE IF NOT EXISTS "public"."auditlog_context" (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    txid bigint NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    context jsonb NOT NULL
);
-- Every single-row transaction pays for these indexes, so there are few: requests and users
-- (their events are then found by txid), and a BRIN for retention by time. An event finds
-- its context by primary key.
CREATE INDEX IF NOT EXISTS "auditlog_context_request_idx" ON "public"."auditlog_context" ((context ->> 'request_id'));
CREATE INDEX IF NOT EXISTS "auditlog_context_user_idx" ON "public"."auditlog_context" ((context ->> 'user_id'));
CREATE INDEX IF NOT EXISTS "auditlog_context_created_idx" ON "public"."auditlog_context" USING brin (created_at);

-- The events, partitioned by month of changed_at (UTC bounds).
CREATE TABLE IF NOT EXISTS "public"."auditlog" (
    id bigint GENERATED ALWAYS AS IDENTITY,
    changed_at timestamptz NOT NULL DEFAULT now(),
    operation "public".auditrum_operation NOT NULL,
    table_schema text NOT NULL,
    table_name text NOT NULL,
    -- The row's key as text; a composite key as a JSON array. NULL for TRUNCATE.
    record_id text,
    -- The key before an UPDATE that changed it; NULL otherwise.
    old_record_id text,
    -- UPDATE: {"column": {"old": …, "new": …}} for each tracked column that changed.
    diff jsonb,
    old_data jsonb,
    new_data jsonb,
    -- Columns of the row copied onto every event (TrackSpec::meta).
    meta jsonb,
    txid bigint NOT NULL,
    context_id bigint,
    -- The context itself, on the event of a statement that wrote one row (context_id is then
    -- NULL): a one-row transaction writes one row. A reader takes `COALESCE(e.context,
    -- c.context)` with the context row joined on context_id.
    context jsonb,
    PRIMARY KEY (id, changed_at)
) PARTITION BY RANGE (changed_at);

-- Rows whose month has no partition yet land here; add_partitions moves them out.
CREATE TABLE IF NOT EXISTS "public"."auditlog_default" PARTITION OF "public"."auditlog" DEFAULT;

-- History of one record.
CREATE INDEX IF NOT EXISTS "auditlog_record_idx" ON "public"."auditlog" (table_name, record_id, table_schema);
-- ... and the events that moved it away from an older key (rare, so a small partial index).
CREATE INDEX IF NOT EXISTS "auditlog_old_record_idx" ON "public"."auditlog" (table_name, old_record_id, table_schema)
    WHERE old_record_id IS NOT NULL;
-- Everything one transaction wrote; requests and users go through the context table's
-- indexes to its txid.
CREATE INDEX IF NOT EXISTS "auditlog_txid_idx" ON "public"."auditlog" (txid);
-- Time ranges: rows arrive in time order, so a BRIN index is nearly free to maintain.
CREATE INDEX IF NOT EXISTS "auditlog_time_idx" ON "public"."auditlog" USING brin (changed_at);
-- Requests and users of the events that carry their context (partial: the other events
-- have none, and are found through the context table's indexes and their txid).
CREATE INDEX IF NOT EXISTS "auditlog_inline_request_idx" ON "public"."auditlog" ((context ->> 'request_id'))
    WHERE context IS NOT NULL;
CREATE INDEX IF NOT EXISTS "auditlog_inline_user_idx" ON "public"."auditlog" ((context ->> 'user_id'))
    WHERE context IS NOT NULL;

-- Installed specs: which version of each table's triggers is in place.
CREATE TABLE IF NOT EXISTS "public"."auditlog_tracked" (
    table_schema text NOT NULL,
    table_name text NOT NULL,
    spec jsonb NOT NULL,
    fingerprint text NOT NULL,
    checksum text NOT NULL,
    installed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (table_schema, table_name)
);

-- The context row of the current transaction, stored on first use and cached in a
-- transaction-local setting, so a transaction stores its context once whatever its
-- statements of several rows write (a statement of one row stores it on its event).
-- NULL when no context is set. The cache is rolled back with a savepoint, like the row.
-- After `harden` it runs as the capture role, which may only add rows.
CREATE OR REPLACE FUNCTION "public"."auditlog_context_id"() RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $auditrum$
DECLARE
    raw text := NULLIF(current_setting('auditrum.context', true), '');
    ctx jsonb;
    ctx_id bigint;
BEGIN
    IF raw IS NULL THEN
        RETURN NULL;
    END IF;
    -- The cache is only a hint: any role can set these settings by hand (to point its events
    -- at another transaction's context, or at none), so a cached id is used only when its
    -- row belongs to this transaction. One primary-key lookup, and only from the second
    -- statement of a transaction on.
    IF raw = current_setting('auditrum.cache_public_auditlog_source', true)
       AND current_setting('auditrum.cache_public_auditlog_id', true) ~ '^[0-9]{1,18}$' THEN
        SELECT c.id INTO ctx_id FROM "public"."auditlog_context" c
        WHERE c.id = current_setting('auditrum.cache_public_auditlog_id', true)::bigint AND c.txid = txid_current();
        IF FOUND THEN
            RETURN ctx_id;
        END IF;
    END IF;
    -- No EXCEPTION block here: it would open a subtransaction in every transaction that sets
    -- a context. A value that does not start like an object is refused with our message; one
    -- that does but is not valid JSON fails the cast with PostgreSQL's own.
    IF left(ltrim(raw), 1) IS DISTINCT FROM '{' THEN
        RAISE EXCEPTION 'auditrum: the setting % must hold a JSON object', 'auditrum.context'
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Set it to a JSON object, e.g. SET LOCAL ' || 'auditrum.context' || ' = ''{"user_id": "42"}''';
    END IF;
    ctx := raw::jsonb;
    -- `user_id` and `request_id` are indexed, and a btree entry holds at most ~2.7 kB: a
    -- longer value would fail the write. Past 1024 bytes the indexed key keeps its first 512
    -- characters (at most 2 kB) and the whole value moves to `auditrum_overlong`: nothing is lost.
    IF octet_length(ctx ->> 'user_id') > 1024 OR octet_length(ctx ->> 'request_id') > 1024 THEN
        ctx := "public"."auditlog_context_overlong"(ctx);
    END IF;
    INSERT INTO "public"."auditlog_context" (txid, context) VALUES (txid_current(), ctx) RETURNING id INTO ctx_id;
    PERFORM set_config('auditrum.cache_public_auditlog_source', raw, true), set_config('auditrum.cache_public_auditlog_id', ctx_id::text, true);
    RETURN ctx_id;
END
$auditrum$;

-- `user_id` / `request_id` values over 1024 bytes, cut for their indexes; the whole values
-- are kept under `auditrum_overlong`. Called by the context function only for such values.
CREATE OR REPLACE FUNCTION "public"."auditlog_context_overlong"(ctx jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog, pg_temp
AS $auditrum$
    SELECT ctx || coalesce(jsonb_object_agg(key, left(ctx ->> key, 512)), '{}'::jsonb)
               || jsonb_build_object('auditrum_overlong', coalesce(jsonb_object_agg(key, ctx -> key), '{}'::jsonb))
    FROM unnest(ARRAY['user_id', 'request_id']) AS key
    WHERE octet_length(ctx ->> key) > 1024
$auditrum$;

-- Creates the monthly partitions (UTC) from the current month through `months_ahead`
-- months ahead; returns how many it created. Idempotent, and safe to run concurrently
-- (advisory lock). Rows of a new month already in the DEFAULT partition are moved into it.
CREATE OR REPLACE FUNCTION "public"."auditlog_add_partitions"(months_ahead integer DEFAULT 1) RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $auditrum$
DECLARE
    first_month date := date_trunc('month', now() AT TIME ZONE 'UTC')::date;
    month date;
    lower_bound timestamptz;
    upper_bound timestamptz;
    partition_name text;
    created integer := 0;
BEGIN
    IF months_ahead < 0 THEN
        RAISE EXCEPTION 'auditrum: months_ahead must be 0 or more, not %', months_ahead
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    PERFORM pg_advisory_xact_lock(hashtext('auditrum.partitions.' || 'public' || '.' || 'auditlog'));
    FOR i IN 0..months_ahead LOOP
        month := (first_month + make_interval(months => i))::date;
        partition_name := 'auditlog' || to_char(month, '"_p"YYYYMM');
        CONTINUE WHEN to_regclass(format('%I.%I', 'public', partition_name)) IS NOT NULL;
        lower_bound := month::timestamp AT TIME ZONE 'UTC';
        upper_bound := (month + interval '1 month')::timestamp AT TIME ZONE 'UTC';
        IF EXISTS (SELECT FROM "public"."auditlog_default" WHERE changed_at >= lower_bound AND changed_at < upper_bound) THEN
            -- A new partition cannot be created while DEFAULT holds rows of its range.
            CREATE TEMP TABLE auditrum_moved ON COMMIT DROP AS
                SELECT * FROM "public"."auditlog_default" WHERE changed_at >= lower_bound AND changed_at < upper_bound;
            DELETE FROM "public"."auditlog_default" WHERE changed_at >= lower_bound AND changed_at < upper_bound;
            EXECUTE format('CREATE TABLE %I.%I PARTITION OF %s FOR VALUES FROM (%L) TO (%L)',
                'public', partition_name, '"public"."auditlog"', lower_bound, upper_bound);
            INSERT INTO "public"."auditlog" OVERRIDING SYSTEM VALUE SELECT * FROM auditrum_moved;
            DROP TABLE auditrum_moved;
        ELSE
            EXECUTE format('CREATE TABLE %I.%I PARTITION OF %s FOR VALUES FROM (%L) TO (%L)',
                'public', partition_name, '"public"."auditlog"', lower_bound, upper_bound);
        END IF;
        created := created + 1;
    END LOOP;
    RETURN created;
END
$auditrum$;

-- The current and the next month.
SELECT "public"."auditlog_add_partitions"(1);

-- The version of this core schema, read by `sync` to know when to upgrade it.
COMMENT ON TABLE "public"."auditlog" IS 'auditrum core v3 7670f2ee85d8fabecdb2239af9a715cb26e6fd4c26cbbf79f3d69cc17b1c79c8';
