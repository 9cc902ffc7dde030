-- Issue 16 (AIA-1): the Analytics tab's daily counters, kept on every write.
-- Opening hours (JSON, NULL = the default week) measure response times in business time;
-- `analytics_version` below the server's means the counters are rebuilt from history at start.
ALTER TABLE organisations ADD COLUMN opening_hours TEXT;
ALTER TABLE organisations ADD COLUMN analytics_version BIGINT NOT NULL DEFAULT 0;
-- What the counting rules remember between writes: the customer's first unanswered message
-- (which also puts the conversation in "waiting now") and the first missed call not called back.
ALTER TABLE conversations ADD COLUMN awaiting_since BIGINT;
ALTER TABLE conversations ADD COLUMN missed_call_at BIGINT;
CREATE INDEX conversations_waiting ON conversations(org_id, awaiting_since)
    WHERE awaiting_since IS NOT NULL;
-- `day`: days since 1970-01-01 in the organisation's time zone. One range of the key per metric,
-- so each figure reads only its own rows.
CREATE TABLE analytics_daily (
    org_id  BIGINT NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    metric  TEXT NOT NULL,
    day     BIGINT NOT NULL,
    key     TEXT NOT NULL,
    n       BIGINT NOT NULL,
    PRIMARY KEY (org_id, metric, day, key)
);
