// What one commit batch writes to PostgreSQL: one statement per table, the rows passed as one
// JSON array each, inside the transaction postgres-store.ts holds (with the head row locked).
// Kept apart from the adapter's connection handling, queue and reads; the SQLite store's
// counterpart is its prepared statements in sqlite-store.ts.

import type pg from 'pg';
import type { CommitBatch } from '../core/store.ts';
import type { chainedColumns } from './history-chain.ts';
import { claimToRow, deviceToRow, hostToRow } from './rows.ts';

/** Everything a batch writes, one statement per table (rows passed as one JSON array). */
export async function writeBatch(
  client: pg.PoolClient,
  batch: CommitBatch,
  chained: readonly { columns: ReturnType<typeof chainedColumns>; prev: string; hash: string }[],
): Promise<void> {
  const json = (rows: unknown[]) => JSON.stringify(rows);
  const revisions = new Map<number, { time: number; actor: string; reason: string }>();
  for (const entry of batch.history) revisions.set(entry.revision, entry);
  if (revisions.size > 0) {
    await client.query(
      `INSERT INTO revisions (revision, time_ms, actor, reason)
       SELECT * FROM json_to_recordset($1::json) AS r(revision bigint, time_ms bigint, actor text, reason text)`,
      [json([...revisions].map(([revision, r]) => ({ revision, time_ms: r.time, actor: r.actor, reason: r.reason })))],
    );
  }
  if (batch.newDescriptors.length > 0) {
    await client.query(
      `INSERT INTO descriptors (descriptor_id, descriptor_key, vendor, device_api, type, software_version)
       SELECT id, key, key::json ->> 'vendor', key::json ->> 'device_api', key::json ->> 'type', key::json ->> 'software_version'
       FROM json_to_recordset($1::json) AS d(id bigint, key text)`,
      [json(batch.newDescriptors.map((d) => ({ id: d.id, key: d.key })))],
    );
  }
  // Devices before hosts: a device row refers to its host.
  if (batch.deviceDeletes.length > 0) {
    await client.query(
      `DELETE FROM devices USING json_to_recordset($1::json) AS d(host_id text, device_id text)
       WHERE devices.host_id = d.host_id AND devices.device_id = d.device_id`,
      [json(batch.deviceDeletes.map((d) => ({ host_id: d.hostId, device_id: d.deviceId })))],
    );
  }
  if (batch.hostDeletes.length > 0) await client.query('DELETE FROM hosts WHERE host_id = ANY($1::text[])', [batch.hostDeletes]);
  if (batch.hostUpserts.length > 0) {
    await client.query(
      `INSERT INTO hosts (host_id, labels, revision, create_revision, create_time_ms, update_time_ms, last_sync_time_ms, reachable, draining,
         budgets)
       SELECT * FROM json_to_recordset($1::json) AS h(host_id text, labels text, revision bigint, create_revision bigint,
         create_time_ms bigint, update_time_ms bigint, last_sync_time_ms bigint, reachable boolean, draining boolean, budgets text)
       ON CONFLICT (host_id) DO UPDATE SET labels = excluded.labels, revision = excluded.revision,
         update_time_ms = excluded.update_time_ms, last_sync_time_ms = excluded.last_sync_time_ms,
         reachable = excluded.reachable, draining = excluded.draining, budgets = excluded.budgets`,
      [json(batch.hostUpserts.map(hostToRow))],
    );
  }
  if (batch.deviceUpserts.length > 0) {
    await client.query(
      `INSERT INTO devices (host_id, device_id, descriptor_id, capacity_total, capacity_available, labels, revision, create_revision,
         create_time_ms, update_time_ms)
       SELECT * FROM json_to_recordset($1::json) AS d(host_id text, device_id text, descriptor_id bigint, capacity_total bigint,
         capacity_available bigint, labels text, revision bigint, create_revision bigint, create_time_ms bigint, update_time_ms bigint)
       ON CONFLICT (host_id, device_id) DO UPDATE SET descriptor_id = excluded.descriptor_id,
         capacity_total = excluded.capacity_total, capacity_available = excluded.capacity_available,
         labels = excluded.labels, revision = excluded.revision, update_time_ms = excluded.update_time_ms`,
      [json(batch.deviceUpserts.map(deviceToRow))],
    );
  }
  if (batch.syncTouches.length > 0) {
    await client.query(
      `UPDATE hosts SET last_sync_time_ms = t.time FROM json_to_recordset($1::json) AS t(host_id text, time bigint)
       WHERE hosts.host_id = t.host_id`,
      [json(batch.syncTouches.map((t) => ({ host_id: t.hostId, time: t.lastSyncTime })))],
    );
  }
  if (batch.leases.length > 0) {
    // Any replica may persist a renewal: the latest expiry wins.
    await client.query(
      `UPDATE hosts SET lease_expire_ms = GREATEST(COALESCE(hosts.lease_expire_ms, 0), l.expire)
       FROM json_to_recordset($1::json) AS l(host_id text, expire bigint) WHERE hosts.host_id = l.host_id`,
      [json(batch.leases.map((l) => ({ host_id: l.hostId, expire: l.expireTime })))],
    );
  }
  for (const { hostId, claimId } of batch.claimDeletes ?? []) {
    await client.query('DELETE FROM claims WHERE host_id = $1 AND claim_id = $2', [hostId, claimId]);
  }
  if ((batch.claimUpserts ?? []).length > 0) {
    await client.query(
      `INSERT INTO claims (host_id, claim_id, devices, ttl_ms, create_time_ms, expire_time_ms, fingerprint, owner, create_revision, revision)
       SELECT * FROM json_to_recordset($1::json) AS c(host_id text, claim_id text, devices text, ttl_ms bigint, create_time_ms bigint,
         expire_time_ms bigint, fingerprint text, owner text, create_revision bigint, revision bigint)
       ON CONFLICT (host_id, claim_id) DO UPDATE SET devices = excluded.devices, ttl_ms = excluded.ttl_ms,
         expire_time_ms = excluded.expire_time_ms, revision = excluded.revision`,
      [json(batch.claimUpserts!.map(claimToRow))],
    );
  }
  if (chained.length > 0) {
    await client.query(
      `INSERT INTO history (revision, seq, time_ms, host_id, device_id, change, actor, reason, before, after, on_behalf_of, prev_hash, hash)
       SELECT * FROM json_to_recordset($1::json) AS e(revision bigint, seq integer, time_ms bigint, host_id text, device_id text,
         change text, actor text, reason text, before text, after text, on_behalf_of text, prev_hash text, hash text)`,
      [
        json(
          chained.map(({ columns: c, prev, hash }) => ({
            revision: c.revision,
            seq: c.seq,
            time_ms: c.time,
            host_id: c.hostId,
            device_id: c.deviceId,
            change: c.change,
            actor: c.actor,
            reason: c.reason,
            before: c.before,
            after: c.after,
            on_behalf_of: c.onBehalfOf,
            prev_hash: prev,
            hash,
          })),
        ),
      ],
    );
  }
}
