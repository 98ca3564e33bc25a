// The history chain: each entry's hash is SHA-256 over the previous entry's hash and the
// entry's canonical encoding, so altering, removing or reordering any entry breaks every hash
// after it. The encoding is a JSON array of the entry's stored columns, snapshots as stored:
// what a verifier re-reads from the file is exactly what was hashed.
//
// Versions of the encoding: an entry with no "on behalf of" annotation is encoded as it always
// was (version 1: the ten columns), so entries written before the annotation existed still
// verify, and so do verifiers written for them. An entry with one (written under mutual TLS,
// where the actor is the caller's identity and `x-devcompat-actor` only says on whose behalf)
// is version 2: the same array led by the number 2 and ending with the annotation. Editing the
// annotation of any entry therefore changes its hash input, whichever version it was.

import { createHash, hash } from 'node:crypto';

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
  /** `x-devcompat-actor` under mutual TLS ('' = none: a version 1 entry). */
  readonly onBehalfOf: string;
}

/** The leading element of a version 2 entry's encoding. */
export const CHAIN_VERSION_2 = 2;

export function canonicalEntry(entry: ChainedColumns): string {
  const v1 = [
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
  ];
  return JSON.stringify(entry.onBehalfOf === '' ? v1 : [CHAIN_VERSION_2, ...v1, entry.onBehalfOf]);
}

/** hex SHA-256(prev hash bytes || canonical entry UTF-8). */
export function chainHash(prevHash: string, entry: ChainedColumns): string {
  return hashEncoding(prevHash, canonicalEntry(entry));
}

/**
 * The bytes of one hash's input (previous hash, then the encoding), reused from entry to entry:
 * a store chains every entry it writes, and one-shot hashing of a reused buffer costs about a
 * third less than a Hash object per entry. Per thread (module scope); larger inputs take the
 * streaming path.
 */
const scratch = Buffer.allocUnsafe(64 * 1024);

/** chainHash over an entry already encoded by canonicalEntry (a store that keeps the text). */
export function hashEncoding(prevHash: string, encoding: string): string {
  // UTF-8 takes at most 3 bytes per UTF-16 code unit: a text this short fits whole.
  // A previous hash that is not 32 bytes of hex (a broken link being checked) is hashed as the
  // streaming path reads it.
  if (32 + encoding.length * 3 <= scratch.length && scratch.write(prevHash, 0, 32, 'hex') === 32 && prevHash.length === 64) {
    const length = scratch.write(encoding, 32, 'utf8');
    return hash('sha256', scratch.subarray(0, 32 + length), 'hex');
  }
  return createHash('sha256').update(Buffer.from(prevHash, 'hex')).update(encoding).digest('hex');
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
  readonly on_behalf_of: string;
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
    onBehalfOf: row.on_behalf_of,
  };
}

/** A compaction record as chained: the columns of history_checkpoints a record covers. */
export interface CompactionColumns {
  readonly revision: number;
  readonly hash: string;
  readonly time: number;
  readonly actor: string;
  readonly removed: number;
  readonly headRevision: number;
  readonly headHash: string;
}

/** hex SHA-256(prev record hash bytes || JSON [revision, hash, time_ms, actor, removed, head revision, head hash]). */
export function compactionHash(prevRecordHash: string, record: CompactionColumns): string {
  const canonical = JSON.stringify([
    record.revision,
    record.hash,
    record.time,
    record.actor,
    record.removed,
    record.headRevision,
    record.headHash,
  ]);
  return createHash('sha256').update(Buffer.from(prevRecordHash, 'hex')).update(canonical).digest('hex');
}

/**
 * Chains encodings one after another from a head, the previous hash kept as bytes: for a store
 * that writes each entry's links as bytes (SQLite, sqlite-history.ts), so no hash goes through
 * hex and back per entry. The hashes are chainHash's.
 */
export class ChainCursor {
  /** The previous hash's bytes as a latin1 string (hash() gives a string far cheaper than a Buffer). */
  private prev: string;

  /** A head that is not 64 hex digits (a link edited by hand) is taken as hashEncoding takes it: the bytes its hex reads. */
  constructor(start: string) {
    this.prev = Buffer.from(start, 'hex').toString('latin1');
  }

  /** Hashes the next entry's encoding; writes the previous hash then the entry's into `links` at `offset` (64 bytes). */
  next(encoding: string, links: Buffer, offset: number): void {
    const prev = this.prev;
    links.write(prev, offset, Math.min(32, prev.length), 'latin1');
    const digest = digestAfter(prev, encoding);
    links.write(digest, offset + 32, 32, 'latin1');
    this.prev = digest;
  }
}

/** SHA-256 over a previous hash (its bytes as a latin1 string) and an encoding, as a latin1 string: chainHash's, without hex. */
function digestAfter(prev: string, encoding: string): string {
  if (prev.length === 32 && 32 + encoding.length * 3 <= scratch.length) {
    scratch.write(prev, 0, 32, 'latin1');
    const length = scratch.write(encoding, 32, 'utf8');
    return hash('sha256', scratch.subarray(0, 32 + length), 'binary');
  }
  return createHash('sha256').update(Buffer.from(prev, 'latin1')).update(encoding).digest('binary');
}

/**
 * Follows stored links from a start hash, entry by entry, as walkChain does over hex: an entry
 * follows when its stored previous hash is the chain's so far and its stored hash is chainHash
 * over that and its encoding; then the chain moves on to it. For a store that keeps its links as
 * bytes (SQLite, packed-chain-check.ts): no hash goes through hex.
 */
export class ChainLinks {
  /** The last hash followed, its 32 bytes as a latin1 string. */
  private prev: string;

  constructor(start: Buffer) {
    this.prev = start.toString('latin1');
  }

  /** Whether the entry whose links are at `offset` in `links` (64 bytes) follows; if so the chain moves to it. */
  follows(encoding: string, links: Buffer, offset: number): boolean {
    if (links.length < offset + 64 || links.toString('latin1', offset, offset + 32) !== this.prev) return false;
    const digest = digestAfter(this.prev, encoding);
    if (links.toString('latin1', offset + 32, offset + 64) !== digest) return false;
    this.prev = digest;
    return true;
  }
}
