-- Issue 13: replies left `unknown` with no provider id (the provider's answer never came) are
-- reconciled against the provider's list of messages; they are found without reading every
-- message.
CREATE INDEX messages_unknown_unlinked ON messages(channel, updated_at)
    WHERE status = 'unknown' AND direction = 'outbound' AND provider_id IS NULL;
