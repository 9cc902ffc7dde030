-- Issue 16 (AIA-1): each inbound message's intent as the classifier gave it, and the label a
-- staff member chose instead (kept apart, so the analytics can count the classifier's errors).
ALTER TABLE messages ADD COLUMN intent TEXT;
ALTER TABLE messages ADD COLUMN intent_confidence REAL;
ALTER TABLE messages ADD COLUMN intent_correction TEXT;
ALTER TABLE messages ADD COLUMN intent_corrected_by INTEGER REFERENCES users(id);
ALTER TABLE messages ADD COLUMN intent_corrected_at INTEGER;
-- Inbound messages stored before intents were: the server classifies them in the background at
-- start (`intent_backfill.rs`); this index holds only those still waiting.
CREATE INDEX messages_unclassified ON messages(id) WHERE intent IS NULL AND direction = 'inbound';

-- Issue 16 (SET-1): every organisation has an Owner role holding every capability, including
-- `settings.ai.manage`, so an upgraded garage always has someone who can turn AI on.
INSERT INTO roles (org_id, name)
    SELECT o.id, 'Owner' FROM organisations o
    WHERE NOT EXISTS (SELECT 1 FROM roles r WHERE r.org_id = o.id AND r.name = 'Owner');
INSERT OR IGNORE INTO role_capabilities (role_id, capability)
    SELECT r.id, c.capability FROM roles r,
        (SELECT 'messages.view' AS capability UNION ALL SELECT 'messages.send'
         UNION ALL SELECT 'messages.approve' UNION ALL SELECT 'settings.ai.manage') c
    WHERE r.name = 'Owner';
-- An organisation where no active user holds the Owner role gets one: its earliest active user
-- with `messages.approve`, or else its earliest user.
UPDATE users SET role_id = (SELECT r.id FROM roles r WHERE r.org_id = users.org_id AND r.name = 'Owner')
WHERE id IN (
    SELECT (SELECT u.id FROM users u
            LEFT JOIN role_capabilities rc
                   ON rc.role_id = u.role_id AND rc.capability = 'messages.approve'
            WHERE u.org_id = o.id
            ORDER BY u.active DESC, rc.capability IS NULL, u.created_at, u.id
            LIMIT 1)
    FROM organisations o
    WHERE NOT EXISTS (SELECT 1 FROM users u JOIN roles r ON r.id = u.role_id
                      WHERE u.org_id = o.id AND r.name = 'Owner' AND u.active)
);
