-- Identities (mutual TLS) and compaction records. Forward-only: a shipped migration is never edited.

-- With mutual TLS the actor is the caller's authenticated identity, and the `x-devcompat-actor`
-- it sent is kept here, beside it, as "on behalf of" ('' = none). An entry with an annotation
-- is chained with the version 2 encoding (server/store/history-chain.ts); entries without one,
-- including every entry written before this migration, keep the version 1 encoding.
ALTER TABLE history ADD COLUMN on_behalf_of TEXT NOT NULL DEFAULT '';

-- Who compacted, the chain's head when they did, and a chain over the checkpoints themselves:
-- record_hash = SHA-256(prev_record_hash || canonical record), so a checkpoint that is removed
-- or edited shows. Checkpoints made before this migration have no record (NULL columns).
ALTER TABLE history_checkpoints ADD COLUMN actor TEXT;
ALTER TABLE history_checkpoints ADD COLUMN head_revision INTEGER;
ALTER TABLE history_checkpoints ADD COLUMN head_hash BLOB;
ALTER TABLE history_checkpoints ADD COLUMN prev_record_hash BLOB;
ALTER TABLE history_checkpoints ADD COLUMN record_hash BLOB;
