// A RegistryStore held in memory: what the core's unit tests run on (fast, no files, no
// worker), and the reference for what every store must do (test/store-contract.test.ts runs
// the same suite on it and on the SQLite store). It keeps SQLite's constraints — a device's
// host and descriptor must exist, a host with devices cannot be deleted, a revision is written
// once, capacity stays within its total — so that a batch it refuses changes nothing, as a
// rolled-back transaction would. History is encoded and chained as every store does
// (history-encoding.ts), so its chain heads equal SQLite's for the same writes.
//
// Several servers can share one memory store, as replicas share one PostgreSQL database:
// `SharedMemory` holds the contents, and each `open()` gives one server its own MemoryStore
// over them, with the RevisionLog the PostgreSQL store has (server/core/store.ts): the
// revisions the others committed (`readAfter`), a wake-up after every commit that wrote a
// revision (`onAdvance`; a hint, which a test can have lost), one lease-expiry duty holder at
// a time (the earliest-opened store still open: closing it, as a replica dies, hands the duty
// to the next), and the lease expiries any of them persisted. A batch planned against a
// revision that is no longer the head is refused with StaleBatchError (CommitBatch.baseRevision),
// so the core plans it again after catching up. This lets the core's fast tests run two or
// three registries over one store with a manual clock, no database server.
//
// Calls to one MemoryStore run one at a time, in the order they are made, each after the
// previous one finished (as the worker store's do): a read made after a commit was requested
// sees that commit. Each call is atomic over the shared contents (one synchronous step), as a
// transaction is. A test can make commits fail (`failCommits`) to see what the core does then,
// or hold the calls (`pause`) to act while one is in flight.

import type {
  ChainWalk,
  ChainWalkQuery,
  Checkpoint,
  CompactedStart,
  ClaimRecord,
  CompactionLog,
  CompactionRecord,
  CompactionRequest,
  CommitBatch,
  CommitResult,
  CompactionResult,
  DeviceRecord,
  HistoryQuery,
  HistoryRecord,
  HostRecord,
  LoadedState,
  LoggedRevision,
  RevisionLog,
  ServedStore,
  StoreFactory,
  StoredDescriptor,
  FirstChangesQuery,
} from '../core/store.ts';
import { StaleBatchError } from '../core/store.ts';
import { GENESIS_HASH, type ChainedColumns } from './history-chain.ts';
import { chainEntries, compactedStartRows, compactionRecord, decodeSnapshot, walkChain, walkCompactions } from './history-encoding.ts';

interface StoredEntry {
  readonly columns: ChainedColumns;
  readonly prev: string;
  readonly hash: string;
}

/** Everything a memory store holds; a commit builds the next one and swaps it in whole. */
interface Contents {
  readonly revisions: Map<number, { readonly time: number; readonly actor: string; readonly reason: string }>;
  readonly descriptors: Map<number, string>;
  readonly hosts: Map<string, HostRecord>;
  readonly leases: Map<string, number>;
  readonly devices: Map<string, DeviceRecord>;
  /** Live placement claims by host \0 claim id, in creation order. */
  readonly claims: Map<string, ClaimRecord>;
  /** In (revision, seq) order. */
  readonly history: StoredEntry[];
  readonly checkpoints: Checkpoint[];
  readonly compactions: CompactionRecord[];
  readonly head: string;
  /** The head revision: the highest ever committed (compaction keeps it). */
  readonly revision: number;
}

function emptyContents(): Contents {
  return {
    revisions: new Map(),
    descriptors: new Map(),
    hosts: new Map(),
    leases: new Map(),
    devices: new Map(),
    claims: new Map(),
    history: [],
    checkpoints: [],
    compactions: [],
    head: GENESIS_HASH,
    revision: 0,
  };
}

/** What the stores over one memory share: the contents, and who is open on them. */
class Backend {
  contents: Contents = emptyContents();
  /** The open stores of a SharedMemory, oldest first (the first holds the lease duty). */
  readonly members: MemoryStore[] = [];
  /** Test hook (SharedMemory.dropWakeups): wake-ups are lost while true. */
  dropWakeups = false;
}

/**
 * One memory store several servers share (replicas in one process): `open()` gives each its
 * own MemoryStore, with a RevisionLog, over the same contents.
 */
export class SharedMemory {
  private readonly backend = new Backend();

  /** A store for one more server, on the shared contents (it takes the lease duty if no open store holds it). */
  open(): MemoryStore {
    const store = new MemoryStore(this.backend);
    this.backend.members.push(store);
    return store;
  }

  /**
   * Test hook: while true, commits wake no one (a lost notification); each server still reads
   * the log before its own next batch. Setting it back to false wakes every open store, as a
   * re-opened wake-up channel does.
   */
  get dropWakeups(): boolean {
    return this.backend.dropWakeups;
  }

  set dropWakeups(drop: boolean) {
    this.backend.dropWakeups = drop;
    if (!drop) for (const member of [...this.backend.members]) member.wake();
  }
}

const deviceKey = (hostId: string, deviceId: string) => `${hostId}\u0000${deviceId}`;

export class MemoryStore implements ServedStore {
  private readonly backend: Backend;
  private tail: Promise<unknown> = Promise.resolve();
  private closed = false;
  private commitFailures: { error: Error; remaining: number } | undefined;
  private readonly advanceListeners: (() => void)[] = [];
  private readonly headListeners: ((head: number, ageMs: number) => void)[] = [];
  /** How many commits were made (refused ones included). */
  commits = 0;
  /** Present on a store of a SharedMemory: the log the other servers' writes are followed in. */
  readonly log?: RevisionLog;

  /** A store of its own; `SharedMemory.open()` makes one shared with other servers. */
  constructor(backend?: Backend) {
    this.backend = backend ?? new Backend();
    if (backend) this.log = this.revisionLog();
  }

  private get contents(): Contents {
    return this.backend.contents;
  }

  private set contents(next: Contents) {
    this.backend.contents = next;
  }

  /** Test hook: the next `count` commits fail with `error` and change nothing. */
  failCommits(error: Error, count = 1): void {
    this.commitFailures = { error, remaining: count };
  }

  /**
   * Test hook: a slow store. Calls made from now on wait (in order) until the returned
   * function is called, so a test can act while a commit or a read of the log is in flight.
   */
  pause(): () => void {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    this.tail = this.tail.then(() => gate);
    return release;
  }

  /** A memory store does not fail on its own. */
  onFailure(): void {}

  load(): Promise<LoadedState> {
    return this.run(() => {
      const c = this.contents;
      return {
        revision: c.revision,
        revisionTime: c.revisions.get(c.revision)?.time ?? 0,
        descriptors: [...c.descriptors].sort(([a], [b]) => a - b).map(([id, key]) => ({ id, key })),
        hosts: [...c.hosts.values()].sort((a, b) => compare(a.hostId, b.hostId)).map(copy),
        devices: [...c.devices.values()]
          .sort((a, b) => compare(a.hostId, b.hostId) || compare(a.deviceId, b.deviceId))
          .map(copy),
        leaseExpiries: new Map(c.leases),
        headHash: c.head,
        checkpoint: this.checkpoint(),
        claims: [...c.claims.values()].sort((a, b) => a.createRevision - b.createRevision || compare(a.hostId, b.hostId) || compare(a.claimId, b.claimId)).map(copy),
      };
    });
  }

  commit(batch: CommitBatch): Promise<CommitResult> {
    return this.run(() => {
      this.commits++;
      const failure = this.commitFailures;
      if (failure && failure.remaining > 0) {
        failure.remaining--;
        throw failure.error;
      }
      const c = this.contents;
      // As the PostgreSQL store: a batch planned against an older head than the store's now
      // (another server committed meanwhile) is refused, to be planned again.
      if (batch.baseRevision !== undefined && batch.baseRevision !== c.revision) throw new StaleBatchError(c.revision);
      const next: Contents = {
        revisions: new Map(c.revisions),
        descriptors: new Map(c.descriptors),
        hosts: new Map(c.hosts),
        leases: new Map(c.leases),
        devices: new Map(c.devices),
        claims: new Map(c.claims),
        history: c.history,
        checkpoints: c.checkpoints,
        compactions: c.compactions,
        head: c.head,
        revision: c.revision,
      };
      for (const entry of batch.history) {
        if (c.revisions.has(entry.revision)) refuse(`revision ${entry.revision} is already written`);
        if (!next.revisions.has(entry.revision)) next.revisions.set(entry.revision, { time: entry.time, actor: entry.actor, reason: entry.reason });
      }
      for (const { id, key } of batch.newDescriptors) {
        if (next.descriptors.has(id) || [...next.descriptors.values()].includes(key)) refuse(`descriptor ${id} is already stored`);
        next.descriptors.set(id, key);
      }
      for (const { hostId, deviceId } of batch.deviceDeletes) next.devices.delete(deviceKey(hostId, deviceId));
      for (const hostId of batch.hostDeletes) {
        for (const device of next.devices.values()) if (device.hostId === hostId) refuse(`hosts/${hostId} still has devices`);
        next.hosts.delete(hostId);
        next.leases.delete(hostId);
        // As SQLite's ON DELETE CASCADE: a deleted host's claims go with it.
        for (const [key, claim] of next.claims) if (claim.hostId === hostId) next.claims.delete(key);
      }
      for (const host of batch.hostUpserts) {
        const before = next.hosts.get(host.hostId);
        // As SQLite's upsert: the create columns of an existing row are kept.
        next.hosts.set(host.hostId, before ? { ...copy(host), createRevision: before.createRevision, createTime: before.createTime } : copy(host));
      }
      for (const device of batch.deviceUpserts) {
        if (!next.hosts.has(device.hostId)) refuse(`hosts/${device.hostId} does not exist for device ${device.deviceId}`);
        if (!next.descriptors.has(device.descriptorId)) refuse(`descriptor ${device.descriptorId} does not exist`);
        const capacity = device.capacity;
        if (capacity && !(capacity.available >= 0 && capacity.available <= capacity.total)) refuse('capacity out of range');
        const key = deviceKey(device.hostId, device.deviceId);
        const before = next.devices.get(key);
        next.devices.set(
          key,
          before ? { ...copy(device), createRevision: before.createRevision, createTime: before.createTime } : copy(device),
        );
      }
      for (const touch of batch.syncTouches) {
        const host = next.hosts.get(touch.hostId);
        if (host) next.hosts.set(touch.hostId, { ...host, lastSyncTime: touch.lastSyncTime });
      }
      for (const { hostId, claimId } of batch.claimDeletes ?? []) next.claims.delete(deviceKey(hostId, claimId));
      for (const claim of batch.claimUpserts ?? []) {
        if (!next.hosts.has(claim.hostId)) refuse(`hosts/${claim.hostId} does not exist for claim ${claim.claimId}`);
        const key = deviceKey(claim.hostId, claim.claimId);
        const before = next.claims.get(key);
        next.claims.set(key, before ? { ...copy(claim), createRevision: before.createRevision, createTimeMs: before.createTimeMs } : copy(claim));
      }
      for (const lease of batch.leases) if (next.hosts.has(lease.hostId)) next.leases.set(lease.hostId, lease.expireTime);
      const chained = chainEntries(c.head, batch.history);
      const last = c.history.at(-1)?.columns;
      for (const { columns } of chained.entries) {
        if (last && (columns.revision < last.revision || (columns.revision === last.revision && columns.seq <= last.seq))) {
          refuse(`history entry ${columns.revision}/${columns.seq} is not after the last one`);
        }
      }
      const revision = Math.max(c.revision, batch.history.at(-1)?.revision ?? 0);
      this.contents = { ...next, history: [...c.history, ...chained.entries], head: chained.head, revision };
      // As PostgreSQL's NOTIFY after a commit that wrote a revision: every server is told, after the commit.
      if (batch.history.length > 0) setImmediate(() => this.wakeAll());
      return { heads: chained.heads };
    });
  }

  listHistory(query: HistoryQuery): Promise<HistoryRecord[]> {
    return this.run(() => {
      const { revisions } = this.contents;
      const revisionTimes = [...revisions].sort(([a], [b]) => a - b);
      const startFromTime =
        query.startTime === undefined ? undefined : revisionTimes.find(([, r]) => r.time >= query.startTime!)?.[0] ?? Infinity;
      const endFromTime =
        query.endTime === undefined ? undefined : revisionTimes.filter(([, r]) => r.time < query.endTime!).at(-1)?.[0] ?? 0;
      const matches = (e: ChainedColumns) =>
        (query.hostId === undefined || e.hostId === query.hostId) &&
        (query.hostId === undefined || query.deviceId === undefined || e.deviceId === query.deviceId) &&
        (query.startRevision === undefined || e.revision >= query.startRevision) &&
        (query.endRevision === undefined || e.revision <= query.endRevision) &&
        (startFromTime === undefined || e.revision >= startFromTime) &&
        (endFromTime === undefined || e.revision <= endFromTime) &&
        (query.actor === undefined || revisions.get(e.revision)?.actor === query.actor) &&
        (query.after === undefined ||
          (query.newestFirst
            ? e.revision < query.after.revision || (e.revision === query.after.revision && e.seq < query.after.seq)
            : e.revision > query.after.revision || (e.revision === query.after.revision && e.seq > query.after.seq)));
      const ordered = query.newestFirst ? [...this.contents.history].reverse() : this.contents.history;
      const page: HistoryRecord[] = [];
      for (const entry of ordered) {
        if (page.length >= query.limit) break;
        if (matches(entry.columns)) page.push(recordOf(entry));
      }
      return page;
    });
  }

  firstChangesAfter(query: FirstChangesQuery): Promise<HistoryRecord[]> {
    return this.run(() => {
      const seen = new Set<string>();
      const first: HistoryRecord[] = [];
      for (const entry of this.contents.history) {
        const e = entry.columns;
        if (e.revision <= query.revision) continue;
        // History is in revision order: past the slice's end, the rest is too.
        if (query.through !== undefined && e.revision > query.through) break;
        if (query.hostId !== undefined && e.hostId !== query.hostId) continue;
        if (query.hostId !== undefined && query.deviceId !== undefined && e.deviceId !== query.deviceId) continue;
        const key = deviceKey(e.hostId, e.deviceId);
        if (seen.has(key)) continue;
        seen.add(key);
        first.push(recordOf(entry));
        if (query.deviceId !== undefined) break;
      }
      return first;
    });
  }

  revisionAt(time: number): Promise<number | undefined> {
    return this.run(() => {
      let latest: number | undefined;
      for (const [revision, { time: at }] of this.contents.revisions) {
        if (at <= time && (latest === undefined || revision > latest)) latest = revision;
      }
      return latest;
    });
  }

  verifyChain(query: ChainWalkQuery): Promise<ChainWalk> {
    return this.run(() => {
      const after = query.after;
      const rows = this.contents.history
        .filter(({ columns: e }) => !after || e.revision > after.revision || (e.revision === after.revision && e.seq > after.seq))
        .slice(0, query.limit);
      return walkChain(rows, query);
    });
  }

  compact(request: CompactionRequest): Promise<CompactionResult> {
    return this.run(() => {
      const { revision } = request;
      const c = this.contents;
      const current = this.checkpoint();
      if (revision <= current.revision) return { checkpoint: current, removed: 0 };
      const kept = c.history.filter((entry) => entry.columns.revision > revision);
      const cut = c.history.filter((entry) => entry.columns.revision <= revision).at(-1);
      const removed = c.history.length - kept.length;
      const record = compactionRecord(request, cut?.hash ?? current.hash, removed, c.compactions, { revision: c.revision, hash: c.head });
      // The revision at the cut stays, so as_of_time can still resolve to it.
      const revisions = new Map([...c.revisions].filter(([r]) => r >= revision));
      this.contents = { ...c, history: kept, revisions, checkpoints: [...c.checkpoints, record.checkpoint], compactions: [...c.compactions, record] };
      // Servers sharing the contents learn of the new checkpoint (PostgreSQL's NOTIFY on compaction).
      if (this.backend.members.length > 0) setImmediate(() => this.wakeAll());
      return { checkpoint: record.checkpoint, removed, record };
    });
  }

  compactions(): Promise<CompactionLog> {
    return this.run(() => walkCompactions(this.contents.compactions));
  }

  compactedStart(): Promise<CompactedStart | undefined> {
    return this.run(() => {
      const last = this.contents.compactions.at(-1);
      const cut = last && this.contents.revisions.get(last.checkpoint.revision);
      if (!last || !cut) return undefined;
      return { records: this.contents.compactions, cut: { revision: last.checkpoint.revision, ...cut } };
    });
  }

  startCompacted(start: CompactedStart): Promise<void> {
    return this.run(() => {
      const c = this.contents;
      if (c.revisions.size > 0 || c.compactions.length > 0) throw new Error('the store is not empty: only an empty store can start at a checkpoint');
      const rows = compactedStartRows(start);
      const { revision, time, actor, reason } = start.cut;
      this.contents = {
        ...c,
        revisions: new Map([[revision, { time, actor, reason }]]),
        checkpoints: rows.map(({ record }) => record.checkpoint),
        compactions: rows.map(({ record }) => record),
        head: rows.at(-1)!.record.checkpoint.hash,
        revision,
      };
    });
  }

  close(): Promise<void> {
    return this.run(() => {
      this.closed = true;
      const members = this.backend.members;
      if (members.includes(this)) members.splice(members.indexOf(this), 1);
    });
  }

  /** Calls this store's wake-up listeners (nothing once closed or while wake-ups are dropped). */
  wake(): void {
    if (this.closed || this.backend.dropWakeups) return;
    for (const listener of this.advanceListeners) listener();
    // Memory has no periodic probe: each wake-up is also a read of the head, taken now.
    const head = this.contents.revision;
    for (const listener of this.headListeners) listener(head, 0);
  }

  private wakeAll(): void {
    for (const member of [...this.backend.members]) member.wake();
  }

  /** The RevisionLog of a shared store (the PostgreSQL store's, over the shared contents). */
  private revisionLog(): RevisionLog {
    return {
      readAfter: (revision, descriptorId, limit) => this.run(() => this.readAfter(revision, descriptorId, limit)),
      onAdvance: (listener) => {
        this.advanceListeners.push(listener);
      },
      onHead: (listener) => {
        this.headListeners.push(listener);
      },
      checkpoint: () => this.run(() => this.checkpoint()),
      // The oldest open store holds the duty; when it closes (its server died), the next does.
      holdsLeaseDuty: () => !this.closed && this.backend.members[0] === this,
      leaseExpiries: (hostIds) =>
        this.run(() => {
          const leases = this.contents.leases;
          return new Map(hostIds.flatMap((hostId) => (leases.has(hostId) ? [[hostId, leases.get(hostId)!] as const] : [])));
        }),
    };
  }

  private readAfter(
    after: number,
    descriptorId: number,
    limit: number,
  ): { head: number; revisions: LoggedRevision[]; descriptors: StoredDescriptor[]; checkpoint: Checkpoint } {
    const c = this.contents;
    const revisions = [...c.revisions]
      .filter(([revision]) => revision > after)
      .sort(([a], [b]) => a - b)
      .slice(0, limit);
    const descriptors = [...c.descriptors]
      .filter(([id]) => id > descriptorId)
      .sort(([a], [b]) => a - b)
      .map(([id, key]) => ({ id, key }));
    const byRevision = new Map<number, StoredEntry[]>();
    for (const entry of c.history) {
      const list = byRevision.get(entry.columns.revision);
      if (list) list.push(entry);
      else if (entry.columns.revision > after) byRevision.set(entry.columns.revision, [entry]);
    }
    let hash: string | undefined;
    const logged = revisions.map(([revision, { time }]): LoggedRevision => {
      const entries = byRevision.get(revision) ?? [];
      // A revision whose entries were compacted away keeps the head of the one before ('' at first), as PostgreSQL's log does.
      hash = entries.at(-1)?.hash ?? hash ?? '';
      return { revision, time, headHash: hash, entries: entries.map(recordOf) };
    });
    return { head: c.revision, revisions: logged, descriptors, checkpoint: this.checkpoint() };
  }

  private checkpoint(): Checkpoint {
    return this.contents.checkpoints.at(-1) ?? { revision: 0, hash: GENESIS_HASH };
  }

  /** Runs `work` after every call made before it, and answers in call order. */
  private run<T>(work: () => T): Promise<T> {
    const result = this.tail.then(() => {
      if (this.closed) throw new Error('the store is closed');
      return work();
    });
    this.tail = result.catch(() => undefined);
    return result;
  }
}

/** A constraint violation: like SQLite's, an internal error (the core never causes one). */
function refuse(description: string): never {
  throw new Error(`the store refused the batch: ${description}`);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function copy<T>(value: T): T {
  return structuredClone(value);
}

function recordOf(entry: StoredEntry): HistoryRecord {
  const e = entry.columns;
  return {
    revision: e.revision,
    seq: e.seq,
    time: e.time,
    hostId: e.hostId,
    deviceId: e.deviceId,
    change: e.change as HistoryRecord['change'],
    actor: e.actor,
    ...(e.onBehalfOf && { onBehalfOf: e.onBehalfOf }),
    reason: e.reason,
    before: decodeSnapshot(e.before, e.hostId, e.deviceId),
    after: decodeSnapshot(e.after, e.hostId, e.deviceId),
    hash: entry.hash,
  };
}

/** A server store factory for a memory store (nothing survives the server). */
export function memoryStore(store = new MemoryStore()): StoreFactory {
  return async () => store;
}
