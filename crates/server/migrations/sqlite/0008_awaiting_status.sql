-- Issue 13: replies the provider took whose status callbacks may have been lost are looked up;
-- they are found without reading every message.
CREATE INDEX messages_awaiting_status ON messages(provider, updated_at)
    WHERE status = 'pending' AND direction = 'outbound' AND provider_id IS NOT NULL;
