// The write pipeline: queue, plan, commit, apply, publish, acknowledge. Writes are queued; a
// flush plans the queued writes (at most one write per host per batch: a later one waits for
// the next batch) and commits them as one store transaction; only once that is durable is the
// batch applied to the live state, each revision published to the change feed, and the writes
// acknowledged. Writes that arrive meanwhile form the next batch, so batches grow with the load.
// A failed commit rejects its whole batch and leaves the live state untouched.
//
// Two batches may be in flight: batch N+1 is planned against the state as it will be after N
// and sent while N commits (once as many writes wait as N holds: a trickle would make batches
// of one), or at the latest as soon as N is durable, before N is applied and acknowledged; so
// the store commits N+1 while this thread applies, acknowledges and plans. With nothing in
// flight, many queued writes go as two halves at once, so that two cohorts take turns. N+1
// writes no host that N writes (those wait, as a second write to one host does), so each of
// its plans, which reads only its own host's state (write-planning.ts, claims-registry.ts),
// is what it would be after N; its revisions and times continue N's, it reuses the
// descriptors N introduces, and its `baseRevision` is N's last revision. Outcomes are applied
// in order. If N fails, N+1 was planned on an outcome that did not happen: the store refuses
// it (StaleBatchError, every store checks `baseRevision`) and its writes are planned again.
// With a follower (a store other servers write) one batch is in flight, as the catch-up
// before each batch needs.
//
// Owns: the queue, the batches in flight, the change-feed listeners. May call: write-planning.ts,
// the live state's `apply`/`committed`, the store's `commit`, the clock, and the observer it
// is given (leases.ts learns of applied writes through it).

import { DomainError, unavailable } from './errors.ts';
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

/** `stale`: how many times in a row a batch holding this write lost to another server's commit. */
type Pending = { readonly request: WriteRequest; readonly settle: Settle<never>; readonly stale?: number };

type Planned = { readonly plan: Plan; readonly settle: Settle<never>; readonly stale?: number };

/**
 * On a shared store, how many times in a row one write may be planned and lose to another
 * server's commit (its batch refused as stale). Each loss means another write made progress, but one write could
 * lose for ever under a flood from the others: past this it fails UNAVAILABLE, for its client
 * to retry (or to go to the replica that is winning), rather than wait unbounded.
 */
export const MAX_STALE_REPLANS = 32;

/** A batch planned and ready to commit. */
interface Batch {
  readonly plans: readonly Planned[];
  /** The descriptors its writes introduced (some perhaps unused: see usedDescriptors). */
  readonly newDescriptors: Map<string, DescriptorEntry>;
  /** The revision it was planned after: the state's, or the batch in flight's last. */
  readonly baseRevision: number;
  /** Its last revision (baseRevision when no write changes anything) and that revision's time. */
  readonly revision: number;
  readonly lastTime: number;
  /** Every host it writes (unchanged syncs included). */
  readonly hosts: ReadonlySet<string>;
}

/** A batch sent to the store whose outcome is not applied yet. */
interface InFlight {
  readonly batch: Batch;
  /** The descriptors it stores, by key: a batch planned behind it uses their ids. */
  readonly stores: ReadonlyMap<string, DescriptorEntry>;
  /** Set when the batch before it failed: it was planned on an outcome that did not happen. */
  outdated: boolean;
  /** Settles once its outcome is applied (or its writes rejected or queued again). */
  done: Promise<void>;
}

type Outcome = { readonly heads: CommitResult['heads'] } | { readonly error: unknown };

/** At most this many batches are in flight (bounded memory); one with a follower. */
const MAX_IN_FLIGHT = 2;

/** With nothing in flight, at least twice this many queued writes are sent as two batches. */
const SPLIT_MIN = 8;

export class GroupCommit {
  private pending: Pending[] = [];
  private flushScheduled = false;
  /** The batches sent to the store, oldest first, whose outcome is not applied yet. */
  private readonly inFlight: InFlight[] = [];
  /** With a follower: the catch-up and batch under way (one at a time). */
  private following: Promise<void> | undefined;
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

  /** Changes a host's draining mark and/or reachability; `time` dates it (default: now); `lapsedDue` marks a lapse (write-planning.ts). */
  setHostState(
    hostId: string,
    change: { readonly reachable?: boolean; readonly draining?: boolean; readonly time?: number; readonly lapsedDue?: number },
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
    for (;;) {
      const busy = this.following ?? this.inFlight.at(-1)?.done;
      if (busy) await busy;
      else if (this.pending.length > 0) this.flush();
      else return;
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

  /** Whether a batch may be planned now: none in flight, or (without a follower) one that may succeed. */
  private canPlan(): boolean {
    if (this.follower) return !this.following;
    if (this.inFlight.length === 0) return true;
    return this.inFlight.length < MAX_IN_FLIGHT && !this.inFlight[0].outdated;
  }

  private scheduleFlush(): void {
    if (this.flushScheduled || !this.canPlan()) return;
    this.flushScheduled = true;
    setImmediate(() => this.flush());
  }

  /**
   * Plans the queued writes (those whose host the batch in flight does not write) and sends
   * them as one batch. Writes that arrive meanwhile wait for the next flush, so batches grow
   * with the load, and each plan sees every earlier write as committed or about to be.
   */
  private flush(): void {
    this.flushScheduled = false;
    if (!this.canPlan()) return;
    if (this.follower) {
      this.following = this.followAndFlush(this.follower).finally(() => {
        this.following = undefined;
        if (this.pending.length > 0 || this.catchUpWanted) this.scheduleFlush();
      });
      return;
    }
    const ahead = this.inFlight.at(-1);
    // While a batch commits, the next is sent early only once it would be no smaller: a
    // trickle of writes would otherwise make a batch (and a transaction) of one or two. The
    // rest wait for the batch in flight to be durable, and are sent then (`send`).
    if (ahead && this.pending.length < ahead.batch.plans.length) return;
    if (!ahead && this.pending.length >= 2 * SPLIT_MIN) {
      // Nothing in flight, many writes: the store starts on half of them while this thread
      // plans the other half, and from then on the two halves take turns, each one's commit
      // overlapping the other's apply, acknowledgements and planning.
      this.sendNext(undefined, Math.ceil(this.pending.length / 2));
      // Behind the first half; against the live state if every write of it was refused.
      this.sendNext(this.inFlight.at(-1));
      return;
    }
    this.sendNext(ahead);
  }

  /** Plans the queued writes (the first `limit`) behind `ahead` (or the live state) and sends them, if any is left. */
  private sendNext(ahead: InFlight | undefined, limit?: number): void {
    const batch = this.planBatch(ahead, limit);
    // Nothing to send: every write was refused, or waits for a host the batch in flight
    // writes (the flush after it is applied plans those).
    if (batch) this.send(batch, ahead);
  }

  /** Sends a batch to the store at once; its outcome is applied after the one ahead of it. */
  private send(batch: Batch, ahead: InFlight | undefined): void {
    const stores = new Map<string, DescriptorEntry>();
    for (const entry of usedDescriptors(batch.plans.map(({ plan }) => plan), batch.newDescriptors)) stores.set(entry.descriptor.key, entry);
    const outcome = this.commitBatch(batch);
    const sent: InFlight = { batch, stores, outdated: false, done: Promise.resolve() };
    sent.done = (ahead?.done ?? Promise.resolve())
      .then(async () => {
        const result = await outcome;
        // Durable, and nothing behind it yet: the writes queued meanwhile are planned against
        // the state after it and sent before it is applied and acknowledged, so that the store
        // commits them while this thread does that.
        if (!('error' in result) && this.inFlight.length === 1 && this.pending.length > 0) this.sendNext(sent);
        const failed = this.finish(batch, result, sent.outdated);
        // The batch behind this one was planned on this one's outcome.
        if (failed && this.inFlight[1]) this.inFlight[1].outdated = true;
      })
      .finally(() => {
        this.inFlight.shift();
        if (this.pending.length > 0) this.scheduleFlush();
      });
    this.inFlight.push(sent);
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
    const batch = this.planBatch(undefined);
    if (!batch) return;
    // A stale batch's writes are back in the queue: the flush that follows catches up first.
    this.finish(batch, await this.commitBatch(batch), false);
  }

  private publishFollowed(logged: LoggedRevision): void {
    const change: RevisionChange = { revision: logged.revision, time: logged.time, headHash: logged.headHash, entries: logged.entries };
    for (const listener of this.listeners) listener(change);
  }

  /**
   * Plans every queued write (one per host) against the live state, or against the state as it
   * will be after `ahead`, the batch in flight: a write to a host `ahead` writes waits, and the
   * batch's revisions, times and descriptors continue `ahead`'s. Undefined when none is left to commit.
   */
  private planBatch(ahead: InFlight | undefined, limit = Infinity): Batch | undefined {
    const writes = limit < this.pending.length ? this.pending.splice(0, limit) : this.pending;
    if (writes === this.pending) this.pending = [];
    const plans: Planned[] = [];
    const deferred: Pending[] = [];
    const hosts = new Set<string>();
    const busy = ahead?.batch.hosts;
    const newDescriptors = new Map<string, DescriptorEntry>();
    const baseRevision = ahead?.batch.revision ?? this.state.revision;
    let revision = baseRevision;
    const now = this.clock.now();
    // Revision times never go backwards, even when the wall clock does or a change is dated
    // in the past (a lease that lapsed while the server was down).
    let lastTime = ahead?.batch.lastTime ?? this.state.revisionTime;
    for (const write of writes) {
      const { request } = write;
      const hostId = hostIdOf(request);
      // Each write is planned against its host's state before the batch, so one host is
      // written at most once per batch; a second write to it waits for the next batch. A
      // host the batch in flight writes is not known yet: its writes wait for it.
      if (hosts.has(hostId) || busy?.has(hostId)) {
        deferred.push(write);
        continue;
      }
      const time = Math.max(request.kind === 'state' ? request.time ?? now : now, lastTime);
      try {
        const plan = this.planOne(request, revision + 1, time, newDescriptors, ahead?.stores);
        if (plan.revision !== undefined) {
          revision = plan.revision;
          lastTime = time;
        }
        hosts.add(hostId);
        plans.push({ plan, settle: write.settle, stale: write.stale });
      } catch (error) {
        write.settle.reject(error);
      }
    }
    this.pending.unshift(...deferred);
    return plans.length > 0 ? { plans, newDescriptors, baseRevision, revision, lastTime, hosts } : undefined;
  }

  private planOne(
    request: WriteRequest,
    revision: number,
    time: number,
    newDescriptors: Map<string, DescriptorEntry>,
    committing: ReadonlyMap<string, DescriptorEntry> | undefined,
  ): Plan {
    if (request.kind === 'claim') {
      if (!this.claims) throw new Error('claim writes need the claims concern');
      return this.claims.plan(request, revision, time);
    }
    const plan = planWrite(this.state, request, revision, time, newDescriptors, committing);
    return this.claims ? this.claims.afterSync(plan, time) : plan;
  }

  /** The store's answer to the batch, as a value (it may wait for the batch ahead to be applied). */
  private commitBatch(batch: Batch): Promise<Outcome> {
    const plans = batch.plans.map(({ plan }) => plan);
    return this.store
      .commit({ ...commitBatchOf(plans, batch.newDescriptors), baseRevision: batch.baseRevision })
      .then(({ heads }) => ({ heads }), (error: unknown) => ({ error }));
  }

  /**
   * Applies a batch's outcome: once durable, to the live state, the change feed and its
   * writers; refused, its writes are rejected, or, when it was planned against a state that
   * did not come to be (`outdated`, or another server's commit), queued to be planned again.
   * Returns whether the batch failed.
   */
  private finish(batch: Batch, outcome: Outcome, outdated: boolean): boolean {
    const planned = batch.plans;
    if ('error' in outcome) {
      const { error } = outcome;
      if (outdated) {
        this.pending.unshift(...planned.map(({ plan, settle, stale }) => ({ request: plan.write, settle, stale })));
      } else if (error instanceof StaleBatchError && this.follower) {
        const again: Pending[] = [];
        for (const { plan, settle, stale = 0 } of planned) {
          if (stale + 1 >= MAX_STALE_REPLANS) settle.reject(contended(plan.write, stale + 1));
          else again.push({ request: plan.write, settle, stale: stale + 1 });
        }
        this.pending.unshift(...again);
      } else {
        for (const { settle } of planned) settle.reject(error);
      }
      return true;
    }
    const { heads } = outcome;
    const plans = planned.map(({ plan }) => plan);
    for (const entry of usedDescriptors(plans, batch.newDescriptors)) this.state.addDescriptor(entry);
    for (const plan of plans) {
      const { host, removed } = this.state.apply(plan);
      this.observer.applied(plan, host, removed);
    }
    const changing = plans.filter((plan) => plan.revision !== undefined);
    this.state.committed(batch.revision, changing.length > 0 ? batch.lastTime : undefined, heads.at(-1)?.hash);
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
    return false;
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

/** A write that lost to other servers' commits MAX_STALE_REPLANS times in a row. */
function contended(write: WriteRequest, times: number): DomainError {
  return unavailable(
    `hosts/${hostIdOf(write)}: the write was planned ${times} times and each time another replica committed first; retry it`,
  );
}
