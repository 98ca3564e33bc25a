// A standing FindTargets (CompatibilityService.WatchTargets): the set of compatible targets
// of one source, kept current revision by revision. Each revision touches one host, so a
// change re-judges only that host's devices (and a device's verdict is a cache lookup): the
// work per change is bounded by the devices of one host, never the size of the registry. Only
// a change to a registered source itself re-judges every candidate.
//
// Targets carry a sort key that orders them as FindTargets ranks them (rank.ts, rankSortKey),
// so a client keeps the ranked set from the diffs alone: a new best target does not resend
// the others. `openStandingQuery` listens to the change feed first, then hands over the
// baseline, in one tick, so no revision falls between them (as watch-hub.ts does for Watch).
//
// Owns: one query's target set. May call: the live state's reads, the verdict cache,
// rank.ts, and the change feed it is given.

import { DomainError } from './errors.ts';
import type { Descriptor } from './model.ts';
import { hasFreeUnit, NO_CLAIMS, type CachedVerdict, type ClaimCounts, type ResolvedDevice, type VerdictCache } from './find-targets.ts';
import { claimIdOfEntry } from './store.ts';
import type { RevisionChange } from './group-commit.ts';
import { hostIsEligible, hostState, isCandidate, type HostState, type LiveDevice, type LiveState } from './live-state.ts';
import { rankSortKey } from './rank.ts';
import { labelsMatch, type Labels } from './resources.ts';

export interface StandingQueryOptions {
  readonly excludeHosts: ReadonlySet<string>;
  readonly hostLabels: Labels;
  readonly requireAvailable: boolean;
  readonly includeSourceHost: boolean;
  readonly includeUnreachable: boolean;
  readonly includeDraining: boolean;
}

export interface StandingSource {
  /** Set for a registered source, which the query follows. */
  readonly hostId?: string;
  readonly deviceId?: string;
  readonly descriptor: Descriptor;
}

export interface TargetState {
  readonly device: LiveDevice;
  readonly cached: CachedVerdict;
  readonly sortKey: string;
  readonly hostState: HostState;
  /** Units live claims hold on the device when it was judged. */
  readonly claimed: number;
}

export type TargetChange =
  | { readonly kind: 'ADDED' | 'UPDATED'; readonly name: string; readonly target: TargetState }
  | { readonly kind: 'REMOVED'; readonly name: string; readonly hostState: HostState | undefined };

/** Where a standing query's results go (the transport encodes and bounds them). */
export interface StandingQuerySink {
  /** The baseline, in rank order, at `revision`. */
  initial(targets: readonly TargetState[], revision: number): void;
  /** The diffs one revision brought (never empty). */
  changes(changes: readonly TargetChange[], revision: number): void;
  /** The query ended (its followed source was deleted); it is already unsubscribed. */
  fail(error: unknown): void;
}

/**
 * Opens a standing query: subscribes to the change feed first, then hands the sink its
 * baseline, both in this tick, so that no revision falls between them. Returns the function
 * that cancels it.
 */
export function openStandingQuery(
  state: LiveState,
  verdicts: VerdictCache,
  feed: { subscribe(listener: (change: RevisionChange) => void): () => void },
  source: ResolvedDevice,
  options: StandingQueryOptions,
  sink: StandingQuerySink,
  claims: ClaimCounts = NO_CLAIMS,
): () => void {
  const query = new StandingQuery(
    state,
    verdicts,
    { hostId: source.device?.record.hostId, deviceId: source.device?.record.deviceId, descriptor: source.descriptor },
    options,
    claims,
  );
  let cancelled = false;
  const unsubscribe = feed.subscribe((change) => {
    if (cancelled) return;
    try {
      const changes = query.apply(change);
      if (changes.length > 0) sink.changes(changes, change.revision);
    } catch (error) {
      cancel();
      sink.fail(error);
    }
  });
  const cancel = () => {
    cancelled = true;
    unsubscribe();
  };
  sink.initial(query.initial(), state.revision);
  return cancel;
}

export class StandingQuery {
  private readonly targets = new Map<string, TargetState>();
  private source: StandingSource;

  constructor(
    private readonly state: LiveState,
    private readonly verdicts: VerdictCache,
    source: StandingSource,
    private readonly options: StandingQueryOptions,
    private readonly claims: ClaimCounts = NO_CLAIMS,
  ) {
    this.source = source;
  }

  /** The current set, in rank order; it becomes the query's baseline. */
  initial(): TargetState[] {
    this.targets.clear();
    for (const [name, state] of this.judgeAll()) if (state) this.targets.set(name, state);
    return [...this.targets.values()].sort((a, b) => (a.sortKey < b.sortKey ? -1 : a.sortKey > b.sortKey ? 1 : 0));
  }

  /**
   * A followed source changed at a revision before the live state's (a commit batch applies all
   * its writes, then publishes each revision): every candidate is re-judged when the batch's
   * last revision is published, and the diff is labelled with it, so it never shows, under an
   * earlier revision, what later writes of the batch did. Revisions in between bring nothing of
   * their own: the re-judge covers them.
   */
  private rejudgeAt: number | undefined;

  /** The diffs one revision brings. Throws NOT_FOUND when a followed source was deleted. */
  apply(change: RevisionChange): TargetChange[] {
    if (this.rejudgeAt !== undefined) {
      if (change.revision < this.rejudgeAt) return [];
      this.rejudgeAt = undefined;
      return this.rejudge();
    }
    const { hostId, deviceId } = this.source;
    const hostOfChange = change.entries[0]?.hostId;
    if (hostId !== undefined && deviceId !== undefined && hostOfChange === hostId) {
      const sourceEntry = change.entries.find((entry) => entry.deviceId === deviceId);
      if (sourceEntry) {
        if (change.revision < this.state.revision && this.state.findDevice(hostId, deviceId)) {
          this.rejudgeAt = this.state.revision;
          return [];
        }
        return this.rejudge();
      }
    }
    if (hostOfChange === undefined) return [];
    const touched = new Map<string, TargetState | undefined>();
    const host = this.state.findHost(hostOfChange);
    for (const entry of change.entries) {
      const claim = claimIdOfEntry(entry.deviceId) === undefined ? undefined : (entry.after ?? entry.before);
      if (claim?.kind === 'claim') {
        // A claim's change re-judges the devices it holds: their claimed units moved. On a
        // host with shared budgets it re-judges all its devices: siblings' free units moved too.
        if (host?.record.budgets?.length) {
          for (const device of host.devices.values()) this.judgeInto(touched, device);
          continue;
        }
        for (const { deviceId: claimedId } of claim.claim.devices) {
          const device = host?.devices.get(claimedId);
          if (device) this.judgeInto(touched, device);
        }
        continue;
      }
      if (entry.deviceId === '') {
        // A host change (labels, state) re-judges all its devices.
        for (const device of host?.devices.values() ?? []) this.judgeInto(touched, device);
      } else {
        const device = host?.devices.get(entry.deviceId);
        const name = `hosts/${entry.hostId}/devices/${entry.deviceId}`;
        touched.set(name, device && this.judge(device, name));
      }
    }
    return this.diff(touched, new Set(touched.keys()));
  }

  /** The followed source as the live state has it, and every candidate judged against it. */
  private rejudge(): TargetChange[] {
    const { hostId, deviceId } = this.source;
    const device = hostId !== undefined && deviceId !== undefined ? this.state.findDevice(hostId, deviceId) : undefined;
    if (!device) {
      throw new DomainError('NOT_FOUND', `the source hosts/${hostId}/devices/${deviceId} was deleted`, {
        metadata: { resource: `hosts/${hostId}/devices/${deviceId}` },
      });
    }
    this.source = { hostId, deviceId, descriptor: device.entry.descriptor };
    return this.diff(this.judgeAll(), undefined);
  }

  /** Compares new states with the baseline over `scope` (all names when undefined). */
  private diff(next: Map<string, TargetState | undefined>, scope: Set<string> | undefined): TargetChange[] {
    const changes: TargetChange[] = [];
    const names = scope ?? new Set([...this.targets.keys(), ...next.keys()]);
    for (const name of names) {
      const before = this.targets.get(name);
      const after = next.get(name);
      if (!after) {
        if (!before) continue;
        this.targets.delete(name);
        const [hostId] = name.slice('hosts/'.length).split('/devices/');
        const host = this.state.findHost(hostId);
        changes.push({ kind: 'REMOVED', name, hostState: host && hostState(host.record) });
        continue;
      }
      this.targets.set(name, after);
      if (!before) changes.push({ kind: 'ADDED', name, target: after });
      else if (
        before.sortKey !== after.sortKey ||
        before.cached !== after.cached ||
        before.hostState !== after.hostState ||
        before.claimed !== after.claimed ||
        before.device.record.capacity !== after.device.record.capacity
      ) {
        changes.push({ kind: 'UPDATED', name, target: after });
      }
    }
    return changes;
  }

  private judgeAll(): Map<string, TargetState | undefined> {
    const states = new Map<string, TargetState | undefined>();
    for (const entry of this.state.candidateEntries(this.source.descriptor)) {
      const cached = this.verdicts.verdictFor(this.source.descriptor, entry.descriptor);
      if (cached.verdict.verdict === 'VERDICT_INCOMPATIBLE') continue;
      for (const device of entry.devices) {
        const name = device.name;
        const state = this.judge(device, name);
        if (state) states.set(name, state);
      }
    }
    return states;
  }

  /** The device's state as a target (or undefined) in `states`, under its name (built once). */
  private judgeInto(states: Map<string, TargetState | undefined>, device: LiveDevice): void {
    const name = device.name;
    states.set(name, this.judge(device, name));
  }

  /** The device's state as a target, or undefined when it is not one; `name` is the device's. */
  private judge(device: LiveDevice, name: string): TargetState | undefined {
    const { options } = this;
    const hostId = device.record.hostId;
    if (!options.includeSourceHost && hostId === this.source.hostId) return undefined;
    if (options.excludeHosts.has(hostId)) return undefined;
    if (!hostIsEligible(device.host.record, options)) return undefined;
    if (!labelsMatch(device.host.record.labels, options.hostLabels)) return undefined;
    const claimed = this.claims.claimed(hostId, device.record.deviceId);
    if (options.requireAvailable && !hasFreeUnit(device, this.claims)) return undefined;
    if (!isCandidate(this.source.descriptor, device.entry.descriptor)) return undefined;
    const cached = this.verdicts.verdictFor(this.source.descriptor, device.entry.descriptor);
    if (cached.verdict.verdict === 'VERDICT_INCOMPATIBLE') return undefined;
    return {
      device,
      cached,
      sortKey: rankSortKey(cached.rank, device.record.capacity?.available, name),
      hostState: hostState(device.host.record),
      claimed,
    };
  }
}
