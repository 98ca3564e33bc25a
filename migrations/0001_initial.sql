-- The registry's first schema. Forward-only: a shipped migration is never edited.
-- Times are milliseconds since the epoch; revisions are the registry-wide write counter.

-- One row per registry revision: when it was committed and by whom. Time never goes
-- backwards from one revision to the next, so a time range is a revision range: history
-- filters by time and actor through this small table instead of indexing every entry.
CREATE TABLE revisions (
  revision INTEGER NOT NULL CONSTRAINT revisions_pk PRIMARY KEY,
  time_ms  INTEGER NOT NULL,
  actor    TEXT    NOT NULL
) STRICT;
CREATE INDEX revisions_by_time ON revisions (time_ms, revision);
CREATE INDEX revisions_by_actor ON revisions (actor, revision);

-- SQLite is the registry's durable copy and its history. The current state is also held in
-- memory, indexed there for lookups, lists and FindTargets (server/core/registry.ts), so the
-- tables here carry only the indexes that loading and history need.

-- Descriptors are interned: a fleet holds few distinct ones (hosts of one class share
-- drivers and firmware), so devices reference them by id. Rows are never changed or
-- removed, so history can always resolve the descriptor a past device had.
CREATE TABLE descriptors (
  descriptor_id    INTEGER NOT NULL CONSTRAINT descriptors_pk PRIMARY KEY,
  descriptor_key   TEXT    NOT NULL CONSTRAINT descriptors_key_unique UNIQUE,
  vendor           TEXT    NOT NULL,
  device_api       TEXT    NOT NULL,
  type             TEXT    NOT NULL,
  software_version TEXT    NOT NULL
) STRICT;
CREATE INDEX descriptors_by_vendor_type_version ON descriptors (vendor, device_api, type, software_version);
CREATE INDEX descriptors_by_type ON descriptors (type);

CREATE TABLE hosts (
  host_id           TEXT    NOT NULL CONSTRAINT hosts_pk PRIMARY KEY,
  labels            TEXT    NOT NULL,
  revision          INTEGER NOT NULL,
  create_revision   INTEGER NOT NULL,
  create_time_ms    INTEGER NOT NULL,
  update_time_ms    INTEGER NOT NULL,
  last_sync_time_ms INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE TABLE devices (
  host_id            TEXT    NOT NULL CONSTRAINT devices_host_fk REFERENCES hosts (host_id),
  device_id          TEXT    NOT NULL,
  descriptor_id      INTEGER NOT NULL CONSTRAINT devices_descriptor_fk REFERENCES descriptors (descriptor_id),
  capacity_total     INTEGER,
  capacity_available INTEGER,
  labels             TEXT    NOT NULL,
  revision           INTEGER NOT NULL,
  create_revision    INTEGER NOT NULL,
  create_time_ms     INTEGER NOT NULL,
  update_time_ms     INTEGER NOT NULL,
  CONSTRAINT devices_pk PRIMARY KEY (host_id, device_id),
  CONSTRAINT devices_capacity_check CHECK (
    (capacity_total IS NULL AND capacity_available IS NULL)
    OR (capacity_available BETWEEN 0 AND capacity_total))
) STRICT, WITHOUT ROWID;

-- Every change to every resource, with the resource before and after (JSON snapshots
-- that reference descriptors by id), so that "what did the registry hold at revision R"
-- is the latest entry at or before R for each resource.
CREATE TABLE history (
  revision  INTEGER NOT NULL CONSTRAINT history_revision_fk REFERENCES revisions (revision),
  seq       INTEGER NOT NULL,
  time_ms   INTEGER NOT NULL,
  host_id   TEXT    NOT NULL,
  device_id TEXT    NOT NULL, -- '' for the host itself
  change    TEXT    NOT NULL CONSTRAINT history_change_check CHECK (change IN ('CREATED', 'UPDATED', 'DELETED')),
  actor     TEXT    NOT NULL,
  before    TEXT,
  after     TEXT,
  CONSTRAINT history_pk PRIMARY KEY (revision, seq)
) STRICT, WITHOUT ROWID;
CREATE INDEX history_by_resource ON history (host_id, device_id, revision);
