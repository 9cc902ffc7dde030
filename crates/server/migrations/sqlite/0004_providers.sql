-- Channel providers (issue 5).

-- Customer-portal sessions: a bearer token per signed-in customer, stored as SHA-256.
CREATE TABLE portal_tokens (
    token_hash   BLOB PRIMARY KEY,
    org_id       INTEGER NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    customer_id  INTEGER NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    created_at   INTEGER NOT NULL
);

-- Twilio numbers its call progress callbacks (SequenceNumber); an older one arriving late must
-- not undo a newer one.
ALTER TABLE calls ADD COLUMN provider_sequence INTEGER;

-- Why the last send attempt failed, for the log and the retry decision.
ALTER TABLE outbound_queue ADD COLUMN last_error TEXT;

-- The garage's own phone that inbound calls ring before voicemail; NULL = straight to voicemail.
ALTER TABLE provider_settings ADD COLUMN voice_forward_to TEXT;
