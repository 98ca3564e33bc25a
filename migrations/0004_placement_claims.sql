-- Placement claims (issue 11, docs/model.md "Claims"): capacity reserved on named devices of
-- one host for one migration. Only live (ACTIVE) claims are rows here; a claim that ends
-- (released, expired, consumed by host syncs) is deleted, and its whole life is in history
-- (entries with device_id 'claims/{claim_id}'). Forward-only: a shipped migration is never
-- edited.
--
-- devices: JSON [[device_id, count, remaining], ...] in device id order; fingerprint: the
-- creating request's body, which a retry with the same claim_id must match. Claims of a
-- deleted host go with it. Loaded in creation order (create_revision): the order in which a
-- host sync uses claims up.
CREATE TABLE claims (
  host_id         TEXT    NOT NULL CONSTRAINT claims_host_fk REFERENCES hosts (host_id) ON DELETE CASCADE,
  claim_id        TEXT    NOT NULL,
  devices         TEXT    NOT NULL,
  ttl_ms          INTEGER NOT NULL CONSTRAINT claims_ttl_check CHECK (ttl_ms > 0),
  create_time_ms  INTEGER NOT NULL,
  expire_time_ms  INTEGER NOT NULL,
  fingerprint     TEXT    NOT NULL,
  create_revision INTEGER NOT NULL,
  revision        INTEGER NOT NULL,
  CONSTRAINT claims_pk PRIMARY KEY (host_id, claim_id)
) STRICT;
CREATE INDEX claims_by_creation ON claims (create_revision, host_id, claim_id);
