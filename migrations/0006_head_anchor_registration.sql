-- The head anchor's registration (issue 10, server/store/anchor-registration.ts). The head
-- anchor `<db>.head` keeps the history head outside the database, so that a rolled-back or
-- truncated database is refused at start-up. Deleting the anchor file as well used to hide
-- such a truncation: a database without an anchor looked like a new one. This row records, in
-- the database, that an anchor was written, where, and its identity (a random id also written
-- into the anchor file): a registered database whose anchor is missing or foreign refuses to
-- start until the operator re-anchors it (`--reanchor <reason>`), a recorded act.
--
-- The migration inserts the row unregistered (anchor_id NULL): the first start after it
-- registers the anchor it finds or creates. A missing row is therefore a deleted one.
-- Forward-only: a shipped migration is never edited.
CREATE TABLE head_anchor (
  singleton        INTEGER NOT NULL CONSTRAINT head_anchor_pk PRIMARY KEY
                           CONSTRAINT head_anchor_singleton_check CHECK (singleton = 1),
  -- The anchor file's id (32 hex digits); NULL until the first start registers one.
  anchor_id        TEXT,
  -- The anchor file's absolute path when it was registered.
  anchor_path      TEXT,
  -- The database's revision when this anchor was registered (after a re-anchoring, its record).
  since_revision   INTEGER,
  registered_at_ms INTEGER
) STRICT;
INSERT INTO head_anchor (singleton) VALUES (1);
