-- The registry's schema on PostgreSQL: the SQLite migrations 0001-0004 in one, plus the head
-- row that serializes writers. Forward-only: a shipped migration is never edited. Times are
-- milliseconds since the epoch; revisions the registry-wide write counter. Column names and
-- meanings are those of the SQLite schema (see migrations/0001..0004), so a registry copies
-- between the two stores column for column and its history chain verifies in either.

-- The head: one row, locked (SELECT ... FOR UPDATE) by every write transaction, so that writes
-- from any number of replicas are one global gap-free sequence of revisions and one chain.
-- revision and hash are the last committed revision and the chain's hash after it.
CREATE TABLE registry_head (
  singleton BOOLEAN NOT NULL DEFAULT TRUE CONSTRAINT registry_head_pk PRIMARY KEY
                    CONSTRAINT registry_head_singleton_check CHECK (singleton),
  revision  BIGINT  NOT NULL,
  time_ms   BIGINT  NOT NULL,
  hash      TEXT    NOT NULL
);
INSERT INTO registry_head (revision, time_ms, hash) VALUES (0, 0, repeat('0', 64));

CREATE TABLE revisions (
  revision BIGINT NOT NULL CONSTRAINT revisions_pk PRIMARY KEY,
  time_ms  BIGINT NOT NULL,
  actor    TEXT   NOT NULL,
  reason   TEXT   NOT NULL DEFAULT ''
);
CREATE INDEX revisions_by_time ON revisions (time_ms, revision);
CREATE INDEX revisions_by_actor ON revisions (actor, revision);

CREATE TABLE descriptors (
  descriptor_id    BIGINT NOT NULL CONSTRAINT descriptors_pk PRIMARY KEY,
  descriptor_key   TEXT   NOT NULL CONSTRAINT descriptors_key_unique UNIQUE,
  vendor           TEXT   NOT NULL,
  device_api       TEXT   NOT NULL,
  type             TEXT   NOT NULL,
  software_version TEXT   NOT NULL
);
CREATE INDEX descriptors_by_type ON descriptors (type);

CREATE TABLE hosts (
  host_id           TEXT    NOT NULL CONSTRAINT hosts_pk PRIMARY KEY,
  labels            TEXT    NOT NULL,
  revision          BIGINT  NOT NULL,
  create_revision   BIGINT  NOT NULL,
  create_time_ms    BIGINT  NOT NULL,
  update_time_ms    BIGINT  NOT NULL,
  last_sync_time_ms BIGINT  NOT NULL,
  reachable         BOOLEAN NOT NULL DEFAULT TRUE,
  draining          BOOLEAN NOT NULL DEFAULT FALSE,
  lease_expire_ms   BIGINT
);

CREATE TABLE devices (
  host_id            TEXT   NOT NULL CONSTRAINT devices_host_fk REFERENCES hosts (host_id),
  device_id          TEXT   NOT NULL,
  descriptor_id      BIGINT NOT NULL CONSTRAINT devices_descriptor_fk REFERENCES descriptors (descriptor_id),
  capacity_total     BIGINT,
  capacity_available BIGINT,
  labels             TEXT   NOT NULL,
  revision           BIGINT NOT NULL,
  create_revision    BIGINT NOT NULL,
  create_time_ms     BIGINT NOT NULL,
  update_time_ms     BIGINT NOT NULL,
  CONSTRAINT devices_pk PRIMARY KEY (host_id, device_id),
  CONSTRAINT devices_capacity_check CHECK (
    (capacity_total IS NULL AND capacity_available IS NULL)
    OR (capacity_available BETWEEN 0 AND capacity_total))
);

-- History and its chain (server/store/history-chain.ts): hashes are hex text here, the
-- canonical encoding of the same columns as in SQLite, so the same history has the same head.
CREATE TABLE history (
  revision     BIGINT NOT NULL CONSTRAINT history_revision_fk REFERENCES revisions (revision),
  seq          INTEGER NOT NULL,
  time_ms      BIGINT NOT NULL,
  host_id      TEXT   NOT NULL,
  device_id    TEXT   NOT NULL,
  change       TEXT   NOT NULL CONSTRAINT history_change_check CHECK (change IN ('CREATED', 'UPDATED', 'DELETED')),
  actor        TEXT   NOT NULL,
  reason       TEXT   NOT NULL DEFAULT '',
  before       TEXT,
  after        TEXT,
  on_behalf_of TEXT   NOT NULL DEFAULT '',
  prev_hash    TEXT   NOT NULL,
  hash         TEXT   NOT NULL,
  CONSTRAINT history_pk PRIMARY KEY (revision, seq)
);
CREATE INDEX history_by_resource ON history (host_id, device_id, revision);

CREATE TABLE history_checkpoints (
  checkpoint_revision BIGINT NOT NULL CONSTRAINT history_checkpoints_pk PRIMARY KEY,
  hash                TEXT   NOT NULL,
  time_ms             BIGINT NOT NULL,
  entries_removed     BIGINT NOT NULL,
  actor               TEXT,
  head_revision       BIGINT,
  head_hash           TEXT,
  prev_record_hash    TEXT,
  record_hash         TEXT
);

CREATE TABLE claims (
  host_id         TEXT   NOT NULL CONSTRAINT claims_host_fk REFERENCES hosts (host_id) ON DELETE CASCADE,
  claim_id        TEXT   NOT NULL,
  devices         TEXT   NOT NULL,
  ttl_ms          BIGINT NOT NULL CONSTRAINT claims_ttl_check CHECK (ttl_ms > 0),
  create_time_ms  BIGINT NOT NULL,
  expire_time_ms  BIGINT NOT NULL,
  fingerprint     TEXT   NOT NULL,
  create_revision BIGINT NOT NULL,
  revision        BIGINT NOT NULL,
  CONSTRAINT claims_pk PRIMARY KEY (host_id, claim_id)
);
CREATE INDEX claims_by_creation ON claims (create_revision, host_id, claim_id);
