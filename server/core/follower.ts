// Following the other writers of a shared store (replicas over one PostgreSQL): reads the
// revisions committed after the live state's revision from the store's log (the truth; the
// store's wake-up only says when to look) and turns each revision's history entries back into
// the changes they record, so the live state, its indexes, the claim books and the leases of
// this replica stay current, and its watchers see every revision, in order, exactly once.
// It also learns the store's checkpoint (another replica compacted), and tells the lag
// (follow-lag.ts) each time it reaches the head it read.
//
// Owns: turning logged revisions into state changes, and the catch-up loop. It never runs at
// the same time as a batch of this replica's own writes: the group commit calls `catchUp`
// between batches (group-commit.ts), so a revision is applied either as this replica's own
// commit or as followed, never both.
//
// May call: live state (`addDescriptor`, `apply`, `committed`), the store's RevisionLog, the
// lag, the clock.

import type { Clock } from './clock.ts';
import type { FollowLag } from './follow-lag.ts';
import { descriptorEntry } from './live-device.ts';
import type { DescriptorEntry, LiveDevice, LiveHost, LiveState, StateChange } from './live-state.ts';
import { validateDescriptor } from './validate.ts';
import { claimIdOfEntry, type Checkpoint, type ClaimRecord, type DeviceRecord, type HistoryRecord, type LoggedRevision, type RevisionLog } from './store.ts';

/** Revisions read from the log per query. */
const PAGE = 500;

/** Told of each followed change, for the concerns beside the live state (leases, claims). */
export interface FollowObserver {
  followed(change: FollowedChange, host: LiveHost | undefined, removed: LiveHost | undefined): void;
  /** The store's latest checkpoint, read with each page of the log (it moves when a server compacts). */
  checkpoint(checkpoint: Checkpoint): void;
  /** The log can no longer bring this server up to date (called once): it must load the registry again. */
  broken(error: Error): void;
  /**
   * A catch-up failed (the store unreachable, a query refused, a row that does not read): this
   * server's state stays at the last revision it applied until a catch-up succeeds. Called for
   * every failed catch-up; `recovered` once one succeeds after failures.
   */
  failed(error: unknown): void;
  recovered(): void;
}

/** One host's part of a followed revision. */
export interface FollowedChange extends StateChange {
  readonly revision: number;
  readonly time: number;
  /** Claims of the host created or changed, and those that ended (by claim id). */
  readonly claimUpserts: readonly ClaimRecord[];
  readonly claimEnds: readonly string[];
}

export class Follower {
  constructor(
    private readonly log: RevisionLog,
    private readonly state: LiveState,
    private readonly observer: FollowObserver,
    private readonly lag: FollowLag,
    private readonly clock: Clock,
  ) {}

  private brokenError: Error | undefined;

  /**
   * Applies every revision committed after the live state's, up to the store's head, calling
   * `publish` with each one in order once it is applied. Fails (UNAVAILABLE) when the store
   * cannot be reached; what was applied before stays applied.
   */
  async catchUp(publish: (revision: LoggedRevision) => void): Promise<void> {
    try {
      await this.readToHead(publish);
    } catch (error) {
      if (!this.brokenError) {
        this.failing = true;
        this.observer.failed(error);
      }
      throw error;
    }
    if (this.failing) {
      this.failing = false;
      this.observer.recovered();
    }
  }

  private failing = false;

  private async readToHead(publish: (revision: LoggedRevision) => void): Promise<void> {
    for (;;) {
      const at = this.clock.now();
      const page = await this.log.readAfter(this.state.revision, this.state.highestDescriptorId, PAGE);
      if (page.checkpoint.revision > this.state.revision) {
        // The history between this server's revision and the checkpoint is gone: the log can
        // no longer bring it up to date. Only loading the registry again can (a restart).
        const error = new Error(
          `this server holds revision ${this.state.revision}, but another server compacted the history up to revision ` +
            `${page.checkpoint.revision}: it cannot follow the registry any more and must load it again (restart)`,
        );
        if (!this.brokenError) {
          this.brokenError = error;
          this.observer.broken(error);
        }
        throw error;
      }
      this.observer.checkpoint(page.checkpoint);
      for (const stored of page.descriptors) {
        if (this.state.descriptorEntryById(stored.id)) continue;
        this.state.addDescriptor(descriptorEntry(stored.id, validateDescriptor(JSON.parse(stored.key))));
      }
      for (const revision of page.revisions) {
        if (revision.revision <= this.state.revision) continue;
        this.apply(revision);
        publish(revision);
      }
      if (page.revisions.length < PAGE) {
        this.lag.observed(page.head, at);
        return;
      }
    }
  }

  private apply(logged: LoggedRevision): void {
    const byHost = new Map<string, HistoryRecord[]>();
    for (const entry of logged.entries) {
      const list = byHost.get(entry.hostId) ?? [];
      list.push(entry);
      byHost.set(entry.hostId, list);
    }
    for (const [hostId, entries] of byHost) {
      const change = this.changeOf(hostId, entries, logged);
      // Entries about a host this replica never had and that do not create it: nothing to apply.
      if (!change.host && !this.state.findHost(hostId)) continue;
      const { host, removed } = this.state.apply(change);
      this.observer.followed(change, host, removed);
    }
    this.state.committed(logged.revision, logged.time, logged.headHash || undefined);
  }

  /** What one host's entries of a revision did, as the change the writer applied. */
  private changeOf(hostId: string, entries: readonly HistoryRecord[], logged: LoggedRevision): FollowedChange {
    const existing = this.state.findHost(hostId);
    const hostEntry = entries.find((entry) => entry.deviceId === '');
    const upserts: { record: DeviceRecord; entry: DescriptorEntry }[] = [];
    const deletes: LiveDevice[] = [];
    const claimUpserts: ClaimRecord[] = [];
    const claimEnds: string[] = [];
    let deviceChanged = false;
    for (const entry of entries) {
      if (entry.deviceId === '') continue;
      const claimId = claimIdOfEntry(entry.deviceId);
      if (claimId !== undefined) {
        if (entry.change === 'DELETED') claimEnds.push(claimId);
        else if (entry.after?.kind === 'claim') claimUpserts.push(entry.after.claim);
        continue;
      }
      deviceChanged = true;
      if (entry.change === 'DELETED') {
        const device = existing?.devices.get(entry.deviceId);
        if (device) deletes.push(device);
      } else if (entry.after?.kind === 'device') {
        const record = entry.after.device;
        const descriptor = this.state.descriptorEntryById(record.descriptorId);
        if (!descriptor) throw new Error(`revision ${logged.revision} refers to descriptor ${record.descriptorId}, which the store did not return`);
        upserts.push({ record: { ...record, labels: this.state.intern(record.labels), capacity: this.state.internCapacity(record.capacity) }, entry: descriptor });
      }
    }
    let host = existing?.record;
    if (hostEntry) {
      host = hostEntry.change === 'DELETED' ? undefined : hostEntry.after?.kind === 'host' ? hostEntry.after.host : host;
    } else if (existing && deviceChanged) {
      // A sync that changed devices but not the host itself rewrote the host row at this
      // revision without a history entry for it (write-planning.ts): the same values here.
      host = { ...existing.record, revision: logged.revision, updateTime: logged.time, lastSyncTime: logged.time };
    }
    return { hostId, host, upserts, deletes, revision: logged.revision, time: logged.time, claimUpserts, claimEnds };
  }
}
