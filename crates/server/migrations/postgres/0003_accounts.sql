-- Issue 13, accounts: sessions end after an idle period and portal tokens can be revoked. (On
-- PostgreSQL, ended sessions reach every instance through NOTIFY `inbox_sessions`.)

-- When each session was last used. Sessions that exist at upgrade count as used now.
ALTER TABLE sessions ADD COLUMN last_seen_at BIGINT NOT NULL DEFAULT 0;
UPDATE sessions SET last_seen_at = (extract(epoch FROM now()) * 1000)::bigint;

-- A revoked portal token answers 401 "revoked" instead of working until it expires.
ALTER TABLE portal_tokens ADD COLUMN revoked_at BIGINT;
CREATE INDEX portal_tokens_customer ON portal_tokens(org_id, customer_id);
