-- Claim owners (docs/model.md "Claims"), as SQLite's 0008_claim_owners: who created a claim,
-- the caller's identity under mutual TLS (only it or an `admin` may renew or release the
-- claim), else the request's actor. Claims stored before this migration have no known owner
-- (''): anyone who may claim may end them. Forward-only: a shipped migration is never edited.
ALTER TABLE claims ADD COLUMN owner TEXT NOT NULL DEFAULT '';
