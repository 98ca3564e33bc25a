// The server's gRPC health (grpc.health.v1), which load balancers use to pick a replica. Every
// service is SERVING unless one of these holds, and by itself again once none does:
// - the store cannot be reached (a database over the network, PostgreSQL);
// - this replica lags the shared store beyond the bound (`--max-lag`): it has not held the
//   database's head for that long (server/core/follow-lag.ts), so what it answers from memory
//   may miss what other replicas acknowledged;
// - the server is closing (for good).
// Each change is logged once, with its reason.

import type { HealthService } from './health-service.ts';
import type { Logger } from 'pino';
import type { FollowLagReading } from '../core/follow-lag.ts';

/** The default lag bound (`--max-lag`): ten probes of the head, well past a busy catch-up. */
export const DEFAULT_MAX_LAG_MS = 10_000;
/**
 * The lowest bound `--max-lag` takes (other than 0, off): the store probes its head about once
 * a second after the previous probe, so a healthy idle replica's lag reaches a second and a
 * round trip; under three seconds it would flap between SERVING and NOT_SERVING.
 */
export const MIN_MAX_LAG_MS = 3_000;

export class ServingHealth {
  private unreachable: string | undefined;
  private lagging: FollowLagReading | undefined;
  private closing = false;
  private serving = true;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly health: HealthService,
    private readonly services: readonly string[],
    private readonly log: Logger,
  ) {}

  /** The store became unreachable (false) or reachable again (true). */
  reachability(reachable: boolean, detail: string): void {
    if (reachable === (this.unreachable === undefined)) return;
    this.unreachable = reachable ? undefined : detail;
    if (reachable) this.log.info('the database is reachable again');
    else this.log.error({ detail }, 'the database cannot be reached: not serving');
    this.update();
  }

  /**
   * Checks `read` (a following server's lag) every quarter of `maxLagMs` (at most every
   * second): NOT_SERVING while the lag is above the bound. `maxLagMs` 0 turns the check off.
   */
  watchLag(read: () => FollowLagReading | undefined, maxLagMs: number): void {
    if (maxLagMs <= 0 || read() === undefined) return;
    const check = () => {
      const reading = read();
      const lagging = reading !== undefined && reading.lagMs > maxLagMs;
      if (lagging === (this.lagging !== undefined)) return;
      this.lagging = lagging ? reading : undefined;
      if (lagging) {
        this.log.warn(
          { lag_ms: reading.lagMs, revisions_behind: reading.revisionsBehind, max_lag_ms: maxLagMs },
          'this replica lags the database beyond --max-lag: not serving',
        );
      } else {
        this.log.info('this replica caught up with the database');
      }
      this.update();
    };
    this.timer = setInterval(check, Math.max(50, Math.min(1_000, maxLagMs / 4)));
    this.timer.unref();
  }

  /** NOT_SERVING for good: the server is closing. */
  close(): void {
    this.closing = true;
    if (this.timer) clearInterval(this.timer);
    this.update();
  }

  private update(): void {
    const serving = !this.closing && this.unreachable === undefined && this.lagging === undefined;
    if (serving === this.serving) return;
    this.serving = serving;
    if (serving && !this.closing) this.log.info('serving');
    const status = serving ? 'SERVING' : 'NOT_SERVING';
    // Closing: the watches end next, so NOT_SERVING goes even to a watcher that has not read.
    const final = { final: this.closing };
    this.health.setStatus('', status, final);
    for (const name of this.services) this.health.setStatus(name, status, final);
  }
}
