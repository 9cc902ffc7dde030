-- Issue 15: the store's SQL is now one text for SQLite and PostgreSQL, which spells a false flag
-- `NOT withheld` rather than `withheld = 0`. SQLite uses a partial index only when the query
-- states the index's own condition, so these two take PostgreSQL's spelling too.
DROP INDEX conversations_caller;
CREATE UNIQUE INDEX conversations_caller ON conversations(org_id, caller_number)
    WHERE customer_id IS NULL AND NOT withheld;
DROP INDEX calls_to_summarise;
CREATE INDEX calls_to_summarise ON calls(org_id, started_at)
    WHERE NOT summarised AND transcript IS NOT NULL;
