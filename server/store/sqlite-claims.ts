// The claims table of the SQLite adapter (migrations/0004_placement_claims.sql): live
// placement claims, written in the same transaction as the rest of a commit and loaded in
// creation order. Kept apart from sqlite-store.ts so the placement concern is one file; the
// SQLite store calls it from its load and its batch transaction.

import type Database from 'better-sqlite3';
import type { ClaimRecord, CommitBatch } from '../core/store.ts';

interface ClaimRow {
  host_id: string;
  claim_id: string;
  devices: string;
  ttl_ms: number;
  create_time_ms: number;
  expire_time_ms: number;
  fingerprint: string;
  create_revision: number;
  revision: number;
}

export class SqliteClaims {
  private readonly all: Database.Statement;
  private readonly upsert: Database.Statement;
  private readonly remove: Database.Statement;

  constructor(db: Database.Database) {
    this.all = db.prepare('SELECT * FROM claims ORDER BY create_revision, host_id, claim_id');
    this.upsert = db.prepare(
      `INSERT INTO claims (host_id, claim_id, devices, ttl_ms, create_time_ms, expire_time_ms, fingerprint, create_revision, revision)
       VALUES (@host_id, @claim_id, @devices, @ttl_ms, @create_time_ms, @expire_time_ms, @fingerprint, @create_revision, @revision)
       ON CONFLICT (host_id, claim_id) DO UPDATE SET devices = excluded.devices, ttl_ms = excluded.ttl_ms,
         expire_time_ms = excluded.expire_time_ms, revision = excluded.revision`,
    );
    this.remove = db.prepare('DELETE FROM claims WHERE host_id = ? AND claim_id = ?');
  }

  load(): ClaimRecord[] {
    return (this.all.all() as ClaimRow[]).map((row) => ({
      hostId: row.host_id,
      claimId: row.claim_id,
      devices: (JSON.parse(row.devices) as [string, number, number][]).map(([deviceId, count, remaining]) => ({ deviceId, count, remaining })),
      state: 'CLAIM_STATE_ACTIVE',
      ttlMs: row.ttl_ms,
      createTimeMs: row.create_time_ms,
      expireTimeMs: row.expire_time_ms,
      fingerprint: row.fingerprint,
      createRevision: row.create_revision,
      revision: row.revision,
    }));
  }

  /** Runs inside the commit's transaction, after hosts are written. */
  write(batch: CommitBatch): void {
    for (const { hostId, claimId } of batch.claimDeletes ?? []) this.remove.run(hostId, claimId);
    for (const claim of batch.claimUpserts ?? []) {
      this.upsert.run({
        host_id: claim.hostId,
        claim_id: claim.claimId,
        devices: JSON.stringify(claim.devices.map((d) => [d.deviceId, d.count, d.remaining])),
        ttl_ms: claim.ttlMs,
        create_time_ms: claim.createTimeMs,
        expire_time_ms: claim.expireTimeMs,
        fingerprint: claim.fingerprint,
        create_revision: claim.createRevision,
        revision: claim.revision,
      });
    }
  }
}
