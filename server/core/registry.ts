// The registry: a facade that wires the core's concerns and is all the handlers see. The
// current state of every host and device lives in memory (live-state.ts) and is mirrored
// durably in the store; writes go through the group commit (group-commit.ts, planned by
// write-planning.ts); leases (leases.ts) turn silence into UNREACHABLE writes; reads go
// through one read path, a view of now or of a past revision (read-view.ts, point-in-time.ts);
// compatibility answers come from the verdict cache and FindTargets (find-targets.ts) or a
// standing query (standing-query.ts); the audit chain is verified and compacted by audit.ts.
// server/core/DESIGN.md shows how a write, a find and a point-in-time read cross these files.
//
// May import: every file of the core; never grpc or a storage library.

import { systemClock, type Clock } from './clock.ts';
import { Claims, type ClaimListQuery, type ClaimResult } from './claims-registry.ts';
import { deviceFreeUnits, NO_USAGE, type ClaimBook, type ClaimCaller, type ClaimSpec } from './claims.ts';
import { findPlacements, type PlacementAnswer } from './placement-finder.ts';
import type { PlacementQuery } from './placement-request.ts';
import type { ClaimRecord } from './store.ts';
import { Audit, type ChainVerification, type RetentionPolicy } from './audit.ts';
import { NO_CLAIMS, TargetFinder, VerdictCache, type CachedVerdict, type ClaimCounts, type ResolvedDevice } from './find-targets.ts';
import { GroupCommit, type DeleteResult, type RevisionChange, type StateResult, type SyncResult } from './group-commit.ts';
import { DEFAULT_LEASE_TTL_MS, Leases, loadedLeaseExpiry, SERVER_ACTOR } from './leases.ts';
import { hostState, LiveState, type DescriptorEntry, type HostListQuery, type HostState, type LiveDevice, type LiveHost } from './live-state.ts';
import type { Descriptor } from './model.ts';
import { compacted, PointInTime, type AsOf, type DeviceAt, type PastView } from './point-in-time.ts';
import { CurrentView, openReadView, resolveCurrent, type DeviceRef, type ReadView } from './read-view.ts';
import type { SyncHostCommand } from './resources.ts';
import { openStandingQuery, type StandingQueryOptions, type StandingQuerySink } from './standing-query.ts';
import type { BackupResult, Checkpoint, CompactionResult, HistoryQuery, HistoryRecord, LoadedState, RegistryStore, StateLoad } from './store.ts';
import { LiveStateLoad } from './state-load.ts';
import { DomainError } from './errors.ts';
import type { WriteOrigin } from './write-planning.ts';
import { Follower } from './follower.ts';
import { FollowLag, type FollowLagReading } from './follow-lag.ts';
import type { RevisionLog } from './store.ts';

export { DEFAULT_LEASE_TTL_MS, isLeaseExpiry, SERVER_ACTOR } from './leases.ts';
export { hostIsEligible, hostState } from './live-state.ts';
export type { ChainVerification, RetentionPolicy } from './audit.ts';
export type { CachedVerdict, FindOptions, FindResult, FoundTarget, ResolvedDevice } from './find-targets.ts';
export type { DeleteResult, RevisionChange, StateResult, SyncResult } from './group-commit.ts';
export type { DescriptorEntry, DeviceListQuery, HostListQuery, HostState, LiveDevice, LiveHost } from './live-state.ts';
export type { AsOf, DeviceAt, PastView } from './point-in-time.ts';
export type { DeviceRef, ReadView } from './read-view.ts';
export type { WriteOrigin } from './write-planning.ts';
export type { ClaimListQuery, ClaimResult } from './claims-registry.ts';
export type { PlacementAnswer } from './placement-finder.ts';
export type { FollowLagReading } from './follow-lag.ts';

/** The registry's sizes and counters since start, as metrics read them. */
export interface RegistryGauges {
  readonly hosts: number;
  readonly devices: number;
  /** Distinct descriptors interned. */
  readonly descriptors: number;
  readonly claims: number;
  /** Hosts by lease state. */
  readonly hostStates: Readonly<Record<HostState, number>>;
  readonly revision: number;
  readonly verdictCache: { readonly size: number; readonly hits: number; readonly misses: number };
}

export interface RegistryOptions {
  /** Time and timers (default: the system clock). */
  readonly clock?: Clock;
  /** Lease TTL in ms (default 30 s). */
  readonly leaseTtlMs?: number;
  /** The log of a store that other servers write too (replicas): followed to stay current. */
  readonly followLog?: RevisionLog;
  /**
   * Called once if this server can no longer follow the shared store (another server compacted
   * history it had not followed yet): it must load the registry again, that is, restart.
   */
  readonly onFollowBroken?: (error: Error) => void;
  /** A catch-up with the shared store failed (each time; the next wake-up tries again), and then succeeded again. */
  readonly onFollowFailed?: (error: unknown) => void;
  readonly onFollowRecovered?: () => void;
  /** Revisions of history one store call reads while a past view is built (point-in-time.ts; tests make it small). */
  readonly pastViewSliceRevisions?: number;
  /** Devices the cached past views may hold beyond the last one read (point-in-time.ts; tests make it small). */
  readonly pastViewCacheDevices?: number;
}

/**
 * The live state built from a load. A function of its own: a closure over `loaded` made in the
 * Registry's constructor would share that constructor's context with the closures the registry
 * keeps (the commit observer), and so keep the whole load (a record per device) for the life
 * of the server.
 */
function liveStateOf(loaded: LoadedState, ttl: number): LiveState {
  // Built while the store opened (state-load.ts), from a load made with this TTL (Registry.stateLoad).
  if (loaded.devicesLoadedInto instanceof LiveStateLoad) return loaded.devicesLoadedInto.finish(loaded);
  return new LiveState(loaded, (record) => loadedLeaseExpiry(record, loaded.leaseExpiries, ttl));
}

export class Registry {
  private readonly state: LiveState;
  private readonly writes: GroupCommit;
  private readonly leases: Leases;
  private readonly audit: Audit;
  private readonly pointInTime: PointInTime;
  private readonly verdicts = new VerdictCache();
  private readonly finder: TargetFinder;
  private readonly current: CurrentView;
  private readonly claims: Claims;
  /** How far behind the shared store this server is; undefined when it is the store's only writer. */
  private lag: FollowLag | undefined;
  /** What FindTargets and WatchTargets count of live claims. */
  private readonly claimCounts: ClaimCounts = {
    claimed: (hostId, deviceId) => this.claims.claimedOn(hostId, deviceId),
    free: (device) => this.claims.freeOn(device),
  };

  /**
   * Where the store about to be opened for a registry with these options may give its devices
   * as it reads them (StoreFactory), so the state is built while it opens.
   */
  static stateLoad(options: Pick<RegistryOptions, 'leaseTtlMs'> = {}): StateLoad {
    return new LiveStateLoad(options.leaseTtlMs ?? DEFAULT_LEASE_TTL_MS);
  }

  /** Loads the registry's state from the store. */
  static async open(store: RegistryStore, options: RegistryOptions = {}): Promise<Registry> {
    return new Registry(store, options, await store.load());
  }

  private constructor(store: RegistryStore, options: RegistryOptions, loaded: Awaited<ReturnType<RegistryStore['load']>>) {
    const clock = options.clock ?? systemClock;
    const ttl = options.leaseTtlMs ?? DEFAULT_LEASE_TTL_MS;
    this.state = liveStateOf(loaded, ttl);
    this.leases = new Leases(ttl, this.state, store, clock, options.followLog);
    this.claims = new Claims(this.state, clock, loaded.claims ?? []);
    const leases = this.leases;
    const claims = this.claims;
    this.writes = new GroupCommit(
      store,
      this.state,
      clock,
      {
        applied(plan, host, removed) {
          leases.applied(plan, host, removed);
          claims.applied(plan, removed);
        },
      },
      claims,
    );
    this.audit = new Audit(store, this.state, clock, loaded.checkpoint, options.followLog);
    if (options.followLog) {
      const audit = this.audit;
      const lag = new FollowLag(clock, () => this.state.revision);
      this.lag = lag;
      const follower = new Follower(
        options.followLog,
        this.state,
        {
          followed(change, host, removed) {
            leases.followed(change, host, removed);
            claims.followed(change, removed);
          },
          checkpoint(checkpoint) {
            audit.followed(checkpoint);
          },
          broken(error) {
            options.onFollowBroken?.(error);
          },
          failed(error) {
            options.onFollowFailed?.(error);
          },
          recovered() {
            options.onFollowRecovered?.();
          },
        },
        lag,
        clock,
      );
      this.writes.follow(follower);
      options.followLog.onAdvance(() => this.writes.wake());
      options.followLog.onHead((head, ageMs) => {
        lag.observed(head, clock.now() - ageMs);
        // Behind a head the store already reported (a catch-up that failed half-way): try again.
        if (head > this.state.revision) this.writes.wake();
      });
    }
    this.leases.connect(this.writes);
    this.claims.connect(this.writes);
    this.pointInTime = new PointInTime(store, this.state, this.audit, options.pastViewSliceRevisions, options.pastViewCacheDevices);
    this.finder = new TargetFinder(this.state, this.verdicts, this.claimCounts);
    this.current = new CurrentView(this.state, this.finder);
    this.store = store;
  }

  private readonly store: RegistryStore;

  get revision(): number {
    return this.state.revision;
  }

  /** The history chain's head (hex SHA-256 of the last entry). */
  get headHash(): string {
    return this.state.headHash;
  }

  /** History up to and including checkpoint.revision has been compacted away. */
  get checkpoint(): Checkpoint {
    return this.audit.checkpoint;
  }

  /**
   * Learns the checkpoint of a store other servers compact too (a read of history just made
   * may have missed what they removed); at once for a store this server alone compacts.
   */
  refreshCheckpoint(): Promise<void> {
    return this.audit.refresh();
  }

  /** The oldest revision a watch may start from. */
  get oldestRevision(): number {
    return this.audit.checkpoint.revision + 1;
  }

  /**
   * How far behind the shared store this server is (a replica over PostgreSQL); undefined for a
   * server that is its store's only writer, which is never behind.
   */
  followLag(): FollowLagReading | undefined {
    return this.lag?.reading();
  }

  get leaseTtlMs(): number {
    return this.leases.ttlMs;
  }

  get stats(): { hosts: number; devices: number; descriptors: number; cachedVerdicts: number } {
    return { ...this.state.stats, cachedVerdicts: this.verdicts.size };
  }

  /** What the server's metrics read at each scrape (server/metrics.ts): counts, not copies. */
  get gauges(): RegistryGauges {
    const hostStates: Record<HostState, number> = { READY: 0, DRAINING: 0, UNREACHABLE: 0 };
    for (const host of this.state.allHosts()) hostStates[hostState(host.record)]++;
    return {
      ...this.state.stats,
      claims: this.claims.size,
      hostStates,
      revision: this.state.revision,
      verdictCache: { size: this.verdicts.size, hits: this.verdicts.hits, misses: this.verdicts.misses },
    };
  }

  /** Called synchronously after each committed revision, in revision order. */
  subscribe(listener: (change: RevisionChange) => void): () => void {
    return this.writes.subscribe(listener);
  }

  /**
   * Resolves once this server has applied every revision the store had when it was called
   * (a store other servers write); at once otherwise.
   */
  catchUp(): Promise<void> {
    return this.writes.catchUp();
  }

  /**
   * Resolves true once this server reflects `revision` (catching up with a shared store
   * first), false when `timeoutMs` passes before it does.
   */
  reachRevision(revision: number, timeoutMs: number): Promise<boolean> {
    if (this.revision >= revision) return Promise.resolve(true);
    // The timer is armed before the catch-up starts: a store that stalls (a connection that
    // passes nothing) cannot hold the caller past `timeoutMs`.
    return new Promise<boolean>((resolve) => {
      let settled = false;
      const done = (reached: boolean) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        unsubscribe();
        resolve(reached);
      };
      const unsubscribe = this.subscribe((change) => {
        if (change.revision >= revision) done(true);
      });
      const timer = setTimeout(() => done(this.revision >= revision), Math.max(0, timeoutMs));
      void this.sharedCatchUp().then(() => {
        if (this.revision >= revision) done(true);
      });
    });
  }

  /**
   * One catch-up shared by every read waiting for a revision: while the store stalls, waiting
   * reads add nothing to the write pipeline's queue of catch-up waiters, whatever their number.
   * Revisions applied by later catch-ups (wake-ups, the store's probe) reach the waiting reads
   * through their subscription.
   */
  private sharedCatchUp(): Promise<void> {
    this.catchingUp ??= this.catchUp()
      .catch(() => undefined)
      .finally(() => {
        this.catchingUp = undefined;
      });
    return this.catchingUp;
  }

  private catchingUp: Promise<void> | undefined;

  /** Writes that are already queued are committed; new ones are refused. */
  async close(): Promise<void> {
    this.leases.stop();
    this.claims.stop();
    await this.writes.close();
    await this.leases.flush();
    await this.audit.drain();
  }

  // Writes ------------------------------------------------------------------------------

  syncHost(command: SyncHostCommand, origin: WriteOrigin): Promise<SyncResult> {
    return this.writes.syncHost(command, origin);
  }

  deleteHost(hostId: string, expectedRevision: number | undefined, origin: WriteOrigin): Promise<DeleteResult> {
    return this.writes.deleteHost(hostId, expectedRevision, origin);
  }

  setDraining(hostId: string, draining: boolean, origin: WriteOrigin): Promise<StateResult> {
    return this.writes.setHostState(hostId, { draining }, origin);
  }

  // Leases ------------------------------------------------------------------------------

  keepAlive(hostId: string): { expireTime: number; state: HostState } {
    return this.leases.keepAlive(hostId);
  }

  /** Starts lease expiry (the server calls it once it listens). */
  startLeases(): void {
    this.leases.start();
    this.claims.start();
  }

  // Claims (placement) -------------------------------------------------------------------

  /**
   * Reserves units on one host: all or none, decided in the write pipeline, owned by `caller`
   * (authz.ts claimCallerOf: who may renew or release it). Required, so that no path forgets it.
   */
  createClaim(spec: ClaimSpec, origin: WriteOrigin, caller: ClaimCaller): Promise<ClaimResult> {
    return this.writes.claimWrite({ kind: 'claim', hostId: spec.hostId, op: { type: 'create', spec, caller }, origin });
  }

  renewClaim(hostId: string, claimId: string, ttlMs: number | undefined, origin: WriteOrigin, caller: ClaimCaller): Promise<ClaimResult> {
    return this.writes.claimWrite({ kind: 'claim', hostId, op: { type: 'renew', claimId, ttlMs, caller }, origin });
  }

  releaseClaim(hostId: string, claimId: string, origin: WriteOrigin, caller: ClaimCaller): Promise<ClaimResult> {
    return this.writes.claimWrite({ kind: 'claim', hostId, op: { type: 'release', claimId, caller }, origin });
  }

  /** A live claim; NOT_FOUND when there is none (or it lapsed). */
  getClaim(hostId: string, claimId: string): ClaimRecord {
    return this.claims.get(hostId, claimId);
  }

  listClaims(query: ClaimListQuery): ClaimRecord[] {
    return this.claims.list(query);
  }

  /** Units of a device that live claims hold now. */
  claimedOn(hostId: string, deviceId: string): number {
    return this.claims.claimedOn(hostId, deviceId);
  }

  /**
   * A device's free units: now, claims counted and its shared budgets applied; in a past
   * view (no claim book), the capacity and budgets of then alone.
   */
  freeUnitsOf(device: LiveDevice, past = false): number {
    return past ? NO_CLAIMS.free(device) : this.claims.freeOn(device);
  }

  /** A device read through a view: its free units now (claims counted) or at its revision (budgets of then, no claims). */
  freeUnitsAt(device: DeviceAt, present: boolean): number {
    const live = present ? this.state.findDevice(device.record.hostId, device.record.deviceId) : undefined;
    if (live && live.record === device.record) return this.claims.freeOn(live);
    return deviceFreeUnits(device.record.capacity, device.budgets, NO_USAGE, device.record.deviceId);
  }

  /** What live claims hold of each of the host's shared budgets now. */
  budgetClaims(host: LiveHost): ReadonlyMap<string, number> {
    return this.claims.usageOn(host).claimedByBudget;
  }

  /** Hosts that can take every device of a VM, best first (placement-finder.ts). */
  findPlacements(query: PlacementQuery): PlacementAnswer {
    return findPlacements(this.state, this.verdicts, (hostId) => this.claims.bookOf(hostId), query);
  }

  /** A host's live claims now, for placements. */
  claimBookOf(hostId: string): ClaimBook {
    return this.claims.bookOf(hostId);
  }

  // Reads -------------------------------------------------------------------------------

  /** The one read path: the registry now (`asOf` undefined) or at a past revision. */
  read(asOf?: AsOf): Promise<ReadView> {
    return openReadView(asOf, this.current, this.pointInTime, this.finder);
  }

  /** A reference resolved against the current state, synchronously (the checks' hot path). */
  resolveCurrent(ref: DeviceRef | null | undefined, field: string): ResolvedDevice {
    return resolveCurrent(this.state, ref, field);
  }

  getHost(hostId: string): LiveHost {
    return this.state.getHost(hostId);
  }

  findHost(hostId: string): LiveHost | undefined {
    return this.state.findHost(hostId);
  }

  findDevice(hostId: string, deviceId: string): LiveDevice | undefined {
    return this.state.findDevice(hostId, deviceId);
  }

  listHosts(query: HostListQuery): LiveHost[] {
    return this.state.listHosts(query);
  }

  descriptorById(id: number): Descriptor {
    return this.state.descriptorById(id);
  }

  matchingDescriptorIds(filter: Parameters<LiveState['matchingDescriptorIds']>[0]): Set<number> | undefined {
    return this.state.matchingDescriptorIds(filter);
  }

  candidateEntries(descriptor: Descriptor): Set<DescriptorEntry> {
    return this.state.candidateEntries(descriptor);
  }

  /** The whole registry as it was at `revision` (already resolved); the last few are kept. */
  viewAt(revision: number): Promise<PastView> {
    return this.pointInTime.viewAt(revision);
  }

  listHistory(query: HistoryQuery): Promise<HistoryRecord[]> {
    return this.store.listHistory(query);
  }

  compacted(revision: number, oldest: number): DomainError {
    return compacted(revision, oldest);
  }

  // Compatibility -----------------------------------------------------------------------

  /** The verdict for a pair of descriptors, computed once and then served from the cache. */
  verdictFor(source: Descriptor, target: Descriptor): CachedVerdict {
    return this.verdicts.verdictFor(source, target);
  }

  /**
   * Opens a standing FindTargets: listens to the change feed first, then hands the sink its
   * baseline, in the same tick, so no revision falls between them. Returns the cancel function.
   */
  watchTargets(source: ResolvedDevice, options: StandingQueryOptions, sink: StandingQuerySink): () => void {
    return openStandingQuery(this.state, this.verdicts, this.writes, source, options, sink, this.claimCounts);
  }

  // Audit -------------------------------------------------------------------------------

  verifyHistory(expectedHead: string | undefined): Promise<ChainVerification> {
    return this.audit.verifyHistory(expectedHead);
  }

  /** Compacts history up to `revision`, recording `actor` as who did (default: the server itself). */
  compact(revision: number, actor: string = SERVER_ACTOR): Promise<CompactionResult> {
    return this.audit.compact(revision, actor);
  }

  applyRetention(policy: RetentionPolicy): Promise<CompactionResult | undefined> {
    return this.audit.applyRetention(policy);
  }

  /**
   * A consistent copy of the store at `path`: the store answers calls in order, so the copy
   * holds every write acknowledged before this call and none after it, and the revision and
   * head it reports are the copy's.
   */
  backup(path: string): Promise<BackupResult> {
    if (!this.store.backup) {
      return Promise.reject(
        new DomainError(
          'FAILED_PRECONDITION',
          'this server\'s store has no file to back up (in memory; on PostgreSQL use the database\'s own backups, or devcompat store copy)',
        ),
      );
    }
    return this.store.backup(path);
  }
}
