-- The four list counts (LST-4) each read their own small index instead of summing over every
-- conversation in range: measured 12.6 ms → 4.3 ms for all-time counts at 100,000 conversations.
CREATE INDEX conversations_unread ON conversations(org_id, last_activity_at)
    WHERE unread_count > 0 OR unresolved_calls > 0;
CREATE INDEX conversations_unassigned ON conversations(org_id, last_activity_at)
    WHERE assignee_id IS NULL;
CREATE INDEX conversations_assignee ON conversations(org_id, assignee_id, last_activity_at);
