-- Issue 17: files staff upload (`POST /api/v1/media`) and customers upload on the portal are
-- attachments before they belong to a message: `message_id` is null until a reply or a portal
-- message takes them. `uploaded_by` (a user) or `upload_customer` (a portal customer) says
-- whose they are, so nobody attaches another's upload.
ALTER TABLE attachments ALTER COLUMN message_id DROP NOT NULL;
ALTER TABLE attachments ADD COLUMN uploaded_by BIGINT REFERENCES users(id) ON DELETE CASCADE;
ALTER TABLE attachments ADD COLUMN upload_customer BIGINT REFERENCES customers(id) ON DELETE CASCADE;
CREATE INDEX attachments_unattached ON attachments(created_at) WHERE message_id IS NULL;
