-- Issue 16 (AIA-1): an organisation's optional language model, an OpenAI-compatible
-- chat-completions endpoint. The key is sealed like the provider secrets (`v2:`, bound to the
-- organisation and column). The model sees only what arrives after it is configured or AI is
-- turned on: `floor` is the newest message id then (nothing at or below it is ever sent), the
-- cursor the newest it has been given (or skipped), `since` when it was set.
ALTER TABLE provider_settings ADD COLUMN ai_model_url TEXT;
ALTER TABLE provider_settings ADD COLUMN ai_model_name TEXT;
ALTER TABLE provider_settings ADD COLUMN ai_model_key TEXT;
ALTER TABLE provider_settings ADD COLUMN ai_model_floor BIGINT NOT NULL DEFAULT 0;
ALTER TABLE provider_settings ADD COLUMN ai_model_cursor BIGINT NOT NULL DEFAULT 0;
ALTER TABLE provider_settings ADD COLUMN ai_model_since BIGINT NOT NULL DEFAULT 0;
-- A voicemail's transcript summarised (or found too old to be). Existing ones count as done.
ALTER TABLE calls ADD COLUMN summarised BOOLEAN NOT NULL DEFAULT false;
UPDATE calls SET summarised = true WHERE transcript IS NOT NULL;
CREATE INDEX calls_to_summarise ON calls(org_id, started_at)
    WHERE NOT summarised AND transcript IS NOT NULL;
-- The newest message a thread summary has read (claimed before the model is asked): the next
-- one is written a long stretch later.
ALTER TABLE conversations ADD COLUMN summarised_through BIGINT NOT NULL DEFAULT 0;
