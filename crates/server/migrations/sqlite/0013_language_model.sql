-- Issue 16 (AIA-1): an organisation's optional language model, an OpenAI-compatible
-- chat-completions endpoint. The key is sealed like the provider secrets (`v2:`, bound to the
-- organisation and column). The model sees only what arrives after it is configured or AI is
-- turned on: `floor` is the newest message id then (nothing at or below it is ever sent), the
-- cursor the newest it has been given (or skipped), `since` when it was set.
ALTER TABLE provider_settings ADD COLUMN ai_model_url TEXT;
ALTER TABLE provider_settings ADD COLUMN ai_model_name TEXT;
ALTER TABLE provider_settings ADD COLUMN ai_model_key TEXT;
ALTER TABLE provider_settings ADD COLUMN ai_model_floor INTEGER NOT NULL DEFAULT 0;
ALTER TABLE provider_settings ADD COLUMN ai_model_cursor INTEGER NOT NULL DEFAULT 0;
ALTER TABLE provider_settings ADD COLUMN ai_model_since INTEGER NOT NULL DEFAULT 0;
-- A voicemail's transcript summarised (or found too old to be): 1. Existing ones count as done.
ALTER TABLE calls ADD COLUMN summarised INTEGER NOT NULL DEFAULT 0;
UPDATE calls SET summarised = 1 WHERE transcript IS NOT NULL;
CREATE INDEX calls_to_summarise ON calls(org_id, started_at)
    WHERE summarised = 0 AND transcript IS NOT NULL;
-- The newest message a thread summary has read (claimed before the model is asked): the next
-- one is written a long stretch later.
ALTER TABLE conversations ADD COLUMN summarised_through INTEGER NOT NULL DEFAULT 0;
