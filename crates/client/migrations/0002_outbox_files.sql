-- Issue 17: the bytes of the files a reply in the outbox carries, kept with it until the server
-- has the reply (a photo written offline goes out with it on reconnect).
CREATE TABLE outbox_files (
    client_id TEXT NOT NULL,
    position  INTEGER NOT NULL,
    bytes     BLOB NOT NULL,
    PRIMARY KEY (client_id, position)
);
