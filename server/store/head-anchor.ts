// The head anchor: the history head kept outside the database file, so that a database rolled
// back or with its tail deleted behind the server's back is caught at start-up, even when no
// operator kept a head (`--expect-head`). The file `<db>.head` holds the last committed
// revision and chain head, and the highest revision ever committed; the storage worker
// rewrites it in place after every commit that wrote history (one small pwrite and, in `full`
// durability, one fdatasync: no extra round trip, the worker is already off the event loop).
//
// The database commits first, then the anchor: a crash between the two leaves the database
// one batch ahead of the anchor, which start-up accepts when the anchored head is on the
// file's chain. A database *behind* its anchor, or whose chain does not pass through the
// anchored head, was rolled back, truncated or rewritten: the server refuses to start until
// the operator accepts it as a restore (`--accept-restore`), which is recorded as a revision
// numbered above the highest the anchor has seen, so revision numbers are never reused.
//
// The record carries its own SHA-256, so a torn or edited anchor is refused rather than
// trusted, and the anchor's id, which the database registers (anchor-registration.ts): a
// registered database whose anchor file is missing or foreign is refused too, so deleting the
// anchor no longer hides a deleted tail. `decideAnchor` is the pure rule; `HeadAnchor` is the file.

import { createHash } from 'node:crypto';
import { closeSync, existsSync, fdatasyncSync, openSync, readFileSync, writeSync } from 'node:fs';
import { fsyncPath } from './fsync-path.ts';
import path from 'node:path';

export interface AnchorRecord {
  /** The revision of the last commit that wrote history. */
  readonly revision: number;
  /** The chain head after that revision (hex). */
  readonly hash: string;
  /** The highest revision ever committed on this file: numbering resumes above it. */
  readonly highest: number;
  /** The anchor's identity (32 hex digits), registered in the database; absent in anchors written before migration 0006. */
  readonly id?: string;
}

/** The anchor file of a database. */
export function anchorPath(dbPath: string): string {
  return `${dbPath}.head`;
}

/** What the database says at start-up. */
export interface DatabaseHead {
  readonly path: string;
  readonly revision: number;
  readonly hash: string;
  /** The chain head as of `revision` (the last entry at or before it), undefined when compacted away. */
  hashAt(revision: number): string | undefined;
}

export type AnchorDecision =
  | { readonly action: 'create' }
  | { readonly action: 'match' }
  /** The database is ahead of the anchor on the same chain (a crash between the two writes). */
  | { readonly action: 'advance' }
  /** A mismatch the operator accepted: record a restore above `highest`. */
  | { readonly action: 'restore'; readonly problem: string; readonly resumeAt: number };

export class HeadAnchorError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HeadAnchorError';
  }
}

/** The rule: compare the database's head with the anchor. Throws HeadAnchorError on a mismatch not accepted. */
export function decideAnchor(anchor: AnchorRecord | undefined, db: DatabaseHead, acceptRestore: boolean): AnchorDecision {
  if (!anchor) return { action: 'create' };
  let problem: string | undefined;
  if (db.revision < anchor.revision) {
    problem =
      `the database ${db.path} is at revision ${db.revision}, behind its head anchor at revision ${anchor.revision}: ` +
      'it was rolled back (restored from a backup) or the tail of its history was deleted';
  } else {
    const onChain = db.revision === anchor.revision ? db.hash : db.hashAt(anchor.revision);
    if (onChain !== undefined && onChain !== anchor.hash) {
      problem =
        `the history of ${db.path} at revision ${anchor.revision} ends in ${onChain.slice(0, 12)}…, not in the anchored head ` +
        `${anchor.hash.slice(0, 12)}…: history entries were deleted or rewritten behind the server's back`;
    }
  }
  if (problem === undefined) return { action: db.revision === anchor.revision ? 'match' : 'advance' };
  if (!acceptRestore) {
    throw new HeadAnchorError(
      `${problem}. Refusing to start. If this database is a deliberate restore, start once with --accept-restore: ` +
        `the restore is recorded and numbering resumes above revision ${anchor.highest}`,
    );
  }
  return { action: 'restore', problem, resumeAt: Math.max(anchor.highest, db.revision) + 1 };
}

const RECORD_BYTES = 512;

/** What was found where the anchor should be, before it is opened for writing. */
export type AnchorFileState = 'missing' | 'unreadable' | 'present';

export class HeadAnchor {
  private highestSeen: number;
  private anchorId: string | undefined;

  private constructor(
    /** Open once the file exists: a start refused before writing leaves no anchor behind. */
    private fd: number | undefined,
    private readonly sync: boolean,
    readonly loaded: AnchorRecord | undefined,
    readonly found: AnchorFileState,
    readonly path: string,
  ) {
    this.highestSeen = loaded?.highest ?? 0;
    this.anchorId = loaded?.id;
  }

  /**
   * Opens (or creates) `<db>.head`. An anchor that exists but cannot be trusted throws
   * HeadAnchorError, unless the operator gave a flag that re-anchors (`tolerateUnreadable`):
   * then `found` is `unreadable` and the caller decides.
   */
  static open(dbPath: string, sync: boolean, tolerateUnreadable: boolean): HeadAnchor {
    const filePath = anchorPath(dbPath);
    let loaded: AnchorRecord | undefined;
    const exists = existsSync(filePath);
    let found: AnchorFileState = exists ? 'present' : 'missing';
    try {
      loaded = exists ? parseRecord(readFileSync(filePath), filePath) : undefined;
    } catch (error) {
      if (!tolerateUnreadable) throw error;
      found = 'unreadable';
    }
    return new HeadAnchor(exists ? openSync(filePath, 'r+') : undefined, sync, loaded, found, filePath);
  }

  get highest(): number {
    return this.highestSeen;
  }

  get id(): string | undefined {
    return this.anchorId;
  }

  /**
   * From now on the file carries `id` and counts `highest` from here: a new anchor (created,
   * registered, or re-anchored by the operator, when the old one could not vouch).
   */
  adopt(id: string, highest = this.highestSeen): void {
    this.anchorId = id;
    this.highestSeen = highest;
  }

  /** Anchors this head (called after the database committed it). */
  write(revision: number, hash: string): void {
    this.highestSeen = Math.max(this.highestSeen, revision);
    const body = recordBody({ revision, hash, highest: this.highestSeen, id: this.anchorId });
    const text = `${JSON.stringify({ ...JSON.parse(body), sha256: sha256(body) })}\n`;
    const buffer = Buffer.alloc(RECORD_BYTES, 0x20);
    buffer.write(text, 0, 'utf8');
    const created = this.fd === undefined;
    this.fd ??= openSync(this.path, 'w+');
    writeSync(this.fd, buffer, 0, RECORD_BYTES, 0);
    if (this.sync) {
      fdatasyncSync(this.fd);
      // A new file's name is in its folder: fsynced too, or a power loss could keep the
      // database's registration of the anchor and lose the anchor, and the next start refuse.
      if (created) fsyncPath(path.dirname(this.path));
    }
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }
}

/** The checksummed text: an anchor without an id (written before migration 0006) keeps its old form. */
function recordBody(record: AnchorRecord): string {
  const { revision, hash, highest, id } = record;
  return JSON.stringify(id === undefined ? { revision, hash, highest } : { revision, hash, highest, id });
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function parseRecord(bytes: Buffer, filePath: string): AnchorRecord {
  const refuse = (why: string) =>
    new HeadAnchorError(
      `the head anchor ${filePath} ${why}: it cannot vouch for the database. If the database is known good, start once with --reanchor "<reason>" to re-anchor it (recorded)`,
    );
  let parsed: { revision?: unknown; hash?: unknown; highest?: unknown; id?: unknown; sha256?: unknown };
  try {
    parsed = JSON.parse(bytes.toString('utf8').trim());
  } catch {
    throw refuse('is not readable (torn or edited)');
  }
  const { revision, hash, highest, id } = parsed;
  if (
    !Number.isSafeInteger(revision) ||
    !Number.isSafeInteger(highest) ||
    typeof hash !== 'string' ||
    (id !== undefined && typeof id !== 'string')
  ) {
    throw refuse('fails its checksum (torn or edited)');
  }
  const record: AnchorRecord = { revision: revision as number, hash, highest: highest as number, id: id as string | undefined };
  if (parsed.sha256 !== sha256(recordBody(record))) throw refuse('fails its checksum (torn or edited)');
  return record;
}
