// Host leases. A keepalive only moves a host's in-memory expiry; renewed expiries are written
// about once a second, outside history. A check every 100 ms (a quarter of the TTL when that
// is shorter) turns lapsed leases into UNREACHABLE writes dated at the expiry, so a lease that
// ran out while the server was down is expired at start-up with the right time. A keepalive
// or a sync that finds the host UNREACHABLE makes it READY again.
//
// Owns: each LiveHost's `leaseExpiry` (no other concern writes it), the set of renewed leases
// not yet persisted, the reachability writes in flight, the lease timers. May call: the live
// state's reads, the group commit's `setHostState`, the store's `commit` (lease expiries
// only), the clock.

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
   * No reachable host's lease runs out before this: the check skips its scan of every host
   * until then (a scan of 100,000 hosts ten times a second costs a core's tenth). Lowered by
   * every expiry set here, recomputed by each scan.
   */
  private earliestExpiry = -Infinity;

  constructor(
    readonly ttlMs: number,
    private readonly state: LiveState,
    private readonly store: RegistryStore,
    private readonly clock: Clock,
    /** With a store other servers share: only the duty holder expires, after reading renewals they wrote. */
    private readonly shared?: RevisionLog,
  ) {}

  private checkingShared = false;

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
      host.leaseExpiry = Math.max(host.leaseExpiry, plan.host.lastSyncTime + this.ttlMs);
      this.renewed.add(host);
    }
    this.earliestExpiry = Math.min(this.earliestExpiry, host.leaseExpiry);
  }

  /** A change another server committed (follower.ts): a sync there renewed the host's lease. */
  followed(change: { readonly host: HostRecord | undefined }, host: LiveHost | undefined, removed: LiveHost | undefined): void {
    if (removed) this.renewed.delete(removed);
    if (host && change.host) {
      host.leaseExpiry = Math.max(host.leaseExpiry, change.host.lastSyncTime + this.ttlMs);
      this.earliestExpiry = Math.min(this.earliestExpiry, host.leaseExpiry);
    }
  }

  /**
   * Renews a host's lease. Keepalives only touch memory (persisted about once a second); one
   * that finds the host UNREACHABLE also queues the write that makes it READY again.
   */
  keepAlive(hostId: string): { expireTime: number; state: HostState } {
    const host = this.state.getHost(hostId);
    host.leaseExpiry = this.clock.now() + this.ttlMs;
    this.earliestExpiry = Math.min(this.earliestExpiry, host.leaseExpiry);
    this.renewed.add(host);
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
    const now = this.clock.now();
    if (now < this.earliestExpiry) return;
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
      const due = host.leaseExpiry + grace;
      earliest = Math.min(earliest, due);
      if (due <= now && !this.reachabilityPending.has(host.record.hostId)) lapsed.push(host);
    }
    this.earliestExpiry = earliest;
    if (lapsed.length === 0) return;
    if (this.shared) {
      void this.expireShared(this.shared, lapsed);
      return;
    }
    for (const host of lapsed) this.expire(host);
  }

  private expire(host: LiveHost): void {
    this.queueReachability(host, false, host.leaseExpiry, {
      actor: SERVER_ACTOR,
      reason: `lease expired: no keepalive or sync for ${this.ttlMs} ms`,
    });
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
      const now = this.clock.now();
      for (const host of lapsed) {
        const renewedElsewhere = persisted.get(host.record.hostId);
        if (renewedElsewhere !== undefined && renewedElsewhere > host.leaseExpiry) host.leaseExpiry = renewedElsewhere;
        if (host.leaseExpiry + SHARED_LEASE_GRACE_MS <= now && this.state.findHost(host.record.hostId) === host) this.expire(host);
      }
    } catch {
      // The store cannot be reached: the next check tries again.
    } finally {
      this.checkingShared = false;
    }
  }

  private queueReachability(host: LiveHost, reachable: boolean, time: number | undefined, origin: WriteOrigin): void {
    const hostId = host.record.hostId;
    if (this.reachabilityPending.has(hostId) || this.stopped) return;
    this.reachabilityPending.add(hostId);
    const done = () => {
      this.reachabilityPending.delete(hostId);
      // A keepalive that came while the lapse was being committed renewed the lease: the
      // host is reachable after all, and says so at once.
      const current = this.state.findHost(hostId);
      if (!reachable && current && !current.record.reachable && current.leaseExpiry > this.clock.now()) {
        this.queueReachability(current, true, undefined, RENEWED);
      }
    };
    this.writes!.setHostState(hostId, { reachable, time }, origin).then(done, done);
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
