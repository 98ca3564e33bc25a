// Session consistency for one client (`readYourWrites`): the newest revision its own writes
// returned, sent as `min_revision` on its reads, so that a read through a replica that has not
// yet applied those writes waits for them (docs/ha.md). Without `readYourWrites` the session
// stays at 0 and a read carries only its own `minRevision`, if any.

import { compareRevisions, maxRevision } from './revisions.ts';
import type { MinRevision, RevisionInput } from './types.ts';

export class ReadSession {
  /** The newest revision this client's writes returned ('0' before the first, or when off). */
  private newest = '0';

  constructor(private readonly enabled: boolean) {}

  /** The session's revision, as a decimal string. */
  get revision(): string {
    return this.newest;
  }

  /**
   * The `min_revision` of a read: its own minRevision or the session's, the newer; absent when
   * neither. A minRevision that is not a revision (or a negative one) is sent as given, for the
   * server or the request checker to name it.
   */
  floor(options: MinRevision = {}): { min_revision?: RevisionInput } {
    const own = options.minRevision;
    if (own === undefined) return this.newest !== '0' ? { min_revision: this.newest } : {};
    let useOwn = true;
    try {
      useOwn = compareRevisions(own, 0) < 0 || compareRevisions(own, this.newest) >= 0;
    } catch {
      // not an integer: sent as given
    }
    return { min_revision: useOwn ? own : this.newest };
  }

  /** After a write: its revision becomes the session's floor when it is newer. */
  remember(response: unknown): void {
    const revision = (response as { revision?: unknown } | null)?.revision;
    if (!this.enabled || (typeof revision !== 'string' && typeof revision !== 'number')) return;
    this.newest = maxRevision(this.newest, revision);
  }
}
