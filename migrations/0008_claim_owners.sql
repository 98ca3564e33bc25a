-- Claim owners (docs/model.md "Claims"): who created a claim. Under mutual TLS that is the
-- caller's identity, and only it (or an `admin`) may renew or release the claim; without TLS it
-- is the request's actor, and any caller may. Forward-only: a shipped migration is never edited.
--
-- Claims stored before this migration have no known owner (''): anyone who may claim may end
-- them, as before. A claim lives at most an hour, so they are gone soon after an upgrade.
ALTER TABLE claims ADD COLUMN owner TEXT NOT NULL DEFAULT '';
