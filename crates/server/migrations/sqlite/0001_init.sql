-- Garage Inbox, SQLite schema v1. Times are INTEGER milliseconds since the Unix epoch, UTC.
-- Append-only: never edit a migration that has landed; add a new file.

CREATE TABLE organisations (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL,
    time_zone   TEXT NOT NULL DEFAULT 'Europe/London',
    ai_enabled  INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL
);

-- One row per organisation: how the providers know it (Twilio account, WhatsApp number id).
CREATE TABLE provider_settings (
    org_id                    INTEGER PRIMARY KEY REFERENCES organisations(id) ON DELETE CASCADE,
    twilio_account_sid        TEXT UNIQUE,
    twilio_auth_token         TEXT,
    whatsapp_phone_number_id  TEXT UNIQUE,
    whatsapp_access_token     TEXT
);

-- The organisation's own numbers (Twilio `To`), E.164.
CREATE TABLE org_numbers (
    e164    TEXT PRIMARY KEY,
    org_id  INTEGER NOT NULL REFERENCES organisations(id) ON DELETE CASCADE
);

CREATE TABLE roles (
    id      INTEGER PRIMARY KEY,
    org_id  INTEGER NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    name    TEXT NOT NULL,
    UNIQUE (org_id, name)
);

CREATE TABLE role_capabilities (
    role_id     INTEGER NOT NULL REFERENCES roles(id) ON DELETE CASCADE,
    capability  TEXT NOT NULL,
    PRIMARY KEY (role_id, capability)
);

CREATE TABLE users (
    id             INTEGER PRIMARY KEY,
    org_id         INTEGER NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    role_id        INTEGER NOT NULL REFERENCES roles(id),
    email          TEXT NOT NULL UNIQUE COLLATE NOCASE,
    name           TEXT NOT NULL,
    password_hash  TEXT NOT NULL,
    active         INTEGER NOT NULL DEFAULT 1,
    created_at     INTEGER NOT NULL
);
CREATE INDEX users_org ON users(org_id);

-- Opaque bearer tokens, stored as SHA-256 so a database leak does not leak sessions.
CREATE TABLE sessions (
    token_hash  BLOB PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);

CREATE TABLE customers (
    id          INTEGER PRIMARY KEY,
    org_id      INTEGER NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    email       TEXT,
    created_at  INTEGER NOT NULL
);
CREATE INDEX customers_org_name ON customers(org_id, name COLLATE NOCASE);

CREATE TABLE customer_phones (
    customer_id  INTEGER NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
    org_id       INTEGER NOT NULL,
    e164         TEXT NOT NULL,
    position     INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (customer_id, e164)
);
CREATE INDEX customer_phones_lookup ON customer_phones(org_id, e164);

CREATE TABLE work_orders (
    id                    INTEGER PRIMARY KEY,
    org_id                INTEGER NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    number                TEXT NOT NULL,
    status                TEXT NOT NULL CHECK (status IN ('active', 'closed')),
    vehicle_registration  TEXT NOT NULL,
    description           TEXT NOT NULL,
    customer_id           INTEGER NOT NULL REFERENCES customers(id),
    created_at            INTEGER NOT NULL,
    UNIQUE (org_id, number)
);
CREATE INDEX work_orders_customer ON work_orders(customer_id, status);

-- One conversation per customer; otherwise one per anonymous number; withheld callers get one each.
-- The columns after `work_order_id` are derived state kept in step by every write, so the list and
-- its counts never aggregate messages.
CREATE TABLE conversations (
    id                     INTEGER PRIMARY KEY,
    org_id                 INTEGER NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    customer_id            INTEGER REFERENCES customers(id),
    caller_number          TEXT,
    withheld               INTEGER NOT NULL DEFAULT 0,
    assignee_id            INTEGER REFERENCES users(id),
    work_order_id          INTEGER REFERENCES work_orders(id),
    context_badge          TEXT NOT NULL DEFAULT 'general',
    needs_work_order_pick  INTEGER NOT NULL DEFAULT 0,
    last_channel           TEXT NOT NULL,
    last_activity_at       INTEGER NOT NULL,
    preview                TEXT NOT NULL DEFAULT '',
    unread_count           INTEGER NOT NULL DEFAULT 0,
    unresolved_calls       INTEGER NOT NULL DEFAULT 0,
    last_inbound_whatsapp_at INTEGER,
    created_at             INTEGER NOT NULL
);
CREATE UNIQUE INDEX conversations_customer ON conversations(org_id, customer_id)
    WHERE customer_id IS NOT NULL;
CREATE UNIQUE INDEX conversations_caller ON conversations(org_id, caller_number)
    WHERE customer_id IS NULL AND withheld = 0;
-- Keyset paging and the four counts read only this index.
CREATE INDEX conversations_list ON conversations(
    org_id, last_activity_at DESC, id DESC, assignee_id, unread_count, unresolved_calls);

CREATE TABLE messages (
    id               INTEGER PRIMARY KEY,
    org_id           INTEGER NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    conversation_id  INTEGER NOT NULL REFERENCES conversations(id),
    direction        TEXT NOT NULL CHECK (direction IN ('inbound', 'outbound')),
    channel          TEXT NOT NULL,
    body             TEXT NOT NULL,
    template_name    TEXT,
    template_params  TEXT,
    status           TEXT NOT NULL,
    author_id        INTEGER REFERENCES users(id),
    sender_name      TEXT NOT NULL,
    provider         TEXT,
    provider_id      TEXT,
    client_id        TEXT,
    error            TEXT,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    read_at          INTEGER
);
CREATE INDEX messages_thread ON messages(conversation_id, created_at, id);
CREATE UNIQUE INDEX messages_provider_id ON messages(provider, provider_id)
    WHERE provider_id IS NOT NULL;
CREATE UNIQUE INDEX messages_client_id ON messages(org_id, client_id) WHERE client_id IS NOT NULL;
CREATE INDEX messages_approval ON messages(org_id, created_at) WHERE status = 'pending_approval';

CREATE TABLE calls (
    id                INTEGER PRIMARY KEY,
    org_id            INTEGER NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    conversation_id   INTEGER NOT NULL REFERENCES conversations(id),
    direction         TEXT NOT NULL,
    outcome           TEXT NOT NULL,
    from_number       TEXT,
    provider_call_id  TEXT UNIQUE,
    duration_secs     INTEGER NOT NULL DEFAULT 0,
    recording_url     TEXT,
    recording_secs    INTEGER,
    transcript        TEXT,
    resolved          INTEGER NOT NULL DEFAULT 0,
    started_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL
);
CREATE INDEX calls_thread ON calls(conversation_id, started_at, id);

CREATE TABLE notes (
    id               INTEGER PRIMARY KEY,
    org_id           INTEGER NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    conversation_id  INTEGER NOT NULL REFERENCES conversations(id),
    kind             TEXT NOT NULL CHECK (kind IN ('note', 'system')),
    body             TEXT NOT NULL,
    author_id        INTEGER REFERENCES users(id),
    created_at       INTEGER NOT NULL
);
CREATE INDEX notes_thread ON notes(conversation_id, created_at, id);

-- One row per message, status change, note or call event: "any activity in range" (LST-9) is an
-- index probe on (conversation_id, at).
CREATE TABLE activity (
    id               INTEGER PRIMARY KEY,
    org_id           INTEGER NOT NULL,
    conversation_id  INTEGER NOT NULL REFERENCES conversations(id),
    at               INTEGER NOT NULL,
    kind             TEXT NOT NULL,
    ref_id           INTEGER NOT NULL
);
CREATE INDEX activity_conversation_at ON activity(conversation_id, at);

CREATE TABLE audit_log (
    id            INTEGER PRIMARY KEY,
    org_id        INTEGER NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    user_id       INTEGER REFERENCES users(id),
    action        TEXT NOT NULL,
    subject_type  TEXT NOT NULL,
    subject_id    INTEGER NOT NULL,
    detail        TEXT NOT NULL DEFAULT '{}',
    at            INTEGER NOT NULL
);
CREATE INDEX audit_log_subject ON audit_log(org_id, subject_type, subject_id);

CREATE TABLE quick_messages (
    id          INTEGER PRIMARY KEY,
    org_id      INTEGER NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    body        TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    UNIQUE (org_id, name)
);

CREATE TABLE whatsapp_templates (
    id           INTEGER PRIMARY KEY,
    org_id       INTEGER NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    language     TEXT NOT NULL,
    body         TEXT NOT NULL,
    param_count  INTEGER NOT NULL,
    UNIQUE (org_id, name, language)
);

-- Outbound messages waiting for the sender worker.
CREATE TABLE outbound_queue (
    message_id       INTEGER PRIMARY KEY REFERENCES messages(id),
    org_id           INTEGER NOT NULL,
    enqueued_at      INTEGER NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  INTEGER NOT NULL
);
CREATE INDEX outbound_queue_due ON outbound_queue(next_attempt_at);

-- Search (LST-2): one row per message text, call transcript and conversation title (customer
-- name and phone digits). rowid = source id * 4 + kind (0 message, 1 call, 2 title) so a row can
-- be found again when a call moves to another conversation.
CREATE VIRTUAL TABLE search_fts USING fts5(
    text, org_id UNINDEXED, conversation_id UNINDEXED,
    tokenize = 'unicode61 remove_diacritics 2'
);
