-- auditrum hash chain: one link per committed transaction that wrote events, numbered in
-- commit order. Each link hashes its transaction's events (in id order, with their context)
-- and the previous link. See docs/hardening.md for the canonical payload. Safe to run twice.

-- The links. A row is inserted (unsealed) by the first event of a transaction and sealed at
-- commit, under the head's lock, by the deferred trigger below.
CREATE TABLE IF NOT EXISTS {{chain_table}} (
    txid bigint PRIMARY KEY,
    seq bigint UNIQUE,
    event_count integer,
    first_event_id bigint,
    last_event_id bigint,
    events_hash text,
    prev_hash text,
    link_hash text,
    sealed_at timestamptz
);

-- The head of the chain (one row): the last link, where verification starts (the anchor,
-- moved by purge), and the first event id the chain covers.
CREATE TABLE IF NOT EXISTS {{state_table}} (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    enabled_at timestamptz NOT NULL DEFAULT now(),
    chained_after_id bigint NOT NULL,
    anchor_seq bigint NOT NULL DEFAULT 1,
    anchor_hash text NOT NULL DEFAULT repeat('0', 64),
    last_seq bigint NOT NULL DEFAULT 0,
    last_hash text NOT NULL DEFAULT repeat('0', 64)
);

-- Blocks writers to the audit table while the chain starts, so every event after
-- `chained_after_id` is chained.
LOCK TABLE {{audit_table}} IN SHARE ROW EXCLUSIVE MODE;
INSERT INTO {{state_table}} (chained_after_id)
SELECT COALESCE(max(id), 0) FROM {{audit_table}}
ON CONFLICT (singleton) DO NOTHING;

-- Statement trigger on the audit table: the first audit write of a transaction inserts its
-- (unsealed) link. Refuses writes after the link was sealed (SET CONSTRAINTS ... IMMEDIATE).
CREATE OR REPLACE FUNCTION {{mark_function}}() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $auditrum$
BEGIN
    IF NULLIF(current_setting({{sealed_setting}}, true), '') IS NOT NULL THEN
        RAISE EXCEPTION 'auditrum: an event was written after this transaction''s hash-chain link was sealed (was SET CONSTRAINTS ... IMMEDIATE used?)'
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    IF NULLIF(current_setting({{marked_setting}}, true), '') IS NULL THEN
        INSERT INTO {{chain_table}} (txid) VALUES (txid_current()) ON CONFLICT (txid) DO NOTHING;
        PERFORM set_config({{marked_setting}}, 'marked', true);
    END IF;
    RETURN NULL;
END
$auditrum$;

-- Deferred to commit: seals the transaction's link. The head row stays locked until the
-- transaction ends, so links are numbered in commit order and writers wait only for each
-- other's commits, not for each other's transactions.
CREATE OR REPLACE FUNCTION {{seal_function}}() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $auditrum$
DECLARE
    head record;
    events record;
    link text;
BEGIN
    SELECT count(*)::integer AS n, min(e.id) AS first_id, max(e.id) AS last_id,
           {{events_hash}} AS hash
      INTO events
      FROM {{audit_table}} e LEFT JOIN {{context_table}} c ON c.id = e.context_id
     WHERE e.txid = NEW.txid;
    IF events.n = 0 THEN
        -- The transaction's audit writes inserted no row: no link.
        DELETE FROM {{chain_table}} WHERE txid = NEW.txid;
        RETURN NULL;
    END IF;
    SELECT last_seq, last_hash INTO head FROM {{state_table}} FOR UPDATE;
    link := {{link_hash}};
    UPDATE {{chain_table}}
       SET seq = head.last_seq + 1, event_count = events.n, first_event_id = events.first_id,
           last_event_id = events.last_id, events_hash = events.hash, prev_hash = head.last_hash,
           link_hash = link, sealed_at = clock_timestamp()
     WHERE txid = NEW.txid;
    UPDATE {{state_table}} SET last_seq = head.last_seq + 1, last_hash = link;
    PERFORM set_config({{sealed_setting}}, 'sealed', true);
    RETURN NULL;
END
$auditrum$;

DROP TRIGGER IF EXISTS {{mark_trigger}} ON {{audit_table}};
CREATE TRIGGER {{mark_trigger}} AFTER INSERT ON {{audit_table}}
    FOR EACH STATEMENT EXECUTE FUNCTION {{mark_function}}();
DROP TRIGGER IF EXISTS {{seal_trigger}} ON {{chain_table}};
CREATE CONSTRAINT TRIGGER {{seal_trigger}} AFTER INSERT ON {{chain_table}}
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION {{seal_function}}();
