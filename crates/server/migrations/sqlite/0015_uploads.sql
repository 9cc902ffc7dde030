-- Issue 17: files staff upload (`POST /api/v1/media`) and customers upload on the portal are
-- attachments before they belong to a message: `message_id` is null until a reply or a portal
-- message takes them. `uploaded_by` (a user) or `upload_customer` (a portal customer) says
-- whose they are, so nobody attaches another's upload. SQLite cannot drop a NOT NULL, so the
-- table is built again (nothing references it), with ids that are never reused: an upload can be
-- forgotten, and a desktop's stale id must never name someone's newer file (as on PostgreSQL).
CREATE TABLE attachments_new (
    id                  INTEGER PRIMARY KEY AUTOINCREMENT,
    org_id              INTEGER NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    message_id          INTEGER REFERENCES messages(id) ON DELETE CASCADE,
    position            INTEGER NOT NULL,
    content_type        TEXT NOT NULL,
    file_name           TEXT NOT NULL,
    size                INTEGER NOT NULL DEFAULT 0,
    status              TEXT NOT NULL CHECK (status IN ('pending', 'ready', 'failed')),
    error               TEXT,
    -- 'twilio' (a media URL), 'whatsapp' (a Graph API media id) or 'upload'.
    source              TEXT NOT NULL,
    source_ref          TEXT NOT NULL,
    sha256              TEXT,
    has_thumbnail       INTEGER NOT NULL DEFAULT 0,
    attempts            INTEGER NOT NULL DEFAULT 0,
    next_attempt_at     INTEGER,
    created_at          INTEGER NOT NULL,
    uploaded_by         INTEGER REFERENCES users(id) ON DELETE CASCADE,
    upload_customer     INTEGER REFERENCES customers(id) ON DELETE CASCADE
);
INSERT INTO attachments_new (id, org_id, message_id, position, content_type, file_name, size, status,
                             error, source, source_ref, sha256, has_thumbnail, attempts,
                             next_attempt_at, created_at)
SELECT id, org_id, message_id, position, content_type, file_name, size, status, error, source,
       source_ref, sha256, has_thumbnail, attempts, next_attempt_at, created_at
FROM attachments;
DROP TABLE attachments;
ALTER TABLE attachments_new RENAME TO attachments;
CREATE INDEX attachments_message ON attachments(message_id, position);
CREATE INDEX attachments_due ON attachments(next_attempt_at) WHERE status = 'pending';
CREATE INDEX attachments_blob ON attachments(sha256) WHERE sha256 IS NOT NULL;
CREATE INDEX attachments_unattached ON attachments(created_at) WHERE message_id IS NULL;
