-- Issue 17: photos, documents and voice notes on messages. An attachment row is the source of
-- truth; `messages.attachments` holds the same as the JSON a message carries on the wire,
-- rewritten in the transaction that changes a row, so reading a message needs no join.
-- Provider files are downloaded after the webhook is answered: a pending row is a queue entry
-- (`next_attempt_at`), claimed for a while and retried with backoff. Files are stored by their
-- SHA-256 (`sha256`), one copy per identical file.
CREATE TABLE attachments (
    id               INTEGER PRIMARY KEY,
    org_id           INTEGER NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    message_id       INTEGER NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    position         INTEGER NOT NULL,
    content_type     TEXT NOT NULL,
    file_name        TEXT NOT NULL,
    size             INTEGER NOT NULL DEFAULT 0,
    status           TEXT NOT NULL CHECK (status IN ('pending', 'ready', 'failed')),
    error            TEXT,
    -- 'twilio' (a media URL) or 'whatsapp' (a Graph API media id).
    source           TEXT NOT NULL,
    source_ref       TEXT NOT NULL,
    sha256           TEXT,
    has_thumbnail    INTEGER NOT NULL DEFAULT 0,
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  INTEGER,
    created_at       INTEGER NOT NULL
);
CREATE INDEX attachments_message ON attachments(message_id, position);
CREATE INDEX attachments_due ON attachments(next_attempt_at) WHERE status = 'pending';
CREATE INDEX attachments_blob ON attachments(sha256) WHERE sha256 IS NOT NULL;
ALTER TABLE messages ADD COLUMN attachments TEXT NOT NULL DEFAULT '[]';
