// The history chain: each entry's hash is SHA-256 over the previous entry's hash and the
// entry's canonical encoding, so altering, removing or reordering any entry breaks every hash
// after it. The encoding is a JSON array of the entry's stored columns, snapshots as stored:
// what a verifier re-reads from the file is exactly what was hashed.

import { createHash } from 'node:crypto';

/** The chain's start: the hash an empty, never-compacted history "ends" at. */
export const GENESIS_HASH = '0'.repeat(64);

export interface ChainedColumns {
  readonly revision: number;
  readonly seq: number;
  readonly time: number;
  readonly hostId: string;
  readonly deviceId: string;
  readonly change: string;
  readonly actor: string;
  readonly reason: string;
  /** Snapshots in their stored JSON text; null when absent. */
  readonly before: string | null;
  readonly after: string | null;
}

export function canonicalEntry(entry: ChainedColumns): string {
  return JSON.stringify([
    entry.revision,
    entry.seq,
    entry.time,
    entry.hostId,
    entry.deviceId,
    entry.change,
    entry.actor,
    entry.reason,
    entry.before,
    entry.after,
  ]);
}

/** hex SHA-256(prev hash bytes || canonical entry UTF-8). */
export function chainHash(prevHash: string, entry: ChainedColumns): string {
  return createHash('sha256').update(Buffer.from(prevHash, 'hex')).update(canonicalEntry(entry)).digest('hex');
}

/** A history row as SQLite returns it (the columns the chain covers). */
export interface HistoryRowColumns {
  readonly revision: number;
  readonly seq: number;
  readonly time_ms: number;
  readonly host_id: string;
  readonly device_id: string;
  readonly change: string;
  readonly actor: string;
  readonly reason: string;
  readonly before: string | null;
  readonly after: string | null;
}

export function chainedColumns(row: HistoryRowColumns): ChainedColumns {
  return {
    revision: row.revision,
    seq: row.seq,
    time: row.time_ms,
    hostId: row.host_id,
    deviceId: row.device_id,
    change: row.change,
    actor: row.actor,
    reason: row.reason,
    before: row.before,
    after: row.after,
  };
}
