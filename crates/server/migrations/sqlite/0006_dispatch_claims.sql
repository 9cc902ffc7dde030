-- Issue 13: each reply is handed to its provider once. Every claim of a queued reply bumps
-- `claim`, the fencing token its result must carry to be recorded; `sending_at` is set, durably,
-- just before the provider is called, so a claim that runs out while sending is never sent
-- again: the message becomes `unknown` instead.
ALTER TABLE outbound_queue ADD COLUMN claim INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outbound_queue ADD COLUMN sending_at INTEGER;
