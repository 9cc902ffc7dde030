-- Garage Inbox desktop cache, schema v1. Times are INTEGER milliseconds since the Unix epoch, UTC.
-- Append-only: never edit a migration that has landed; add a new file (and list it in
-- src/cache/schema.rs).
--
-- Every synced row keeps the exact wire struct as JSON in `data` (reads return what went in) and
-- copies into columns only what the list, counts, thread paging and search need.

-- Sync bookkeeping: `cursor` (the last applied event seq; NULL = never synced, needs a snapshot)
-- and `next_doc` (the last search document number handed out).
CREATE TABLE meta (
    key    TEXT PRIMARY KEY,
    value  INTEGER
) WITHOUT ROWID;
INSERT INTO meta (key, value) VALUES ('cursor', NULL), ('next_doc', 0);

-- The desktop's own preferences (remembered range, banner dismissed …): never synced.
CREATE TABLE settings (
    key    TEXT PRIMARY KEY,
    value  TEXT NOT NULL
) WITHOUT ROWID;

-- One row per conversation (LST-10), from `conversation` events and snapshots.
CREATE TABLE conversations (
    id                INTEGER PRIMARY KEY,
    last_activity_at  INTEGER NOT NULL,
    unread_count      INTEGER NOT NULL,
    unresolved_calls  INTEGER NOT NULL,
    assignee_id       INTEGER,
    customer_id       INTEGER,
    title             TEXT NOT NULL,
    caller_number     TEXT,
    -- What the title search document holds: the name and every number in its digit forms.
    search_text       TEXT NOT NULL,
    data              TEXT NOT NULL
);
-- Keyset paging, the filters and the range counts read only this index (LST-4, LST-11). Every
-- event moves a row's last_activity_at, so each further index on it costs a page write per event;
-- the all-time counts come from `conversation_counts` instead.
CREATE INDEX conversations_list ON conversations(
    last_activity_at, id, assignee_id, unread_count, unresolved_calls);
-- A customer's numbers change their conversations' search text (rare; the row update leaves the
-- column alone unless the title changes).
CREATE INDEX conversations_customer ON conversations(customer_id) WHERE customer_id IS NOT NULL;

-- The all-time counts (LST-4) per assignee (assignee_key -1: unassigned), kept exact by triggers
-- so "All time" reads a handful of rows instead of every conversation.
CREATE TABLE conversation_counts (
    assignee_key  INTEGER PRIMARY KEY,
    total         INTEGER NOT NULL,
    unread        INTEGER NOT NULL
);
CREATE TRIGGER conversations_counted AFTER INSERT ON conversations BEGIN
    INSERT INTO conversation_counts (assignee_key, total, unread)
    VALUES (coalesce(NEW.assignee_id, -1), 1, NEW.unread_count > 0 OR NEW.unresolved_calls > 0)
    ON CONFLICT (assignee_key) DO UPDATE
        SET total = total + 1, unread = unread + excluded.unread;
END;
CREATE TRIGGER conversations_uncounted AFTER DELETE ON conversations BEGIN
    UPDATE conversation_counts
    SET total = total - 1, unread = unread - (OLD.unread_count > 0 OR OLD.unresolved_calls > 0)
    WHERE assignee_key = coalesce(OLD.assignee_id, -1);
END;
CREATE TRIGGER conversations_recounted
AFTER UPDATE OF assignee_id, unread_count, unresolved_calls ON conversations
WHEN coalesce(OLD.assignee_id, -1) <> coalesce(NEW.assignee_id, -1)
    OR (OLD.unread_count > 0 OR OLD.unresolved_calls > 0)
        <> (NEW.unread_count > 0 OR NEW.unresolved_calls > 0)
BEGIN
    UPDATE conversation_counts
    SET total = total - 1, unread = unread - (OLD.unread_count > 0 OR OLD.unresolved_calls > 0)
    WHERE assignee_key = coalesce(OLD.assignee_id, -1);
    INSERT INTO conversation_counts (assignee_key, total, unread)
    VALUES (coalesce(NEW.assignee_id, -1), 1, NEW.unread_count > 0 OR NEW.unresolved_calls > 0)
    ON CONFLICT (assignee_key) DO UPDATE
        SET total = total + 1, unread = unread + excluded.unread;
END;

-- Threads. `doc` is the search document number of a message's body or a call's transcript: its
-- search rowid is conversation_id << 32 | doc. No per-thread indexes: `activity` below orders
-- every thread, so a new message costs one random index write there and none here.
CREATE TABLE messages (
    id               INTEGER PRIMARY KEY,
    conversation_id  INTEGER NOT NULL,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    inbound          INTEGER NOT NULL,
    read_at          INTEGER,
    doc              INTEGER NOT NULL,
    data             TEXT NOT NULL
);

CREATE TABLE calls (
    id               INTEGER PRIMARY KEY,
    conversation_id  INTEGER NOT NULL,
    started_at       INTEGER NOT NULL,
    doc              INTEGER NOT NULL,
    data             TEXT NOT NULL
);

CREATE TABLE notes (
    id               INTEGER PRIMARY KEY,
    conversation_id  INTEGER NOT NULL,
    created_at       INTEGER NOT NULL,
    data             TEXT NOT NULL
);

-- Everything the cache knows happened on a conversation, for "any activity in range" (LST-9) and
-- as the thread's order (THR-4, THR-6): kind 0 a message was created, 1 a call started, 2 a note
-- was written — the server's thread order at one instant — then 3 a conversation row's
-- last_activity_at and 4 a message's status change (its updated_at).
CREATE TABLE activity (
    conversation_id  INTEGER NOT NULL,
    at               INTEGER NOT NULL,
    kind             INTEGER NOT NULL,
    ref_id           INTEGER NOT NULL,
    PRIMARY KEY (conversation_id, at, kind, ref_id)
) WITHOUT ROWID;

-- `phone_forms`: the customer's numbers as the search index holds them.
CREATE TABLE customers (
    id           INTEGER PRIMARY KEY,
    phone_forms  TEXT NOT NULL,
    data         TEXT NOT NULL
);

CREATE TABLE work_orders (
    id    INTEGER PRIMARY KEY,
    data  TEXT NOT NULL
);

CREATE TABLE quick_messages (
    id    INTEGER PRIMARY KEY,
    name  TEXT NOT NULL,
    data  TEXT NOT NULL
);

CREATE TABLE templates (
    id        INTEGER PRIMARY KEY,
    name      TEXT NOT NULL,
    language  TEXT NOT NULL,
    data      TEXT NOT NULL
);

CREATE TABLE staff (
    id    INTEGER PRIMARY KEY,
    name  TEXT NOT NULL,
    data  TEXT NOT NULL
);

-- Replies written on this desktop and not yet replaced by the server's copy (DSK-5).
CREATE TABLE outbox (
    n                INTEGER PRIMARY KEY,
    client_id        TEXT NOT NULL UNIQUE,
    conversation_id  INTEGER NOT NULL,
    created_at       INTEGER NOT NULL,
    queued           INTEGER NOT NULL,
    data             TEXT NOT NULL
);
CREATE INDEX outbox_conversation ON outbox(conversation_id, created_at);

-- Search (LST-2): one document per conversation title (doc 0), message body and call transcript,
-- keyed conversation_id << 32 | doc so a match names its conversation without reading a row.
-- External content over the rows above (no second copy of the text, no per-document size table);
-- documents are removed with the 'delete' command and their exact old text, and the view lists
-- them in key order so a 'rebuild' writes the index in one pass.
CREATE VIEW search_source (key, text) AS
    SELECT key, text FROM (
        SELECT id << 32 AS key, search_text AS text FROM conversations
        UNION ALL SELECT conversation_id << 32 | doc, data ->> '$.body' FROM messages
        UNION ALL SELECT conversation_id << 32 | doc, data ->> '$.transcript' FROM calls
    )
    WHERE trim(coalesce(text, '')) <> ''
    ORDER BY key;

CREATE VIRTUAL TABLE search USING fts5(
    text, content = 'search_source', content_rowid = 'key', columnsize = 0,
    tokenize = 'unicode61 remove_diacritics 2'
);
