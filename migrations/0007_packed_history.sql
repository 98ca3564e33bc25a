-- History packed one row per revision (issue 7): a registration wrote one history row and one
-- index entry per device (16 of each per host, 160,000 of each for a 10,000-host fleet), most of
-- what a commit cost the storage worker. A revision's entries are now one row, and the hosts it
-- touched one narrow row each. The entries, their order, their chained columns and their hashes
-- are exactly what they were: the chain (server/store/history-chain.ts) does not change, and a
-- database migrated here verifies as it did. Forward-only: a shipped migration is never edited.
--
-- history.entries: a JSON array of the revision's entries in chain order (index order), each
--   [seq, time_ms, host_id, device_id, change, actor, reason, before, after, on_behalf_of]
--   with before/after the snapshot's JSON text as a JSON string (or null), as the chain hashes it.
-- history.links: for each entry, in the same order, its prev_hash then its hash (32 bytes each):
--   64 bytes per entry. NULL for history written before the chain existed (migration 0002), which
--   the store chains when it opens (server/store/sqlite-history.ts).
-- history_hosts: (host, revision) for every host a revision has entries about, so that a host's
--   or one resource's history is found without reading the others'. Derived from history and
--   removed with it; it has no foreign key, so a compaction deletes both in one pass each.
-- history_entries: the entries one row each, with the columns the history table had before (a
--   view: nothing is stored twice), for an operator with a sqlite3 shell and for a verifier
--   written from docs/api.md.
ALTER TABLE history RENAME TO history_0006;

CREATE TABLE history (
  revision INTEGER NOT NULL CONSTRAINT history_pk PRIMARY KEY
                   CONSTRAINT history_revision_fk REFERENCES revisions (revision),
  entries  TEXT    NOT NULL,
  links    BLOB
) STRICT;

CREATE TABLE history_hosts (
  host_id  TEXT    NOT NULL,
  revision INTEGER NOT NULL,
  CONSTRAINT history_hosts_pk PRIMARY KEY (host_id, revision)
) STRICT, WITHOUT ROWID;

INSERT INTO history (revision, entries, links)
SELECT revision,
       json_group_array(json_array(seq, time_ms, host_id, device_id, change, actor, reason, before, after, on_behalf_of) ORDER BY seq),
       CASE WHEN count(hash) = count(*) AND count(prev_hash) = count(*)
            THEN unhex(group_concat(hex(prev_hash) || hex(hash), '' ORDER BY seq)) END
FROM history_0006
GROUP BY revision;

INSERT INTO history_hosts (host_id, revision)
SELECT DISTINCT host_id, revision FROM history_0006;

DROP TABLE history_0006;

CREATE VIEW history_entries AS
SELECT h.revision                                      AS revision,
       e.value ->> 0                                   AS seq,
       e.value ->> 1                                   AS time_ms,
       e.value ->> 2                                   AS host_id,
       e.value ->> 3                                   AS device_id,
       e.value ->> 4                                   AS change,
       e.value ->> 5                                   AS actor,
       e.value ->> 6                                   AS reason,
       e.value ->> 7                                   AS before,
       e.value ->> 8                                   AS after,
       e.value ->> 9                                   AS on_behalf_of,
       substr(h.links, e.key * 64 + 1, 32)             AS prev_hash,
       substr(h.links, e.key * 64 + 33, 32)            AS hash
FROM history AS h, json_each(h.entries) AS e;
