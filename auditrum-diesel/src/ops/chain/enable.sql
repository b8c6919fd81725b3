-- auditrum hash chain: one link per committed transaction that wrote events, in
-- transaction-id order. Each link hashes its transaction's events (in id order, with their
-- context) and the previous link. Writers do no chain work: links are made by
-- {{seal_function}}(), run from cron or by `verify-chain` / `chain-tip`, for every
-- transaction that has ended. See docs/hardening.md for the canonical payload. Safe to run
-- twice.

CREATE TABLE IF NOT EXISTS {{chain_table}} (
    seq bigint PRIMARY KEY,
    txid bigint NOT NULL UNIQUE,
    event_count integer NOT NULL,
    first_event_id bigint NOT NULL,
    last_event_id bigint NOT NULL,
    events_hash text NOT NULL,
    prev_hash text NOT NULL,
    link_hash text NOT NULL,
    -- When the transaction started (its events' changed_at): where purge may cut.
    started_at timestamptz NOT NULL,
    sealed_at timestamptz NOT NULL DEFAULT now()
);
-- Payload version 2 (salted per-value digests, so values can be erased later): the link's
-- random seed, deleted when a redaction touches the link. Links sealed by an older version
-- keep version 1; 3 is a version 1 link a redaction re-hashed as version 2 (its REDACT
-- event records both hashes).
ALTER TABLE {{chain_table}} ADD COLUMN IF NOT EXISTS payload_version smallint NOT NULL DEFAULT 1;
ALTER TABLE {{chain_table}} ADD COLUMN IF NOT EXISTS seed uuid;

-- After a redaction: the seed of each event of a touched link that the redaction left
-- alone (derived from the link's seed, which is deleted)…
CREATE TABLE IF NOT EXISTS {{seed_table}} (
    event_id bigint PRIMARY KEY,
    seed text NOT NULL
);
-- …and, for each event it touched, the salt of every value kept, and the digest of every
-- value erased with the REDACT event that erased it. Never the erased value, nor its salt.
CREATE TABLE IF NOT EXISTS {{redaction_table}} (
    event_id bigint NOT NULL,
    path text NOT NULL,
    salt text,
    digest text,
    redaction_id bigint,
    PRIMARY KEY (event_id, path),
    CHECK ((salt IS NULL) <> (digest IS NULL)),
    CHECK ((digest IS NULL) = (redaction_id IS NULL))
);

-- The head of the chain (one row): the last link; where verification starts (the anchor,
-- moved by purge); the last event id from before the chain; and the transaction-id
-- horizon below which every transaction's events are sealed.
CREATE TABLE IF NOT EXISTS {{state_table}} (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    enabled_at timestamptz NOT NULL DEFAULT now(),
    chained_after_id bigint NOT NULL,
    sealed_below_txid bigint NOT NULL,
    anchor_seq bigint NOT NULL DEFAULT 1,
    anchor_hash text NOT NULL DEFAULT repeat('0', 64),
    last_seq bigint NOT NULL DEFAULT 0,
    last_hash text NOT NULL DEFAULT repeat('0', 64)
);

-- `purge` and `redact` record themselves as events (the core schema adds the values too).
-- Only when missing: ALTER TYPE needs the type's owner, who may not be the one enabling.
DO $auditrum$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_enum WHERE enumtypid = {{operation_type_literal}}::regtype AND enumlabel = 'PURGE') THEN
        ALTER TYPE {{operation_type}} ADD VALUE IF NOT EXISTS 'PURGE';
    END IF;
    IF NOT EXISTS (SELECT FROM pg_enum WHERE enumtypid = {{operation_type_literal}}::regtype AND enumlabel = 'REDACT') THEN
        ALTER TYPE {{operation_type}} ADD VALUE IF NOT EXISTS 'REDACT';
    END IF;
END
$auditrum$;

-- Waits for the transactions writing to the audit table, so that every event after
-- `chained_after_id` belongs to a transaction at or above the horizon.
LOCK TABLE {{audit_table}} IN SHARE ROW EXCLUSIVE MODE;
INSERT INTO {{state_table}} (chained_after_id, sealed_below_txid)
SELECT COALESCE(max(id), 0), pg_snapshot_xmin(pg_current_snapshot())::text::bigint FROM {{audit_table}}
ON CONFLICT (singleton) DO NOTHING;

-- The seal function follows (seal.sql), so an upgrade of the core schema can refresh it alone.
