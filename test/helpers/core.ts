// The core without a server: a Registry on the in-memory store with a manual clock, for fast
// unit tests (no process, no file, no real wait). Time moves only when a test moves it.

import { ManualClock } from '../../server/core/clock.ts';
import { claimCallerOf } from '../../server/core/authz.ts';
import { Registry, type RevisionChange } from '../../server/core/registry.ts';
import { validateSyncHost, type SyncHostCommand } from '../../server/core/resources.ts';
import { MemoryStore, SharedMemory } from '../../server/store/memory-store.ts';
import { historyQuery, type RevisionLog } from '../../server/core/store.ts';
import type { BudgetInput } from '../../server/core/budgets.ts';
import type { FindOptions } from '../../server/core/registry.ts';

export const ORIGIN = { actor: 'test', reason: '' };

/** A claim caller without authentication (as without TLS): it owns what it creates, and may act on any claim. */
export const ANYONE = claimCallerOf(undefined, ORIGIN.actor);

export const GPU = { vendor: 'nvidia', device_api: 'vfio-pci', type: 'nvidia-a10-4q', software_version: '1.0.0' };

export interface CoreRig {
  readonly registry: Registry;
  readonly store: MemoryStore;
  readonly clock: ManualClock;
  /** Every revision the registry published, in order. */
  readonly changes: RevisionChange[];
  /** Opens another registry on the same store and clock (a restart). */
  reopen(options?: { leaseTtlMs?: number }): Promise<CoreRig>;
}

export async function openCore(
  options: { leaseTtlMs?: number; store?: MemoryStore; clock?: ManualClock; followLog?: RevisionLog; pastViewSliceRevisions?: number; pastViewCacheDevices?: number } = {},
): Promise<CoreRig> {
  const store = options.store ?? new MemoryStore();
  const clock = options.clock ?? new ManualClock();
  // A store of a SharedMemory brings its log: the registry follows the other servers' writes.
  const followLog = options.followLog ?? store.log;
  const registry = await Registry.open(store, { clock, leaseTtlMs: options.leaseTtlMs ?? 3_600_000, followLog, pastViewSliceRevisions: options.pastViewSliceRevisions, pastViewCacheDevices: options.pastViewCacheDevices });
  const changes: RevisionChange[] = [];
  registry.subscribe((change) => changes.push(change));
  return {
    registry,
    store,
    clock,
    changes,
    async reopen(again = {}) {
      await registry.close();
      return openCore({ leaseTtlMs: again.leaseTtlMs ?? options.leaseTtlMs, store, clock, followLog: options.followLog });
    },
  };
}

/**
 * `count` registries over one shared memory store (replicas of one database, as over
 * PostgreSQL), on one manual clock: each follows the others' writes through its store's log.
 * The first opened holds the lease duty.
 */
export async function openReplicas(count: number, options: { leaseTtlMs?: number } = {}): Promise<{ memory: SharedMemory; clock: ManualClock; rigs: CoreRig[] }> {
  const memory = new SharedMemory();
  const clock = new ManualClock();
  const rigs: CoreRig[] = [];
  for (let i = 0; i < count; i++) rigs.push(await openCore({ ...options, store: memory.open(), clock }));
  return { memory, clock, rigs };
}

/** Resolves with the next revision the registry publishes. */
export function nextChange(registry: Registry): Promise<RevisionChange> {
  return new Promise((resolve) => {
    const unsubscribe = registry.subscribe((change) => {
      unsubscribe();
      resolve(change);
    });
  });
}

/** A sync of host `name` with the given device ids (all the same GPU unless told). */
export function syncOf(
  name: string,
  devices: readonly (string | { id: string; descriptor?: object; available?: number })[] = ['gpu0'],
  labels: Record<string, string> = {},
  budgets: readonly BudgetInput[] = [],
): SyncHostCommand {
  return validateSyncHost({
    name,
    labels,
    budgets,
    devices: devices.map((device) => {
      const spec = typeof device === 'string' ? { id: device } : device;
      return {
        device_id: spec.id,
        descriptor: (spec.descriptor ?? GPU) as never,
        ...(spec.available !== undefined && { capacity: { total: 4, available: spec.available } }),
      };
    }),
  });
}

/** A history-ordered list of a host's entries, oldest first. */
export async function historyOf(registry: Registry, hostId: string) {
  return registry.listHistory(historyQuery({ hostId, deviceId: '', limit: 1000 }));
}

/**
 * Resolves once every write to `hostId` queued before it has been committed: a write that
 * changes nothing (its draining mark set to what it is) goes through the queue after them.
 */
export async function settled(registry: Registry, hostId: string): Promise<void> {
  const host = registry.findHost(hostId);
  if (!host) throw new Error(`hosts/${hostId} does not exist`);
  await registry.setDraining(hostId, host.record.draining, ORIGIN);
}

/**
 * The log of a store shared with replicas that write nothing: nothing to follow, the lease
 * duty held while `holdsDuty` says so, and the renewals "the others" persisted in `persisted`.
 */
export class QuietReplicasLog implements RevisionLog {
  holdsDuty = true;
  readonly persisted = new Map<string, number>();

  constructor(private readonly registry: () => Registry) {}

  async readAfter(): ReturnType<RevisionLog['readAfter']> {
    return { head: this.registry().revision, revisions: [], descriptors: [], checkpoint: this.registry().checkpoint };
  }

  onAdvance(): void {}

  onHead(): void {}

  async checkpoint() {
    return this.registry().checkpoint;
  }

  holdsLeaseDuty(): boolean {
    return this.holdsDuty;
  }

  async leaseExpiries(hostIds: readonly string[]): Promise<ReadonlyMap<string, number>> {
    return new Map(hostIds.flatMap((hostId) => (this.persisted.has(hostId) ? [[hostId, this.persisted.get(hostId)!] as const] : [])));
  }
}

/** FindTargets' options with every filter off: ten compatible targets, no rejected list. */
export const FIND: FindOptions = {
  excludeHosts: new Set(),
  includeUnreachable: false,
  includeDraining: false,
  hostLabels: {},
  requireAvailable: false,
  limit: 10,
  includeRejected: false,
  rejectedLimit: 10,
  includeSourceHost: false,
};
