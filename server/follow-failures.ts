// What an operator sees when a replica cannot catch up with the shared store for a reason other
// than the database being unreachable (which serving-health.ts reports): a query refused (a role
// without SELECT on a table), a row that does not read. The replica's answers stay at the last
// revision it applied meanwhile, so this must not be silent; but every wake-up retries, so it
// must not flood the log either: the first failure, then at most one line a minute with the
// count, and one line when it catches up again.

import type { Logger } from 'pino';
import { DomainError } from './core/errors.ts';

/** At most one "still cannot follow" line per this many milliseconds. */
export const FOLLOW_FAILURE_LOG_INTERVAL_MS = 60_000;

export interface FollowFailureLog {
  failed(error: unknown, revision: number): void;
  recovered(revision: number): void;
}

export function followFailureLog(log: Logger, now: () => number = Date.now): FollowFailureLog {
  let failures = 0;
  let loggedAt: number | undefined;
  return {
    failed(error, revision) {
      // An unreachable database is reported once by serving health, with its recovery.
      if (error instanceof DomainError && error.reason === 'UNAVAILABLE') return;
      failures++;
      const at = now();
      if (loggedAt !== undefined && at - loggedAt < FOLLOW_FAILURE_LOG_INTERVAL_MS) return;
      const first = loggedAt === undefined;
      loggedAt = at;
      log.error(
        { err: error, revision, failures },
        first
          ? `cannot follow the database: this replica's answers stay at revision ${revision} until it can`
          : `still cannot follow the database: answers at revision ${revision}`,
      );
    },
    recovered(revision) {
      if (loggedAt === undefined) return;
      log.info({ revision, failures }, 'following the database again');
      failures = 0;
      loggedAt = undefined;
    },
  };
}
