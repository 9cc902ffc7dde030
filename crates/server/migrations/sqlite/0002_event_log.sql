-- The per-organisation change log that desktop clients sync from (issue 4).
-- `event_seq` is the newest sequence number handed out; `event_floor` the smallest cursor the
-- log can still serve (raised by pruning, and set to 1 by a bulk import whose rows are not in
-- the log, so that a client with nothing must take a snapshot).
ALTER TABLE organisations ADD COLUMN event_seq INTEGER NOT NULL DEFAULT 0;
ALTER TABLE organisations ADD COLUMN event_floor INTEGER NOT NULL DEFAULT 0;

CREATE TABLE events (
    org_id  INTEGER NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    seq     INTEGER NOT NULL,
    type    TEXT NOT NULL,
    data    TEXT NOT NULL,
    at      INTEGER NOT NULL,
    PRIMARY KEY (org_id, seq)
) WITHOUT ROWID;
CREATE INDEX events_at ON events(at);

-- Provider ids are deduplicated per organisation (a portal id is only unique within one).
DROP INDEX messages_provider_id;
CREATE UNIQUE INDEX messages_provider_id ON messages(org_id, provider, provider_id)
    WHERE provider_id IS NOT NULL;
