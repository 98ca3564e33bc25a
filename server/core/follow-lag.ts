// How far a server that follows a shared store (replicas over PostgreSQL) is behind it. Lag is
// measured as time: how long ago this server last held the store's head, that is, the last
// moment it is sure no revision it lacks had been committed. Each read of the head vouches for
// the moment the read was sent: a catch-up that reached the head it read, or the store's
// periodic probe finding a head this server already holds. A server whose catch-up stalls (its
// connection hangs, the log is too long to read) or that hears nothing from the store ages,
// whatever it believes about the head; health turns NOT_SERVING past a bound (server.ts).
//
// Owns: the last moment at head and the highest head heard of. May call: the clock.

import type { Clock } from './clock.ts';

/** What metrics and health read of a following server. */
export interface FollowLagReading {
  /** Milliseconds since this server last held the store's head. */
  readonly lagMs: number;
  /** The highest head the store reported, minus this server's revision (0 when at head). */
  readonly revisionsBehind: number;
}

export class FollowLag {
  private currentAt: number;
  private knownHead = 0;

  constructor(
    private readonly clock: Clock,
    private readonly applied: () => number,
  ) {
    // The state was just loaded from the store: at its head now.
    this.currentAt = clock.now();
  }

  /** The store's head was `head` at time `at` (when the read of it was sent). */
  observed(head: number, at: number): void {
    this.knownHead = Math.max(this.knownHead, head);
    if (this.applied() >= head) this.currentAt = Math.max(this.currentAt, at);
  }

  reading(): FollowLagReading {
    return {
      lagMs: Math.max(0, this.clock.now() - this.currentAt),
      revisionsBehind: Math.max(0, this.knownHead - this.applied()),
    };
  }
}
