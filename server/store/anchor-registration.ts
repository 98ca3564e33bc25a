// The head anchor's registration in the database (migration 0006). The anchor file beside the
// database (head-anchor.ts) catches a rolled-back or truncated database, but only while it
// exists: before this, deleting the anchor together with the tail of history made the database
// look like one that had never been anchored, and it started. Now the database records the
// anchor's id and path the first time it starts with one, and a registered database whose
// anchor is missing, unreadable or another database's is refused, naming both files, until the
// operator re-anchors it with `--reanchor <reason>`: recorded as a revision (actor `devcompat`,
// the reserved actor no client can claim; the reason names the operator's OS user and why), so
// the act is in the database's own record, and numbering moves on.
//
// What this cannot do (docs/security.md, "What the anchor cannot prove"): someone who can edit
// the database file can also reset this row; then only a head kept elsewhere (the logged
// heads, `devcompat audit verify --expect-head`) proves the loss. `decideRegistration` is the
// pure rule; `AnchorRegistry` is the row.

import type Database from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import { hostname, userInfo } from 'node:os';
import type { AnchorFileState } from './head-anchor.ts';
import { HeadAnchorError } from './head-anchor.ts';

/** The row of `head_anchor`; `anchorId` null until the first start registers an anchor. */
export interface Registration {
  readonly anchorId: string | null;
  readonly anchorPath: string | null;
  readonly sinceRevision: number | null;
}

/** What start-up found where the anchor should be. */
export interface AnchorFound {
  readonly state: AnchorFileState;
  /** The id the file carries (undefined: no file, an unreadable one, or one written before 0006). */
  readonly id: string | undefined;
  readonly path: string;
}

export type RegistrationDecision =
  /** Not registered yet (a new database, or the first start after migration 0006): register this id. */
  | { readonly action: 'register'; readonly anchorId: string }
  /** The anchor file is the registered one: its head is compared (decideAnchor). */
  | { readonly action: 'registered' }
  /** The anchor cannot vouch, and the operator re-anchors: record it, and start a new anchor. */
  | { readonly action: 'reanchor'; readonly problem: string; readonly anchorId: string };

export function newAnchorId(): string {
  return randomBytes(16).toString('hex');
}

/**
 * The rule. `registration` undefined means the row was deleted (the migration inserts it).
 * Throws HeadAnchorError naming the database and the anchor when the anchor cannot vouch and
 * no `reanchorReason` was given.
 */
export function decideRegistration(
  registration: Registration | undefined,
  found: AnchorFound,
  dbPath: string,
  reanchorReason: string | undefined,
): RegistrationDecision {
  if (registration?.anchorId === null) {
    // An unreadable anchor of a database not yet registered: --accept-restore re-anchors it
    // as before migration 0006; --reanchor does so on the record.
    if (found.state === 'unreadable' && reanchorReason !== undefined) {
      return { action: 'reanchor', problem: `the head anchor ${found.path} of the database ${dbPath} is unreadable (torn or edited)`, anchorId: newAnchorId() };
    }
    return { action: 'register', anchorId: found.id ?? newAnchorId() };
  }
  let problem: string | undefined;
  if (registration === undefined) {
    problem =
      `the database ${dbPath} has no head-anchor registration (its head_anchor row was deleted), so its anchor ` +
      `${found.path} cannot be trusted to belong to it`;
  } else {
    const since = `since revision ${registration.sinceRevision} (anchor ${registration.anchorId!.slice(0, 8)}…)`;
    const moved =
      registration.anchorPath && registration.anchorPath !== found.path
        ? `; it was registered at ${registration.anchorPath}: if the database was moved, move its anchor beside it`
        : '';
    if (found.state === 'missing') {
      problem =
        `the head anchor ${found.path} is missing, but the database ${dbPath} records that it has been anchored ${since}${moved}. ` +
        'A deleted anchor is how a rolled-back database or a deleted history tail would hide';
    } else if (found.state === 'unreadable') {
      problem = `the head anchor ${found.path} of the database ${dbPath} is unreadable (torn or edited): it cannot vouch for the database`;
    } else if (found.id !== registration.anchorId) {
      problem =
        `the head anchor ${found.path} is not the one the database ${dbPath} registered ` +
        `(it carries ${found.id ? `anchor ${found.id.slice(0, 8)}…` : 'no anchor id'}; the database has been anchored ${since}): ` +
        'it belongs to another database or was replaced';
    }
  }
  if (problem === undefined) return { action: 'registered' };
  if (reanchorReason === undefined) {
    throw new HeadAnchorError(
      `${problem}. Refusing to start. If only the anchor was lost (not history), check the history against a head kept ` +
        'elsewhere (devcompat audit verify --expect-head <logged head>) and start once with --reanchor "<reason>": ' +
        'the re-anchoring is recorded as a revision in the database',
    );
  }
  return { action: 'reanchor', problem, anchorId: newAnchorId() };
}

/** Who re-anchors, as far as the process can tell: its OS user (the one behind sudo) and machine. */
export function operatorName(): string {
  let user: string;
  try {
    user = userInfo().username;
  } catch {
    // userInfo() throws when the uid has no passwd entry (some containers).
    user = process.env.USER ?? `uid ${process.getuid?.() ?? 'unknown'}`;
  }
  if (process.env.SUDO_USER) user = `${process.env.SUDO_USER} (as ${user} via sudo)`;
  return `${user}@${hostname()}`;
}

/** The `head_anchor` row. Prepared once, at start-up. */
export class AnchorRegistry {
  private readonly select: Database.Statement;
  private readonly upsert: Database.Statement;

  constructor(db: Database.Database) {
    this.select = db.prepare(
      'SELECT anchor_id AS anchorId, anchor_path AS anchorPath, since_revision AS sinceRevision FROM head_anchor WHERE singleton = 1',
    );
    this.upsert = db.prepare(
      `INSERT INTO head_anchor (singleton, anchor_id, anchor_path, since_revision, registered_at_ms) VALUES (1, ?, ?, ?, ?)
       ON CONFLICT (singleton) DO UPDATE SET anchor_id = excluded.anchor_id, anchor_path = excluded.anchor_path,
         since_revision = excluded.since_revision, registered_at_ms = excluded.registered_at_ms`,
    );
  }

  read(): Registration | undefined {
    return this.select.get() as Registration | undefined;
  }

  register(anchorId: string, anchorPath: string, sinceRevision: number, now: number): void {
    this.upsert.run(anchorId, anchorPath, sinceRevision, now);
  }
}
