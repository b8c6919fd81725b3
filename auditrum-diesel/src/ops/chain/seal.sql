-- Seals every committed transaction not sealed yet, in transaction-id order, with payload
-- version 2 and a random seed per link; returns how many links it made. A running
-- transaction's events are invisible here: it is sealed by a later run, after it commits. Below `sealed_below_txid` (the oldest transaction running
-- at the previous run) every transaction had ended and is sealed, so each run looks only at
-- the events of transactions at or above it (through the txid index). One sealer at a time
-- (the head's row lock).
-- Plans are made for each run's horizon (plan_cache_mode): a generic plan cannot see that
-- the txid range is small and may read the whole log.
CREATE OR REPLACE FUNCTION {{seal_function}}() RETURNS integer
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
SET plan_cache_mode = force_custom_plan
AS $auditrum$
DECLARE
    horizon bigint := pg_snapshot_xmin(pg_current_snapshot())::text::bigint;
    head record;
    events record;
    link text;
    sealed integer := 0;
BEGIN
    SELECT * INTO head FROM {{state_table}} FOR UPDATE;
    IF NOT FOUND THEN
        -- Deleted: the head and the anchor are unknown, so no link can be made. Only
        -- `verify-chain` (which names it) and a restore can tell what happened.
        RAISE EXCEPTION 'auditrum: the hash chain state row of % is missing (deleted?): nothing is sealed until it is restored; run `auditrum-diesel verify-chain`', {{state_table_literal}}
            USING ERRCODE = 'no_data_found';
    END IF;
    FOR events IN
        WITH todo AS MATERIALIZED (
            SELECT t.txid, gen_random_uuid() AS seed FROM (
                SELECT DISTINCT e.txid FROM {{audit_table}} e
                 WHERE e.txid >= head.sealed_below_txid AND e.id > head.chained_after_id
                EXCEPT
                SELECT l.txid FROM {{chain_table}} l WHERE l.txid >= head.sealed_below_txid
            ) t
        )
        SELECT e.txid, todo.seed, count(*)::integer AS n, min(e.id) AS first_id, max(e.id) AS last_id,
               min(e.changed_at) AS started_at,
               {{events_hash}} AS hash
          FROM todo JOIN {{audit_table}} e ON e.txid = todo.txid
          LEFT JOIN {{context_table}} c ON c.id = e.context_id
         GROUP BY e.txid, todo.seed
         ORDER BY e.txid
    LOOP
        head.last_seq := head.last_seq + 1;
        link := {{link_hash}};
        INSERT INTO {{chain_table}} (seq, txid, event_count, first_event_id, last_event_id, events_hash, prev_hash, link_hash, started_at, payload_version, seed)
        VALUES (head.last_seq, events.txid, events.n, events.first_id, events.last_id, events.hash, head.last_hash, link, events.started_at, 2, events.seed);
        head.last_hash := link;
        sealed := sealed + 1;
    END LOOP;
    UPDATE {{state_table}}
       SET last_seq = head.last_seq, last_hash = head.last_hash,
           sealed_below_txid = greatest(head.sealed_below_txid, horizon);
    RETURN sealed;
END
$auditrum$;
