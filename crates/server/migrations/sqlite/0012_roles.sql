-- Issue 16 (SET-1, ACC-2): system roles (Owner, Manager, Service Advisor, Technician) are
-- read-only; the server gives every organisation all four when it opens the database.
ALTER TABLE roles ADD COLUMN system INTEGER NOT NULL DEFAULT 0;
-- Quick messages and templates were administered by approvers; that is now its own capability,
-- given to every role that could do it, so nobody loses anything.
INSERT OR IGNORE INTO role_capabilities (role_id, capability)
    SELECT role_id, 'settings.templates.manage' FROM role_capabilities
    WHERE capability = 'messages.approve';
