-- Issue 13, accounts: sessions end after an idle period, portal tokens can be revoked, and other
-- processes (the CLI) tell running servers whose sessions they ended.

-- When each session was last used. Sessions that exist at upgrade count as used now.
ALTER TABLE sessions ADD COLUMN last_seen_at INTEGER NOT NULL DEFAULT 0;
UPDATE sessions SET last_seen_at = CAST(strftime('%s', 'now') AS INTEGER) * 1000;

-- A revoked portal token answers 401 "revoked" instead of working until it expires.
ALTER TABLE portal_tokens ADD COLUMN revoked_at INTEGER;
CREATE INDEX portal_tokens_customer ON portal_tokens(org_id, customer_id);

-- Users whose sessions an administrator ended (revoke-sessions, disable, set-password). Every
-- server polls this small log and closes those users' sync sockets at once; rows older than a
-- day are pruned as new ones are written.
CREATE TABLE session_ends (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id  INTEGER NOT NULL,
    at       INTEGER NOT NULL
);
