// The change feed. Every committed revision reaches the hub synchronously, in order
// (Registry.subscribe); the hub hands each live watcher the revision's events that match its
// filter, all in one delivery. A watcher that starts in the past first catches up from the
// store's history, page by page at the pace its consumer reads, and goes live in the same
// tick in which it finds nothing left to read: no revision can fall between the two.
//
// The hub knows nothing of gRPC: a watcher's sink encodes, buffers and enforces the bound on
// its buffer (server/grpc/watch-service.ts). A live watcher whose sink is full (its consumer
// fell the whole buffer behind, or one revision is larger than the room left) is not cut off:
// it leaves the live set, and once its consumer has drained it catches up from history like a
// watcher that started in the past, then goes live again (as etcd moves a slow watcher to its
// unsynced set). Nothing is lost or doubled; the server holds no more than the buffer for it,
// and a consumer that reads nothing at all is ended by its sink (drained()).
//
// Progress: a live watcher that was sent nothing for its interval gets the revision and head
// hash. The timer ticks every 50 ms and takes from a queue by due time (due-queue.ts) only the
// watchers whose interval may have run out: a watcher's place in the queue is its last send
// plus its interval as of when it was queued, never later than it is truly due (a send only
// moves the true due time later), so the tick finds every watcher due, checks each against its
// last send, and queues the others again at their true due time. A tick costs the watchers due,
// not all watchers, and a delivery costs the queue nothing.
//
// Owns: the watchers and the progress timer. May call: the registry's change feed, history,
// revision, head and descriptor table; the clock; the due queue.

import { systemClock, type Clock } from './clock.ts';
import { DueQueue } from './due-queue.ts';
import { DomainError } from './errors.ts';
import type { Descriptor } from './model.ts';
import type { Registry, RevisionChange } from './registry.ts';
import { historyQuery, type ChangeKind, type HistoryRecord } from './store.ts';

export interface WatchFilter {
  readonly hostId: string | undefined;
  readonly vendor: string | undefined;
  readonly deviceApi: string | undefined;
  readonly type: string | undefined;
}

/** One entry as a watcher sees it: a change that crosses the filter is a creation or removal. */
export interface WatchEventView {
  readonly entry: HistoryRecord;
  readonly kind: ChangeKind;
  readonly leftFilter: boolean;
  readonly enteredFilter: boolean;
}

export interface WatchDelivery {
  readonly change: RevisionChange;
  readonly events: readonly WatchEventView[];
  /** True when every entry of the revision passed unchanged (no vendor, API or type filter; a
   * host filter passes its host's revisions whole): the transport may encode it once for all
   * such watchers. */
  readonly whole: boolean;
}

/**
 * What a sink did with a delivery: `ready`, taken, send more; `busy`, taken, but a catching-up
 * watcher waits for `drained()` before its next page; `full`, not taken: the consumer's buffer
 * has no room for it (the hub catches the watcher up from this revision once it drains).
 */
export type Acceptance = 'ready' | 'busy' | 'full';

export interface WatchSink {
  /** Delivers one revision's events, or refuses them (`full`). */
  deliver(delivery: WatchDelivery): Acceptance;
  /** Progress when quiet; a sink with no room drops it (a later one, or a delivery, follows). */
  progress(revision: number, headHash: string): void;
  /**
   * Resolves once the consumer has drained its buffer (or the watch ended). The sink ends a
   * watch whose consumer reads nothing for too long itself (the hub sees it cancelled).
   */
  drained(): Promise<void>;
  /** Ends the watch with an error (compaction overtook its catch-up, or the hub closed). */
  fail(error: unknown): void;
}

export interface WatchRequest {
  /** First revision to deliver; undefined = from the next revision. */
  readonly startRevision: number | undefined;
  readonly filter: WatchFilter;
  readonly progressIntervalMs: number;
}

export interface WatchHandle {
  /** The registry revision when the watch was registered. */
  readonly createdRevision: number;
  cancel(): void;
}

/**
 * History entries a catching-up watch reads at a time. The page stays in memory while its client
 * is slow to read it; 250 rather than 2,000: 32 unread watches from revision 1 on one connection
 * held 80-90 MB of the server's RSS, against 205 MB with pages of 2,000 (docs/benchmarks.md,
 * "Issue 7 in the seventeenth session").
 */
export const CATCH_UP_PAGE = 250;
const PROGRESS_TICK_MS = 50;

class Watcher implements WatchHandle {
  live = false;
  cancelled = false;
  /** The first revision not yet delivered (or passed over as not matching). */
  nextRevision: number;
  lastSentAt: number;

  constructor(
    readonly hub: WatchHub,
    readonly request: WatchRequest,
    readonly sink: WatchSink,
    readonly createdRevision: number,
    now: number,
  ) {
    this.nextRevision = request.startRevision ?? createdRevision + 1;
    this.lastSentAt = now;
  }

  cancel(): void {
    if (this.cancelled) return;
    this.cancelled = true;
    this.hub.remove(this);
  }
}

export class WatchHub {
  /** Live watchers without a host filter. */
  private readonly unindexed = new Set<Watcher>();
  /** Live watchers with a host filter, by host id: a revision touches one host. */
  private readonly byHost = new Map<string, Set<Watcher>>();
  private readonly all = new Set<Watcher>();
  /** Live watchers by when their progress may fall due (see the header). */
  private readonly progressDue = new DueQueue<Watcher>();
  private readonly unsubscribe: () => void;
  private readonly stopProgress: () => void;
  /** Live watchers whose sink was full, caught up from history since (for metrics). */
  private fellBehindCount = 0;

  constructor(
    private readonly registry: Registry,
    private readonly clock: Clock = systemClock,
  ) {
    this.unsubscribe = registry.subscribe((change) => this.publish(change));
    this.stopProgress = clock.every(PROGRESS_TICK_MS, () => this.sendProgress());
  }

  get size(): number {
    return this.all.size;
  }

  /** How many times a live watcher's consumer fell its buffer behind and was caught up from history. */
  get fellBehind(): number {
    return this.fellBehindCount;
  }

  /**
   * Watchers live and still catching up from history, and how many revisions the one furthest
   * behind has yet to read (0 when all are live), for metrics: O(watchers), read at a scrape.
   */
  get progress(): { live: number; catchingUp: number; lagRevisions: number } {
    let live = 0;
    let catchingUp = 0;
    let lagRevisions = 0;
    const revision = this.registry.revision;
    for (const watcher of this.all) {
      if (watcher.live) {
        live++;
      } else {
        catchingUp++;
        lagRevisions = Math.max(lagRevisions, revision - watcher.nextRevision + 1);
      }
    }
    return { live, catchingUp, lagRevisions };
  }

  /**
   * Registers a watch. A start revision older than history holds fails at once with
   * REVISION_COMPACTED (OUT_OF_RANGE), naming the oldest revision available.
   */
  open(request: WatchRequest, sink: WatchSink): WatchHandle {
    const oldest = this.registry.oldestRevision;
    if (request.startRevision !== undefined && request.startRevision < oldest) {
      throw this.registry.compacted(request.startRevision, oldest);
    }
    const watcher = new Watcher(this, request, sink, this.registry.revision, this.clock.elapsed());
    this.all.add(watcher);
    void this.catchUp(watcher);
    return watcher;
  }

  remove(watcher: Watcher): void {
    this.all.delete(watcher);
    this.leaveLive(watcher);
  }

  /** Takes a watcher out of the live sets (it is still watching: cancelled, or catching up). */
  private leaveLive(watcher: Watcher): void {
    watcher.live = false;
    this.progressDue.delete(watcher);
    this.unindexed.delete(watcher);
    const hostId = watcher.request.filter.hostId;
    if (hostId !== undefined) {
      const set = this.byHost.get(hostId);
      set?.delete(watcher);
      if (set?.size === 0) this.byHost.delete(hostId);
    }
  }

  close(): void {
    this.stopProgress();
    this.unsubscribe();
    for (const watcher of [...this.all]) {
      watcher.cancel();
      watcher.sink.fail(new DomainError('UNAVAILABLE', 'the server is shutting down'));
    }
  }

  private goLive(watcher: Watcher): void {
    watcher.live = true;
    this.progressDue.schedule(watcher, watcher.lastSentAt + watcher.request.progressIntervalMs);
    const hostId = watcher.request.filter.hostId;
    if (hostId === undefined) {
      this.unindexed.add(watcher);
      return;
    }
    let set = this.byHost.get(hostId);
    if (!set) this.byHost.set(hostId, (set = new Set()));
    set.add(watcher);
  }

  /**
   * Reads history from nextRevision until nothing is left, then goes live in that tick.
   * `afterDrain`: a live watcher whose sink was full waits for its consumer first.
   */
  private async catchUp(watcher: Watcher, afterDrain = false): Promise<void> {
    const filter = watcher.request.filter;
    try {
      if (afterDrain) await watcher.sink.drained();
      for (;;) {
        if (watcher.cancelled) return;
        if (watcher.nextRevision > this.registry.revision) {
          this.goLive(watcher);
          return;
        }
        if (watcher.nextRevision < this.registry.oldestRevision) {
          throw this.registry.compacted(watcher.nextRevision, this.registry.oldestRevision);
        }
        const entries = await this.registry.listHistory(
          historyQuery({ hostId: filter.hostId, startRevision: watcher.nextRevision, limit: CATCH_UP_PAGE }),
        );
        if (watcher.cancelled) return;
        // Memory now reflects what the store held when it answered (taken before any other
        // await: commits applied meanwhile are not in this page).
        const readUpTo = this.registry.revision;
        // Compaction may have removed part of what this page should have held (here, or
        // through another server sharing the store).
        await this.registry.refreshCheckpoint();
        if (watcher.cancelled) return;
        if (watcher.nextRevision < this.registry.oldestRevision) {
          throw this.registry.compacted(watcher.nextRevision, this.registry.oldestRevision);
        }
        const groups = groupByRevision(entries);
        const full = entries.length >= CATCH_UP_PAGE;
        if (full && groups.length === 1) {
          // One revision larger than a page: read it whole.
          const revision = groups[0][0].revision;
          groups[0] = await this.registry.listHistory(
            historyQuery({ hostId: filter.hostId, startRevision: revision, endRevision: revision, limit: Number.MAX_SAFE_INTEGER }),
          );
        } else if (full) {
          groups.pop(); // possibly cut short: read again with the next page
        }
        for (const group of groups) {
          const change: RevisionChange = {
            revision: group[0].revision,
            time: group[0].time,
            headHash: group.at(-1)!.hash ?? '',
            entries: group,
          };
          let accepted = this.deliver(watcher, { change, now: this.clock.elapsed(), whole: undefined });
          if (accepted === 'full') {
            // A revision larger than the room left: once drained, the sink takes any one.
            await watcher.sink.drained();
            if (watcher.cancelled) return;
            accepted = this.deliver(watcher, { change, now: this.clock.elapsed(), whole: undefined });
            if (accepted === 'full') throw new Error(`the watch's sink refused revision ${change.revision} with its buffer drained`);
          }
          watcher.nextRevision = change.revision + 1;
          if (accepted === 'busy') await watcher.sink.drained();
          if (watcher.cancelled) return;
        }
        if (!full) watcher.nextRevision = Math.max(watcher.nextRevision, readUpTo + 1);
      }
    } catch (error) {
      if (watcher.cancelled) return;
      watcher.cancel();
      watcher.sink.fail(error);
    }
  }

  /**
   * Hands one revision to the watchers that want it: those without a host filter, and those of
   * its host (a revision touches one host); the host watchers of other hosts cost nothing. The
   * delivery of the whole revision is built once and shared by every watcher that takes it
   * whole (its transport encodes it once: watch-service.ts).
   */
  private publish(change: RevisionChange): void {
    const round: PublishRound = { change, now: this.clock.elapsed(), whole: undefined };
    for (const watcher of this.unindexed) this.deliverLive(watcher, round);
    const hostId = change.entries[0]?.hostId;
    if (hostId !== undefined) {
      const set = this.byHost.get(hostId);
      if (set) for (const watcher of set) this.deliverLive(watcher, round);
    }
  }

  private deliverLive(watcher: Watcher, round: PublishRound): void {
    if (round.change.revision < watcher.nextRevision) return;
    // A sink that throws (its encoding failed) ends its own watch: this runs inside a commit's
    // publication, where a throw would stop the other watchers' deliveries and the commit's
    // answers.
    try {
      if (this.deliver(watcher, round) === 'full') {
        // No room for this revision: from it on, the watcher catches up from history once
        // its consumer drained (the revision is committed: history holds it).
        this.fellBehindCount++;
        this.leaveLive(watcher);
        watcher.nextRevision = round.change.revision;
        void this.catchUp(watcher, true);
        return;
      }
      watcher.nextRevision = round.change.revision + 1;
    } catch (error) {
      if (watcher.cancelled) return;
      watcher.cancel();
      watcher.sink.fail(error);
    }
  }

  /** Filters one revision for a watcher and hands it over; returns what the sink did with it. */
  private deliver(watcher: Watcher, round: PublishRound): Acceptance {
    const filter = watcher.request.filter;
    let delivery: WatchDelivery;
    if (round.change.entries.length === 0) return 'ready';
    if (!filter.vendor && !filter.deviceApi && !filter.type) {
      delivery = round.whole ??= wholeDelivery(round.change);
    } else {
      const events: WatchEventView[] = [];
      for (const entry of round.change.entries) {
        const view = this.filterEntry(entry, filter);
        if (view) events.push(view);
      }
      if (events.length === 0) return 'ready';
      delivery = { change: round.change, events, whole: false };
    }
    const accepted = watcher.sink.deliver(delivery);
    if (accepted !== 'full') this.sent(watcher, round.now);
    return accepted;
  }

  private filterEntry(entry: HistoryRecord, filter: WatchFilter): WatchEventView | undefined {
    if (entry.deviceId === '') return { entry, kind: entry.change, leftFilter: false, enteredFilter: false };
    const matches = (snapshot: HistoryRecord['before']) => {
      if (snapshot?.kind !== 'device') return false;
      const descriptor: Descriptor = this.registry.descriptorById(snapshot.device.descriptorId);
      return (
        (!filter.vendor || descriptor.vendor === filter.vendor) &&
        (!filter.deviceApi || descriptor.deviceApi === filter.deviceApi) &&
        (!filter.type || descriptor.type === filter.type)
      );
    };
    const before = matches(entry.before);
    const after = matches(entry.after);
    if (before && after) return { entry, kind: entry.change, leftFilter: false, enteredFilter: false };
    if (before) return { entry, kind: 'DELETED', leftFilter: entry.after !== undefined, enteredFilter: false };
    if (after) return { entry, kind: 'CREATED', leftFilter: false, enteredFilter: entry.before !== undefined };
    return undefined;
  }

  /**
   * Records a send to `watcher` at `now` (the clock's elapsed time, which never goes back: a
   * wall clock stepped back would hold every quiet watcher's progress until it caught up). Its
   * place in the progress queue stays as it is (no later than its new due time).
   */
  private sent(watcher: Watcher, now: number): void {
    watcher.lastSentAt = now;
  }

  private sendProgress(): void {
    const now = this.clock.elapsed();
    const maybeDue = this.progressDue.takeDue(now);
    if (maybeDue.length === 0) return;
    let next = 0;
    try {
      for (; next < maybeDue.length; next++) {
        const watcher = maybeDue[next];
        // A sink may cancel its watcher (a stream cut off as too slow); it then left the queue.
        if (watcher.cancelled) continue;
        const interval = watcher.request.progressIntervalMs;
        const due = now - watcher.lastSentAt >= interval;
        if (due) watcher.lastSentAt = now;
        this.progressDue.schedule(watcher, watcher.lastSentAt + interval);
        if (due) watcher.sink.progress(this.registry.revision, this.registry.headHash);
      }
    } finally {
      // A sink that threw: the watchers after it keep their place for the next tick.
      for (next++; next < maybeDue.length; next++) {
        const watcher = maybeDue[next];
        if (!watcher.cancelled) this.progressDue.schedule(watcher, watcher.lastSentAt + watcher.request.progressIntervalMs);
      }
    }
  }
}

/** One revision on its way to the watchers; the whole delivery is made on first use. */
interface PublishRound {
  readonly change: RevisionChange;
  readonly now: number;
  whole: WatchDelivery | undefined;
}

function wholeDelivery(change: RevisionChange): WatchDelivery {
  const events = change.entries.map((entry) => ({ entry, kind: entry.change, leftFilter: false, enteredFilter: false }));
  return { change, events, whole: true };
}

function groupByRevision(entries: readonly HistoryRecord[]): HistoryRecord[][] {
  const groups: HistoryRecord[][] = [];
  for (const entry of entries) {
    const last = groups.at(-1);
    if (last && last[0].revision === entry.revision) last.push(entry);
    else groups.push([entry]);
  }
  return groups;
}
