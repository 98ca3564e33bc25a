-- Host liveness (leases) and draining, the reason of every write, the tamper-evident
-- history chain and compaction checkpoints. Forward-only: a shipped migration is never edited.

-- reachable: 0 once the host's lease lapsed, 1 again at its next keepalive or sync.
-- draining: the operator's mark; a sync does not clear it.
-- lease_expire_ms: the lease's expiry as last persisted (keepalives are persisted about once a
-- second, not one by one); NULL for hosts written before leases existed, whose lease is then
-- taken to run from their last sync.
ALTER TABLE hosts ADD COLUMN reachable INTEGER NOT NULL DEFAULT 1 CONSTRAINT hosts_reachable_check CHECK (reachable IN (0, 1));
ALTER TABLE hosts ADD COLUMN draining INTEGER NOT NULL DEFAULT 0 CONSTRAINT hosts_draining_check CHECK (draining IN (0, 1));
ALTER TABLE hosts ADD COLUMN lease_expire_ms INTEGER;

-- Why a revision was written (request metadata `x-devcompat-reason`, or the server's reason).
ALTER TABLE revisions ADD COLUMN reason TEXT NOT NULL DEFAULT '';

-- The history chain: hash = SHA-256(prev_hash || canonical encoding of the entry), with
-- prev_hash the previous entry's hash (server/store/history-chain.ts). prev_hash is kept so
-- that a verifier can tell an altered entry (its hash no longer matches its content) from a
-- removed or moved one (its prev_hash no longer matches the entry before it). Rows written
-- before this migration are chained once at start-up, in order.
ALTER TABLE history ADD COLUMN reason TEXT NOT NULL DEFAULT '';
ALTER TABLE history ADD COLUMN prev_hash BLOB;
ALTER TABLE history ADD COLUMN hash BLOB;

-- One row per compaction: history up to and including checkpoint_revision was removed; hash
-- is the chain's hash at the cut (the hash of the last removed entry), where verification
-- of what remains starts.
CREATE TABLE history_checkpoints (
  checkpoint_revision INTEGER NOT NULL CONSTRAINT history_checkpoints_pk PRIMARY KEY,
  hash                BLOB    NOT NULL,
  time_ms             INTEGER NOT NULL,
  entries_removed     INTEGER NOT NULL
) STRICT;
