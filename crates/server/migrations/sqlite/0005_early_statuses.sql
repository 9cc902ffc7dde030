-- A provider's status callback can arrive before the dispatcher has recorded the provider's id
-- for the message (the provider answers the send and calls back at once). Such statuses wait
-- here and are applied when the id is recorded, instead of being lost.
CREATE TABLE early_statuses (
    org_id       INTEGER NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    provider     TEXT NOT NULL,
    provider_id  TEXT NOT NULL,
    status       TEXT NOT NULL,
    error        TEXT,
    at           INTEGER NOT NULL,
    PRIMARY KEY (org_id, provider, provider_id, status)
);
