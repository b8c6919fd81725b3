-- auditrum core schema 2 → 3. Runs before the core SQL of version 3 is run again.
--
-- Version 3 stores the context of a statement that wrote one row on its event (the new
-- column `context`; readers take `COALESCE(e.context, c.context)`), with partial indexes
-- on its `request_id` and `user_id`, which the core SQL creates. Events written before keep
-- their context rows and read as before. The column is added here because `CREATE TABLE IF
-- NOT EXISTS` leaves an existing table as it is; added to the partitioned table, it
-- reaches every partition, at the end of the row as in a new install.
ALTER TABLE {{audit_table}} ADD COLUMN IF NOT EXISTS context jsonb;
