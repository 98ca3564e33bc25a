// The write pipeline: queue, plan, commit, apply, publish, acknowledge. Writes are queued; one
// batch is in flight at a time. A flush plans every queued write against the live state (at
// most one write per host per batch: a later one waits for the next batch), commits the batch
// in one store transaction, and only once that is durable applies it to the live state,
// publishes each revision to the change feed, and acknowledges the writes. Writes that arrive
// meanwhile form the next batch, so batches grow with the load. A failed commit rejects the
// whole batch and leaves the live state untouched.
//
// Owns: the queue, the batch in flight, the change-feed listeners. May call: write-planning.ts,
// the live state's `apply`/`committed`, the store's `commit`, the clock, and the observer it
// is given (leases.ts learns of applied writes through it).

import { DomainError } from './errors.ts';
import type { Clock } from './clock.ts';
import type { DescriptorEntry, LiveHost, LiveState } from './live-state.ts';
import type { SyncHostCommand } from './resources.ts';
import { StaleBatchError, type CommitResult, type HistoryRecord, type LoggedRevision, type RegistryStore } from './store.ts';
import type { Follower } from './follower.ts';
import type { ClaimResult, ClaimWrite } from './claims-registry.ts';
import { commitBatchOf, hostIdOf, planWrite, usedDescriptors, type Plan, type WriteOrigin, type WriteRequest } from './write-planning.ts';

/** One committed revision, as watchers see it. */
export interface RevisionChange {
  readonly revision: number;
  readonly time: number;
  /** The history chain's head after this revision. */
  readonly headHash: string;
  readonly entries: readonly HistoryRecord[];
  /** A slot for the transport to memoize its encoding of the unfiltered change. */
  memo?: unknown;
}

export interface StateResult {
  readonly revision: number;
  readonly host: LiveHost;
  readonly changed: boolean;
}

export interface SyncResult extends StateResult {
  readonly created: number;
  readonly updated: number;
  readonly deleted: number;
}

export interface DeleteResult {
  readonly revision: number;
  readonly devicesDeleted: number;
}

/** Told of every write applied to the live state, before the change feed and the writer. */
export interface CommitObserver {
  applied(plan: Plan, host: LiveHost | undefined, removed: LiveHost | undefined): void;
}

/** Plans claim writes and the claims a sync uses up (claims-registry.ts). */
export interface ClaimPlanning {
  plan(write: ClaimWrite, revision: number, time: number): Plan;
  afterSync(plan: Plan, time: number): Plan;
}

interface Settle<T> {
  resolve(value: T): void;
  reject(error: unknown): void;
}

type Pending = { readonly request: WriteRequest; readonly settle: Settle<never> };

export class GroupCommit {
  private pending: Pending[] = [];
  private flushScheduled = false;
  /** The batch being committed; the next one gathers meanwhile. */
  private committing: Promise<void> | undefined;
  private closedValue = false;
  private readonly listeners = new Set<(change: RevisionChange) => void>();
  /** With a store other servers write: what they committed is applied before each batch. */
  private follower: Follower | undefined;
  private catchUpWanted = false;

  constructor(
    private readonly store: RegistryStore,
    private readonly state: LiveState,
    private readonly clock: Clock,
    private readonly observer: CommitObserver,
    private readonly claims?: ClaimPlanning,
  ) {}

  syncHost(command: SyncHostCommand, origin: WriteOrigin): Promise<SyncResult> {
    return this.enqueue({ kind: 'sync', command, origin });
  }

  deleteHost(hostId: string, expectedRevision: number | undefined, origin: WriteOrigin): Promise<DeleteResult> {
    return this.enqueue({ kind: 'delete', hostId, expectedRevision, origin });
  }

  /** Changes a host's draining mark and/or reachability; `time` dates it (default: now). */
  setHostState(
    hostId: string,
    change: { readonly reachable?: boolean; readonly draining?: boolean; readonly time?: number },
    origin: WriteOrigin,
  ): Promise<StateResult> {
    return this.enqueue({ kind: 'state', hostId, ...change, origin });
  }

  /** A claim write (create, renew, release, expiry): decided in its batch against the host's claims. */
  claimWrite(write: ClaimWrite): Promise<ClaimResult> {
    return this.enqueue(write);
  }

  /**
   * Follows a store that other servers write: before each batch, and whenever `wake` is
   * called, the revisions they committed are applied and published like this server's own.
   */
  follow(follower: Follower): void {
    this.follower = follower;
  }

  /** Another server may have committed: catch up between batches. */
  wake(): void {
    this.catchUpWanted = true;
    this.scheduleFlush();
  }

  /** Resolves once the state has caught up with the store's head as of this call (shared stores only). */
  catchUp(): Promise<void> {
    if (!this.follower) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.catchUpWaiters.push({ resolve, reject });
      this.wake();
    });
  }

  private catchUpWaiters: Settle<void>[] = [];

  /** Called synchronously after each committed revision, in revision order. */
  subscribe(listener: (change: RevisionChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Writes that are already queued are committed; new ones are refused. */
  async close(): Promise<void> {
    this.closedValue = true;
    while (this.committing || this.pending.length > 0) {
      if (this.committing) await this.committing;
      else this.flush();
    }
  }

  private enqueue<T>(request: WriteRequest): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (this.closedValue) {
        reject(new DomainError('UNAVAILABLE', 'the registry is shutting down'));
        return;
      }
      this.pending.push({ request, settle: { resolve, reject } as Settle<never> });
      this.scheduleFlush();
    });
  }

  private scheduleFlush(): void {
    if (this.flushScheduled || this.committing) return;
    this.flushScheduled = true;
    setImmediate(() => this.flush());
  }

  /**
   * Plans every queued write against the current state and commits them as one batch. One
   * batch is in flight at a time: writes that arrive meanwhile wait for the next, so batches
   * grow with the load, and each plan sees every earlier write applied.
   */
  private flush(): void {
    this.flushScheduled = false;
    if (this.committing) return;
    if (this.follower) {
      this.committing = this.followAndFlush(this.follower).finally(() => {
        this.committing = undefined;
        if (this.pending.length > 0 || this.catchUpWanted) this.scheduleFlush();
      });
      return;
    }
    const batch = this.planBatch();
    if (batch) {
      this.committing = this.commit(batch.plans, batch.newDescriptors, batch.revision, batch.lastTime).finally(() => {
        this.committing = undefined;
        if (this.pending.length > 0) this.scheduleFlush();
      });
    } else if (this.pending.length > 0) {
      this.scheduleFlush();
    }
  }

  /**
   * A shared store: catch up with what other servers committed, then plan and commit the
   * queued writes against that state. The store refuses the batch if yet another server
   * committed in between (StaleBatchError): the writes go back to the queue, to be planned
   * again after the next catch-up.
   */
  private async followAndFlush(follower: Follower): Promise<void> {
    this.catchUpWanted = false;
    const waiters = this.catchUpWaiters;
    this.catchUpWaiters = [];
    try {
      await follower.catchUp((revision) => this.publishFollowed(revision));
    } catch (error) {
      // The store cannot be reached: queued writes fail now rather than wait unbounded.
      for (const waiter of waiters) waiter.reject(error);
      const writes = this.pending;
      this.pending = [];
      for (const write of writes) write.settle.reject(error);
      return;
    }
    for (const waiter of waiters) waiter.resolve();
    const batch = this.planBatch();
    if (!batch) return;
    // A stale batch's writes are back in the queue: the flush that follows catches up first.
    await this.commit(batch.plans, batch.newDescriptors, batch.revision, batch.lastTime);
  }

  private publishFollowed(logged: LoggedRevision): void {
    const change: RevisionChange = { revision: logged.revision, time: logged.time, headHash: logged.headHash, entries: logged.entries };
    for (const listener of this.listeners) listener(change);
  }

  /** Plans every queued write (one per host) against the live state; undefined when none is left to commit. */
  private planBatch():
    | { plans: { plan: Plan; settle: Settle<never> }[]; newDescriptors: Map<string, DescriptorEntry>; revision: number; lastTime: number }
    | undefined {
    const writes = this.pending;
    this.pending = [];
    const plans: { plan: Plan; settle: Settle<never> }[] = [];
    const deferred: Pending[] = [];
    const hostsInBatch = new Set<string>();
    const newDescriptors = new Map<string, DescriptorEntry>();
    let revision = this.state.revision;
    const now = this.clock.now();
    // Revision times never go backwards, even when the wall clock does or a change is dated
    // in the past (a lease that lapsed while the server was down).
    let lastTime = this.state.revisionTime;
    for (const write of writes) {
      const { request } = write;
      const hostId = hostIdOf(request);
      // Each write is planned against the state before the batch, so one host is written
      // at most once per batch; a second write to it waits for the next batch.
      if (hostsInBatch.has(hostId)) {
        deferred.push(write);
        continue;
      }
      const time = Math.max(request.kind === 'state' ? request.time ?? now : now, lastTime);
      try {
        const plan = this.planOne(request, revision + 1, time, now, newDescriptors);
        if (plan.revision !== undefined) {
          revision = plan.revision;
          lastTime = time;
        }
        hostsInBatch.add(hostId);
        plans.push({ plan, settle: write.settle });
      } catch (error) {
        write.settle.reject(error);
      }
    }
    this.pending.unshift(...deferred);
    return plans.length > 0 ? { plans, newDescriptors, revision, lastTime } : undefined;
  }

  private planOne(request: WriteRequest, revision: number, time: number, now: number, newDescriptors: Map<string, DescriptorEntry>): Plan {
    if (request.kind === 'claim') {
      if (!this.claims) throw new Error('claim writes need the claims concern');
      return this.claims.plan(request, revision, time);
    }
    const plan = planWrite(this.state, request, revision, time, now, newDescriptors);
    return this.claims ? this.claims.afterSync(plan, time) : plan;
  }

  private async commit(
    planned: { plan: Plan; settle: Settle<never> }[],
    newDescriptors: Map<string, DescriptorEntry>,
    revision: number,
    revisionTime: number,
  ): Promise<void> {
    const plans = planned.map(({ plan }) => plan);
    let heads: CommitResult['heads'];
    try {
      ({ heads } = await this.store.commit({ ...commitBatchOf(plans, newDescriptors), baseRevision: this.state.revision }));
    } catch (error) {
      if (error instanceof StaleBatchError && this.follower) {
        // Planned against a state another server has moved past: plan again after catching up.
        this.pending.unshift(...planned.map(({ plan, settle }) => ({ request: plan.write, settle })));
        return;
      }
      for (const { settle } of planned) settle.reject(error);
      return;
    }
    for (const entry of usedDescriptors(plans, newDescriptors)) this.state.addDescriptor(entry);
    for (const plan of plans) {
      const { host, removed } = this.state.apply(plan);
      this.observer.applied(plan, host, removed);
    }
    const changing = plans.filter((plan) => plan.revision !== undefined);
    this.state.committed(revision, changing.length > 0 ? revisionTime : undefined, heads.at(-1)?.hash);
    for (let i = 0; i < changing.length; i++) {
      const plan = changing[i];
      const change: RevisionChange = {
        revision: plan.revision!,
        time: plan.history[0].time,
        headHash: heads[i].hash,
        entries: plan.history,
      };
      for (const listener of this.listeners) listener(change);
    }
    for (const { plan, settle } of planned) settle.resolve(this.resultOf(plan) as never);
  }

  private resultOf(plan: Plan): SyncResult | DeleteResult | StateResult | ClaimResult {
    const write = plan.write;
    if (write.kind === 'claim') {
      return { revision: plan.revision ?? this.state.revision, claim: plan.claims!.claim!, created: plan.claims!.created ?? false, headHash: this.state.headHash };
    }
    if (write.kind === 'delete') return { revision: plan.revision!, devicesDeleted: plan.deletes.length };
    const common = {
      revision: plan.revision ?? this.state.revision,
      host: this.state.findHost(plan.hostId)!,
      changed: plan.revision !== undefined,
    };
    if (write.kind === 'state') return common;
    return { ...common, created: plan.created, updated: plan.updated, deleted: plan.deletes.length };
  }
}
