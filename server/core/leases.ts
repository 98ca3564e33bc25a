// Host leases. A keepalive only moves a host's in-memory expiry; renewed expiries are written
// about once a second, outside history. A check every 100 ms (a quarter of the TTL when that
// is shorter) turns lapsed leases into UNREACHABLE writes dated at the expiry, so a lease that
// ran out while the server was down is expired at start-up with the right time. A keepalive
// or a sync that finds the host UNREACHABLE makes it READY again.
//
// While the server runs, a lease lapses one TTL after its renewal on the clock's elapsed time,
// which is never stepped: the wall clock (what expiries are reported and persisted in, and
// lapses dated by) may be stepped by NTP or a resumed VM, and a step forward must not lapse
// every host at once, nor a step back keep a dead host READY. A wall-clock expiry that comes
// from elsewhere (the store at start-up, another replica's sync or renewal) counts for at most
// one TTL from when it is read, as etcd renews every lease for its TTL when a leader starts.
//
// Owns: each LiveHost's `leaseExpiry` and `leaseDue` (no other concern writes them), the set
// of renewed leases not yet persisted, the reachability writes in flight, the lease timers.
// May call: the live state's reads, the group commit's `setHostState`, the store's `commit`
// (lease expiries only), the clock.

import type { Clock } from './clock.ts';
import type { CommitObserver, GroupCommit } from './group-commit.ts';
import { hostState, type HostState, type LiveHost, type LiveState } from './live-state.ts';
import type { HistoryRecord, HostRecord, RegistryStore, RevisionLog } from './store.ts';
import { EMPTY_BATCH, type Plan, type WriteOrigin } from './write-planning.ts';

export { DEFAULT_LEASE_TTL_MS } from './lease-ttl.ts';
/** Lease expiry is detected within this much of the TTL. */
export const LEASE_CHECK_INTERVAL_MS = 100;
/** Renewed leases are written to disk this often (keepalives are not each durable). */
export const LEASE_PERSIST_INTERVAL_MS = 1000;
export const SERVER_ACTOR = 'devcompat';
/**
 * With replicas, a renewal another replica received reaches the duty holder only once that
 * replica persisted it (about once a second): the holder waits this long past an expiry before
 * it believes it, so a lease lapses between its TTL and TTL + 2 s after the last keepalive.
 */
export const SHARED_LEASE_GRACE_MS = 2 * LEASE_PERSIST_INTERVAL_MS;

const RENEWED: WriteOrigin = { actor: SERVER_ACTOR, reason: 'lease renewed by a keepalive' };

/** True for the history entry of a lapsed lease: the host itself turning from reachable to UNREACHABLE. */
export function isLeaseExpiry(entry: HistoryRecord): boolean {
  return (
    entry.deviceId === '' &&
    entry.before?.kind === 'host' &&
    entry.before.host.reachable &&
    entry.after?.kind === 'host' &&
    !entry.after.host.reachable
  );
}

/**
 * The expiry of a loaded host: the later of the one persisted and one TTL from its last sync.
 * A sync's time is durable with the sync, a renewed expiry only about a second later: a crash
 * between the two must not leave the older expiry in force.
 */
export function loadedLeaseExpiry(record: HostRecord, persisted: ReadonlyMap<string, number>, ttlMs: number): number {
  const fromSync = record.lastSyncTime + ttlMs;
  const stored = persisted.get(record.hostId);
  return stored === undefined || stored < fromSync ? fromSync : stored;
}

/** What a host's lease is worth when read from a wall-clock expiry: at most one TTL from now. */
function remainingOf(expiry: number, now: number, ttlMs: number): number {
  return Math.min(expiry - now, ttlMs);
}

export class Leases implements CommitObserver {
  /** Hosts whose lease changed since it was last persisted. */
  private readonly renewed = new Set<LiveHost>();
  /** Hosts with a reachability write queued, so it is queued once. */
  private readonly reachabilityPending = new Set<string>();
  private stopTimers: (() => void)[] = [];
  private persisting: Promise<void> | undefined;
  private stopped = false;
  private writes: GroupCommit | undefined;
  /**
   * No reachable host's lease runs out before this (elapsed time): the check skips its scan of
   * every host until then (a scan of 100,000 hosts ten times a second costs a core's tenth).
   * Lowered by every renewal here, recomputed by each scan.
   */
  private earliestDue = -Infinity;

  constructor(
    readonly ttlMs: number,
    private readonly state: LiveState,
    private readonly store: RegistryStore,
    private readonly clock: Clock,
    /** With a store other servers share: only the duty holder expires, after reading renewals they wrote. */
    private readonly shared?: RevisionLog,
  ) {
    // The loaded expiries (loadedLeaseExpiry) are on the wall clock of the server that wrote
    // them; each is worth at most one TTL from now.
    const now = clock.now();
    const elapsed = clock.elapsed();
    for (const host of state.allHosts()) {
      const remaining = remainingOf(host.leaseExpiry, now, ttlMs);
      host.leaseExpiry = now + remaining;
      host.leaseDue = elapsed + remaining;
    }
  }

  /**
   * Renews a host's lease to `remaining` ms from now unless it already runs longer (a sync
   * never shortens a lease a keepalive renewed while it committed). The wall-clock expiry is
   * the due date read on the wall clock now. `persist`: this server received the renewal, so
   * it writes it (a renewal another server received, that server writes).
   */
  private renew(host: LiveHost, remaining: number, persist: boolean): void {
    const due = this.clock.elapsed() + remaining;
    if (due >= host.leaseDue) {
      host.leaseDue = due;
      host.leaseExpiry = this.clock.now() + remaining;
      if (persist) this.renewed.add(host);
    }
    this.earliestDue = Math.min(this.earliestDue, host.leaseDue);
  }

  private checkingShared = false;
  /**
   * Replicas: the last expiry read from the store for a host. The same expiry read again is no
   * new renewal: one written by a clock far ahead must not renew the lease at every read.
   */
  private readonly readElsewhere = new WeakMap<LiveHost, number>();

  /** Connects the leases to the write pipeline, which is built with them as its observer. */
  connect(writes: GroupCommit): void {
    this.writes = writes;
  }

  /** A sync renews its host's lease (a new host's starts); a deleted host's is forgotten. */
  applied(plan: Plan, host: LiveHost | undefined, removed: LiveHost | undefined): void {
    if (removed) this.renewed.delete(removed);
    if (!host || !plan.host) return;
    if (plan.write.kind === 'sync') {
      // The sync's time is when it was planned: a keepalive answered while it committed may
      // have renewed the lease further, and the expiry it was told stands.
      this.renew(host, remainingOf(plan.host.lastSyncTime + this.ttlMs, this.clock.now(), this.ttlMs), true);
    }
    this.earliestDue = Math.min(this.earliestDue, host.leaseDue);
  }

  /** A change another server committed (follower.ts): a sync there renewed the host's lease. */
  followed(change: { readonly host: HostRecord | undefined }, host: LiveHost | undefined, removed: LiveHost | undefined): void {
    if (removed) this.renewed.delete(removed);
    if (host && change.host) {
      // Dated by the other server's wall clock: worth at most one TTL from now here.
      this.renew(host, remainingOf(change.host.lastSyncTime + this.ttlMs, this.clock.now(), this.ttlMs), false);
    }
  }

  /**
   * Renews a host's lease. Keepalives only touch memory (persisted about once a second); one
   * that finds the host UNREACHABLE also queues the write that makes it READY again.
   */
  keepAlive(hostId: string): { expireTime: number; state: HostState } {
    const host = this.state.getHost(hostId);
    this.renew(host, this.ttlMs, true);
    if (!host.record.reachable) {
      this.queueReachability(host, true, undefined, RENEWED);
      return { expireTime: host.leaseExpiry, state: host.record.draining ? 'DRAINING' : 'READY' };
    }
    return { expireTime: host.leaseExpiry, state: hostState(host.record) };
  }

  /**
   * Starts lease expiry: lapsed leases are expired at once (those that ran out while the
   * server was down are recorded at the time they ran out), then checked every 100 ms.
   */
  start(): void {
    this.expireLapsed();
    this.stopTimers.push(
      this.clock.every(Math.min(LEASE_CHECK_INTERVAL_MS, this.ttlMs / 4), () => this.expireLapsed()),
      this.clock.every(LEASE_PERSIST_INTERVAL_MS, () => void this.persist()),
    );
  }

  /** Stops the timers and queues no more reachability writes. */
  stop(): void {
    this.stopped = true;
    for (const stop of this.stopTimers) stop();
    this.stopTimers = [];
  }

  /** Writes the renewed expiries now (close calls it after the last commit). */
  async flush(): Promise<void> {
    await this.persisting;
    await this.persist();
  }

  private expireLapsed(): void {
    if (this.stopped) return;
    const now = this.clock.elapsed();
    if (now < this.earliestDue) return;
    // With replicas a lease is believed lapsed only SHARED_LEASE_GRACE_MS past its expiry, so
    // the earliest expiry the skip waits for includes the grace: a host lapsed but still in its
    // grace makes the check that follows the grace run, never skips it.
    const grace = this.shared ? SHARED_LEASE_GRACE_MS : 0;
    let earliest = Infinity;
    const lapsed: LiveHost[] = [];
    for (const host of this.state.allHosts()) {
      if (!host.record.reachable) continue;
      // A host whose lapse is being written counts too (its expiry is past): if the write
      // fails, or the duty holder cannot expire it yet, the next check finds it again.
      const due = host.leaseDue + grace;
      earliest = Math.min(earliest, due);
      if (due <= now && !this.reachabilityPending.has(host.record.hostId)) lapsed.push(host);
    }
    this.earliestDue = earliest;
    if (lapsed.length === 0) return;
    if (this.shared) {
      void this.expireShared(this.shared, lapsed);
      return;
    }
    for (const host of lapsed) this.expire(host);
  }

  /** Writes a lapse, dated when the lease ran out on today's wall clock (the expiry, unless the clock was stepped since). */
  private expire(host: LiveHost): void {
    // The elapsed time is fractional (performance.now()); revision times are whole ms.
    const overdue = Math.round(this.clock.elapsed() - host.leaseDue);
    this.queueReachability(
      host,
      false,
      { time: this.clock.now() - overdue, lapsedDue: host.leaseDue },
      { actor: SERVER_ACTOR, reason: `lease expired: no keepalive or sync for ${this.ttlMs} ms` },
    );
  }

  /**
   * Replicas: only the holder of the duty expires leases, and only after reading the renewals
   * other replicas persisted (keepalives they received), so a host that keeps its lease through
   * another replica is not expired. Renewals are persisted about once a second, so a lease
   * lapses between its TTL and about TTL + 2 s after its last keepalive.
   */
  private async expireShared(shared: RevisionLog, lapsed: readonly LiveHost[]): Promise<void> {
    if (this.checkingShared || !shared.holdsLeaseDuty()) return;
    this.checkingShared = true;
    try {
      const persisted = await shared.leaseExpiries(lapsed.map((host) => host.record.hostId));
      for (const host of lapsed) {
        if (this.state.findHost(host.record.hostId) !== host) continue;
        // Another replica's renewal, on its wall clock: worth at most one TTL from now.
        const renewedElsewhere = persisted.get(host.record.hostId);
        const readBefore = this.readElsewhere.get(host);
        if (renewedElsewhere !== undefined && renewedElsewhere > host.leaseExpiry && (readBefore === undefined || renewedElsewhere > readBefore)) {
          this.readElsewhere.set(host, renewedElsewhere);
          this.renew(host, remainingOf(renewedElsewhere, this.clock.now(), this.ttlMs), false);
        }
        if (host.leaseDue + SHARED_LEASE_GRACE_MS <= this.clock.elapsed()) this.expire(host);
      }
    } catch {
      // The store cannot be reached: the next check tries again.
    } finally {
      this.checkingShared = false;
    }
  }

  private queueReachability(
    host: LiveHost,
    reachable: boolean,
    lapse: { readonly time: number; readonly lapsedDue: number } | undefined,
    origin: WriteOrigin,
  ): void {
    const hostId = host.record.hostId;
    if (this.reachabilityPending.has(hostId) || this.stopped) return;
    this.reachabilityPending.add(hostId);
    const done = () => {
      this.reachabilityPending.delete(hostId);
      // A keepalive that came while the lapse was being committed renewed the lease: the
      // host is reachable after all, and says so at once.
      const current = this.state.findHost(hostId);
      if (!reachable && current && !current.record.reachable && current.leaseDue > this.clock.elapsed()) {
        this.queueReachability(current, true, undefined, RENEWED);
      }
    };
    this.writes!.setHostState(hostId, { reachable, ...lapse }, origin).then(done, done);
  }

  /** Writes renewed lease expiries (not durable one by one; see docs/api.md, Leases). */
  private persist(): Promise<void> {
    if (this.persisting || this.renewed.size === 0) return this.persisting ?? Promise.resolve();
    const hosts = [...this.renewed];
    const leases = hosts.map((host) => ({ hostId: host.record.hostId, expireTime: host.leaseExpiry }));
    this.renewed.clear();
    this.persisting = this.store
      .commit({ ...EMPTY_BATCH, leases })
      .then(
        () => undefined,
        // The store reports its own failure; the renewals are written at the next persist.
        () => {
          // Only hosts still live as the same object: one deleted (or re-created) meanwhile has its own lease now.
          for (const host of hosts) if (this.state.findHost(host.record.hostId) === host) this.renewed.add(host);
        },
      )
      .finally(() => {
        this.persisting = undefined;
      });
    return this.persisting;
  }
}
