// Replicas over PostgreSQL: which one expires leases. The duty is a session advisory lock taken
// on a replica's LISTEN connection, so PostgreSQL releases it when that replica exits or its
// session ends. A holder that is alive but hung (SIGSTOP, a frozen VM: its connection lives, and
// the kernel answers TCP keepalives) stops probing; once its session has been idle for
// LEASE_DUTY_STALE_S another replica ends it, and takes the lock at a next probe. Leases would
// lapse nowhere otherwise.
//
// Owns: whether this replica holds the duty, and the listeners told when that changes. The
// store (postgres-store.ts) calls `claim` on its LISTEN connection and `lost` when it breaks.

import type pg from 'pg';

/** The session advisory lock whose holder expires leases. */
const LEASE_DUTY_LOCK = 7_341_002;

/** A holder's LISTEN session idle this long (it probes every second) is taken for hung, and ended. */
export const LEASE_DUTY_STALE_S = 10;

/**
 * Ends the session holding the lease duty if it has been idle for LEASE_DUTY_STALE_S (needs the
 * same role, or pg_signal_backend: otherwise its state is not visible and nothing is ended).
 */
const END_HUNG_DUTY_HOLDER = `
  SELECT a.pid, pg_terminate_backend(a.pid) AS ended
  FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
  WHERE l.locktype = 'advisory' AND l.granted AND l.classid = 0 AND l.objid = $1 AND l.objsubid = 1
    AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
    AND a.pid <> pg_backend_pid() AND a.state = 'idle' AND a.state_change < now() - make_interval(secs => $2)`;

export class LeaseDuty {
  private heldValue = false;
  /** The session this replica ended to take the duty from a hung holder, until it holds the duty. */
  private endedHolder: number | undefined;
  private readonly listeners: ((held: boolean, fromHung: number | undefined) => void)[] = [];

  get held(): boolean {
    return this.heldValue;
  }

  /**
   * Takes the duty on `client` if no other replica holds it; else ends a hung holder's session.
   * `current`: whether `client` is still the store's LISTEN connection when the lock answers.
   */
  async claim(client: pg.Client, current: () => boolean): Promise<void> {
    const result = await client.query('SELECT pg_try_advisory_lock($1) AS held', [LEASE_DUTY_LOCK]);
    if (!current()) return;
    if (result.rows[0]?.held === true) return this.set(true);
    // Refused (a holder of another role this one may not signal): the duty stays where it is.
    const ended = await client.query(END_HUNG_DUTY_HOLDER, [LEASE_DUTY_LOCK, LEASE_DUTY_STALE_S]).catch(() => undefined);
    const row = ended?.rows[0] as { pid: number; ended: boolean } | undefined;
    // Forgotten unless this probe ended it: another replica may have taken the duty meanwhile.
    this.endedHolder = row?.ended ? row.pid : undefined;
  }

  /** The LISTEN connection broke: the lock went with it (or will, when the server notices). */
  lost(): void {
    this.set(false);
  }

  onChange(listener: (held: boolean, fromHung: number | undefined) => void): void {
    this.listeners.push(listener);
  }

  private set(held: boolean): void {
    if (this.heldValue === held) return;
    this.heldValue = held;
    const fromHung = held ? this.endedHolder : undefined;
    this.endedHolder = undefined;
    for (const listener of this.listeners) listener(held, fromHung);
  }
}
