// The bounded check of the history chain at start-up: the newest N entries are re-hashed and
// their links followed (down to the checkpoint when the history is shorter than N), so that
// corruption of recent history pages is found when the server starts, not first by a reader.
// A full walk is `devcompat audit verify` on the running server (VerifyHistory). N is the
// server's `--startup-check` (default 10,000 entries: a few tens of milliseconds).

import type { Checkpoint } from '../core/store.ts';
import type { ChainedColumns } from './history-chain.ts';
import { walkChain } from './history-encoding.ts';

/** Where the newest entries come from (sqlite-history.ts): in chain order, with their links. */
export interface NewestEntries {
  newest(limit: number): { columns: ChainedColumns; prev: string | undefined; hash: string | undefined }[];
  /**
   * The same check over the same entries, done without building them (packed-chain-check.ts):
   * the number checked when every one passed; undefined when any did not.
   */
  checkNewest(limit: number, startHash: string): number | undefined;
}

export { DEFAULT_STARTUP_CHAIN_CHECK } from '../server-defaults.ts';

export class CorruptHistoryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CorruptHistoryError';
  }
}

/** Verifies the newest `limit` entries; returns how many were checked, throws CorruptHistoryError. */
export function checkRecentChain(history: NewestEntries, dbPath: string, limit: number, checkpoint: Checkpoint): number {
  if (limit <= 0) return 0;
  // The fast check passes exactly when the walk below would (packed-chain-check.ts); when it
  // does not, the walk finds what broke and says it.
  const passed = history.checkNewest(limit, checkpoint.hash);
  if (passed !== undefined) return passed;
  const rows = history.newest(limit + 1);
  if (rows.length === 0) return 0;
  // With more than `limit` entries, the oldest one read only provides the link to start from.
  const whole = rows.length <= limit;
  const walked = whole ? rows : rows.slice(1);
  const prevHash = whole ? checkpoint.hash : (rows[0].hash ?? '');
  const walk = walkChain(walked, { after: undefined, prevHash, limit, expectedHead: undefined });
  if (walk.broken) {
    const { problem, revision, seq, description } = walk.broken;
    throw new CorruptHistoryError(
      `the history in ${dbPath} is corrupt: ${problem} at revision ${revision} index ${seq}: ${description}. ` +
        'Refusing to start. Restore the database from a backup (then start with --accept-restore), or start with ' +
        '--startup-check 0 to start anyway and inspect it with devcompat audit verify and devcompat history',
    );
  }
  return walk.checked;
}
