// The claims table of the SQLite adapter (migrations/0004_placement_claims.sql): live
// placement claims, written in the same transaction as the rest of a commit and loaded in
// creation order. Kept apart from sqlite-store.ts so the placement concern is one file; the
// SQLite store calls it from its load and its batch transaction.

import type Database from 'better-sqlite3';
import type { ClaimRecord, CommitBatch } from '../core/store.ts';
import { claimFromRow, claimToRow, type ClaimRow } from './rows.ts';


export class SqliteClaims {
  private readonly all: Database.Statement;
  private readonly upsert: Database.Statement;
  private readonly remove: Database.Statement;

  constructor(db: Database.Database) {
    this.all = db.prepare('SELECT * FROM claims ORDER BY create_revision, host_id, claim_id');
    this.upsert = db.prepare(
      `INSERT INTO claims (host_id, claim_id, devices, ttl_ms, create_time_ms, expire_time_ms, fingerprint, owner, create_revision, revision)
       VALUES (@host_id, @claim_id, @devices, @ttl_ms, @create_time_ms, @expire_time_ms, @fingerprint, @owner, @create_revision, @revision)
       ON CONFLICT (host_id, claim_id) DO UPDATE SET devices = excluded.devices, ttl_ms = excluded.ttl_ms,
         expire_time_ms = excluded.expire_time_ms, revision = excluded.revision`,
    );
    this.remove = db.prepare('DELETE FROM claims WHERE host_id = ? AND claim_id = ?');
  }

  load(): ClaimRecord[] {
    return (this.all.all() as ClaimRow[]).map(claimFromRow);
  }

  /** Runs inside the commit's transaction, after hosts are written. */
  write(batch: Pick<CommitBatch, 'claimUpserts' | 'claimDeletes'>): void {
    for (const { hostId, claimId } of batch.claimDeletes ?? []) this.remove.run(hostId, claimId);
    for (const claim of batch.claimUpserts ?? []) {
      this.upsert.run(claimToRow(claim));
    }
  }
}
