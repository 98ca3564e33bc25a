// The storage interface the core owns. The SQLite and PostgreSQL adapters (server/store/)
// implement it; nothing in the core knows how it is stored. A store several servers share adds
// a RevisionLog (follow the others' writes, the lease-expiry duty); every store refuses a batch
// planned against another head than its own (StaleBatchError). Times are milliseconds since the epoch,
// revisions plain numbers (a registry would need 2^53 writes to overflow them).

import type { Capacity } from './model.ts';
import type { Labels } from './resources.ts';
import type { Claim } from './claims.ts';
import type { Budget } from './budgets.ts';

export interface HostRecord {
  readonly hostId: string;
  readonly labels: Labels;
  /** Revision of the host's last change, its devices included. */
  readonly revision: number;
  readonly createRevision: number;
  readonly createTime: number;
  readonly updateTime: number;
  readonly lastSyncTime: number;
  /** False once the host's lease lapsed; true again at its next keepalive or sync. */
  readonly reachable: boolean;
  /** The operator's draining mark; a sync does not clear it. */
  readonly draining: boolean;
  /** The shared budgets of its last sync, in budget id order; absent (or empty) when none. */
  readonly budgets?: readonly Budget[];
}

export interface DeviceRecord {
  readonly hostId: string;
  readonly deviceId: string;
  /** Descriptors are interned: content-addressed by their canonical key, never changed. */
  readonly descriptorId: number;
  readonly capacity: Capacity | undefined;
  readonly labels: Labels;
  readonly revision: number;
  readonly createRevision: number;
  readonly createTime: number;
  readonly updateTime: number;
}

/** A claim as stored and recorded: the claim and the revisions of its creation and last change. */
export interface ClaimRecord extends Claim {
  readonly createRevision: number;
  readonly revision: number;
}

export type ChangeKind = 'CREATED' | 'UPDATED' | 'DELETED';

export type ResourceSnapshot =
  | { readonly kind: 'host'; readonly host: HostRecord }
  | { readonly kind: 'device'; readonly device: DeviceRecord }
  /** A claim's entry has deviceId `claims/{claim_id}` (claimEntryId); an ended claim's DELETED entry keeps `after` to say how it ended. */
  | { readonly kind: 'claim'; readonly claim: ClaimRecord };

export interface HistoryRecord {
  readonly revision: number;
  /** Order of the entry within its revision. */
  readonly seq: number;
  readonly time: number;
  readonly hostId: string;
  /** Empty for an entry about the host itself. */
  readonly deviceId: string;
  readonly change: ChangeKind;
  readonly actor: string;
  /** With mutual TLS: the `x-devcompat-actor` the caller sent, on whose behalf it acted ('' or absent = none). */
  readonly onBehalfOf?: string;
  /** Why the write was made: request metadata, or the server's reason (a lapsed lease). */
  readonly reason: string;
  readonly before: ResourceSnapshot | undefined;
  readonly after: ResourceSnapshot | undefined;
  /** The entry's link in the history chain (hex); set on entries read from the store. */
  readonly hash?: string;
}

export interface StoredDescriptor {
  readonly id: number;
  /** The canonical JSON encoding (Descriptor.key). */
  readonly key: string;
}

/** Everything one group commit writes, in one transaction. */
export interface CommitBatch {
  readonly newDescriptors: readonly StoredDescriptor[];
  readonly hostUpserts: readonly HostRecord[];
  readonly hostDeletes: readonly string[];
  readonly deviceUpserts: readonly DeviceRecord[];
  readonly deviceDeletes: readonly { readonly hostId: string; readonly deviceId: string }[];
  readonly history: readonly HistoryRecord[];
  /** Syncs that changed nothing still move the host's last_sync_time. */
  readonly syncTouches: readonly { readonly hostId: string; readonly lastSyncTime: number }[];
  /** Lease expiries to persist (not each keepalive: about once a second). */
  readonly leases: readonly { readonly hostId: string; readonly expireTime: number }[];
  /** Live claims created or changed (placement; absent = none). */
  readonly claimUpserts?: readonly ClaimRecord[];
  /** Claims that ended (released, expired, consumed). A deleted host's claims go with it. */
  readonly claimDeletes?: readonly { readonly hostId: string; readonly claimId: string }[];
  /**
   * The revision the batch was planned against. Every store refuses the batch with
   * StaleBatchError when its head is another: a server sharing the store wrote meanwhile, or
   * the batch was sent behind one that then failed (the group commit sends the next batch
   * before it knows the outcome of the one in flight). The batch is planned again.
   */
  readonly baseRevision?: number;
}

/** A batch planned against a revision that is no longer the head (see CommitBatch.baseRevision). */
export class StaleBatchError extends Error {
  constructor(readonly head: number) {
    super(`the registry moved on to revision ${head} while the batch was planned`);
    this.name = 'StaleBatchError';
  }
}

/** The history chain's head after each revision a commit wrote, in revision order. */
export interface CommitResult {
  readonly heads: readonly { readonly revision: number; readonly hash: string }[];
}

/** History up to and including `revision` was removed; `hash` is the chain at the cut. */
export interface Checkpoint {
  readonly revision: number;
  readonly hash: string;
}

export interface LoadedState {
  readonly revision: number;
  /** Commit time of the latest revision (0 for an empty registry). */
  readonly revisionTime: number;
  readonly descriptors: readonly StoredDescriptor[];
  readonly hosts: readonly HostRecord[];
  readonly devices: readonly DeviceRecord[];
  /** Persisted lease expiries by host id; hosts without one lease from their last sync. */
  readonly leaseExpiries: ReadonlyMap<string, number>;
  /** Hash of the last history entry (or of the checkpoint when none is left). */
  readonly headHash: string;
  readonly checkpoint: Checkpoint;
  /** Live claims in creation order (create revision); absent from stores without claims. */
  readonly claims?: readonly ClaimRecord[];
  /**
   * Set when the store gave its devices to this StateLoad while it opened (then `devices` is
   * empty): the registry finishes the state that load built rather than building one.
   */
  readonly devicesLoadedInto?: StateLoad;
}

/** The parts of a load known before the devices: descriptors, hosts and their leases. */
export type LoadedTables = Pick<LoadedState, 'descriptors' | 'hosts' | 'leaseExpiries'>;

/**
 * Where a store that reads its devices in pages while it opens (SQLite: while its start-up
 * checks run) may hand them, so the registry's state is built as they arrive: the tables
 * first, then each page. What it was given is used only if the store opens and its first
 * load() names it (`devicesLoadedInto`); a store that refuses to open leaves it unused.
 */
export interface StateLoad {
  tables(tables: LoadedTables): void;
  /**
   * One device. The record may be one object the store reuses for every device it hands out
   * (SQLite's load makes no record per device): what is kept is copied from it, never the
   * record itself.
   */
  device(record: DeviceRecord): void;
}

/** History entries about a claim carry this in place of a device id ('/' is never in a device id). */
export const CLAIM_ENTRY_PREFIX = 'claims/';

export function claimEntryId(claimId: string): string {
  return CLAIM_ENTRY_PREFIX + claimId;
}

/** The claim id of a history entry's deviceId, or undefined when the entry is not about a claim. */
export function claimIdOfEntry(deviceId: string): string | undefined {
  return deviceId.startsWith(CLAIM_ENTRY_PREFIX) ? deviceId.slice(CLAIM_ENTRY_PREFIX.length) : undefined;
}

/** A stretch of the chain walked by verifyChain. */
export interface ChainWalkQuery {
  /** Exclusive: the last entry already walked; undefined from the checkpoint. */
  readonly after: { readonly revision: number; readonly seq: number } | undefined;
  /** The hash the next entry must chain to (the checkpoint's, at the start). */
  readonly prevHash: string;
  readonly limit: number;
  readonly expectedHead: string | undefined;
  /** Another hash looked for on the chain (a replica's own head, which may trail the store's end: audit.ts). */
  readonly liveHead?: string;
}

export type ChainProblem = 'ALTERED' | 'REMOVED_OR_REORDERED' | 'HEAD_NOT_FOUND' | 'HEAD_MISMATCH' | 'COMPACTION_RECORD_BROKEN';

export interface ChainWalk {
  readonly checked: number;
  /** The last entry walked; undefined when there was none. */
  readonly last: { readonly revision: number; readonly seq: number; readonly hash: string } | undefined;
  readonly foundExpectedHead: boolean;
  /** Whether an entry walked has the hash `liveHead`. */
  readonly foundLiveHead?: boolean;
  readonly broken:
    | { readonly revision: number; readonly seq: number; readonly problem: ChainProblem; readonly description: string }
    | undefined;
}

/** Who compacted what, when, and the head then; chained to the record before (recordHash). */
export interface CompactionRecord {
  readonly checkpoint: Checkpoint;
  readonly time: number;
  /** '' for compactions made before records existed (then headHash and recordHash are '' too). */
  readonly actor: string;
  readonly removed: number;
  readonly headRevision: number;
  readonly headHash: string;
  readonly recordHash: string;
}

/**
 * What a compaction asks the store to record beside the cut. The head the record holds is the
 * store's own, read with the cut: with replicas, the caller's may be behind another's writes.
 */
export interface CompactionRequest {
  readonly revision: number;
  readonly time: number;
  readonly actor: string;
}

export interface CompactionResult {
  readonly checkpoint: Checkpoint;
  readonly removed: number;
  /** Undefined when nothing was compacted (the revision was at or before the checkpoint). */
  readonly record?: CompactionRecord;
  /**
   * Why deleting the compacted rows stopped, when it did after the compaction committed (a
   * store that deletes them afterwards: PostgreSQL). The compaction stands: the rows left are
   * never read, and the next compaction deletes them.
   */
  readonly deleteFailed?: string;
}

/** Every compaction record, oldest first, and the first break in their chain if any. */
export interface CompactionLog {
  readonly records: readonly CompactionRecord[];
  readonly broken: string | undefined;
}

/**
 * Where a compacted store's history starts: what a copy must record first so that the copied
 * history chains to the same checkpoint and the copy shows the same compactions.
 */
export interface CompactedStart {
  /** Every compaction record, oldest first; the last one's checkpoint is where history starts. */
  readonly records: readonly CompactionRecord[];
  /** The revision at the last cut, which compaction keeps (so as_of_time can resolve to it). */
  readonly cut: { readonly revision: number; readonly time: number; readonly actor: string; readonly reason: string };
}

export interface HistoryQuery {
  readonly hostId: string | undefined;
  /** With hostId: one device; undefined: the host and all its devices. */
  readonly deviceId: string | undefined;
  readonly startRevision: number | undefined;
  readonly endRevision: number | undefined;
  readonly startTime: number | undefined;
  /** Exclusive. */
  readonly endTime: number | undefined;
  readonly actor: string | undefined;
  readonly newestFirst: boolean;
  /** Exclusive cursor (revision, seq) in the listing's order. */
  readonly after: { readonly revision: number; readonly seq: number } | undefined;
  readonly limit: number;
}

/** A history query: every entry, oldest first, unless `fields` narrow it. */
export function historyQuery(fields: Partial<HistoryQuery> & { readonly limit: number }): HistoryQuery {
  return {
    hostId: undefined,
    deviceId: undefined,
    startRevision: undefined,
    endRevision: undefined,
    startTime: undefined,
    endTime: undefined,
    actor: undefined,
    newestFirst: false,
    after: undefined,
    ...fields,
  };
}

/** What a backup wrote: the copy holds exactly this revision and history head. */
export interface BackupResult {
  readonly path: string;
  readonly revision: number;
  readonly headHash: string;
  readonly sizeBytes: number;
}

/**
 * `full`: every acknowledged write is on stable storage (for SQLite: WAL + synchronous=FULL).
 * `relaxed`: survives a crash of devcompat, but the last writes acknowledged before a power
 * loss or kernel crash may be lost.
 */
export type Durability = 'full' | 'relaxed';

/** What `firstChangesAfter` reads: the first entry of each resource in a stretch of history. */
export interface FirstChangesQuery {
  /** Entries after this revision. */
  readonly revision: number;
  /**
   * Only entries at or before this revision: a slice of history (point-in-time.ts reads a whole
   * past registry slice by slice, so that no single call holds the writes queued behind it for
   * long). Every entry after `revision` when absent.
   */
  readonly through?: number;
  readonly hostId?: string;
  /** With hostId: one resource ('' for the host itself). */
  readonly deviceId?: string;
}

/**
 * Asynchronous, so the adapter can run its database work off the event loop (the SQLite
 * adapter runs it in a worker thread). Calls are executed in the order they are made: a read
 * made after a commit was requested sees that commit.
 */
export interface RegistryStore {
  load(): Promise<LoadedState>;
  /** Writes the batch in one transaction; durable when it resolves (per the durability mode). */
  commit(batch: CommitBatch): Promise<CommitResult>;
  listHistory(query: HistoryQuery): Promise<HistoryRecord[]>;
  /**
   * For each resource changed after `revision` (up to `through` when set; only the one resource
   * when hostId is set, deviceId '' for the host itself), its first entry after that revision:
   * the entry's `before` is the resource as it was at `revision`.
   */
  firstChangesAfter(query: FirstChangesQuery): Promise<HistoryRecord[]>;
  /** The latest revision committed at or before `time`; undefined when there is none. */
  revisionAt(time: number): Promise<number | undefined>;
  verifyChain(query: ChainWalkQuery): Promise<ChainWalk>;
  /** Removes history up to and including `revision` and records a checkpoint. */
  compact(request: CompactionRequest): Promise<CompactionResult>;
  /** The compaction records, their chain checked. */
  compactions(): Promise<CompactionLog>;
  /** Where this store's history starts; undefined when it was never compacted. */
  compactedStart(): Promise<CompactedStart | undefined>;
  /**
   * Makes an empty store start where a compacted one does (`devcompat store copy`): records its
   * compaction records and the revision at its cut, and moves the chain's head to the
   * checkpoint, so that the history committed next chains to it. Refused unless the store is empty.
   */
  startCompacted(start: CompactedStart): Promise<void>;
  /**
   * Writes a consistent copy of the store to a new file at `path` (absolute), between two
   * commits, and says which revision and head it holds. Absent for a store with no file.
   */
  backup?(path: string): Promise<BackupResult>;
  close(): Promise<void>;
}

/** One committed revision as read back from the store: what another server wrote. */
export interface LoggedRevision {
  readonly revision: number;
  readonly time: number;
  /** The chain's head after this revision. */
  readonly headHash: string;
  readonly entries: readonly HistoryRecord[];
}

/**
 * A store that several servers write: each follows what the others commit, through the
 * store's revision log (the truth) and a wake-up signal (a hint that may be lost).
 */
export interface RevisionLog {
  /**
   * Revisions after `revision` (at most `limit`, in order), the descriptors with an id above
   * `descriptorId`, and the head now. Fails (UNAVAILABLE) when the store cannot be reached.
   */
  readAfter(revision: number, descriptorId: number, limit: number): Promise<{
    readonly head: number;
    readonly revisions: readonly LoggedRevision[];
    readonly descriptors: readonly StoredDescriptor[];
    /** The latest checkpoint (another server may have compacted): history up to it is gone. */
    readonly checkpoint: Checkpoint;
  }>;
  /**
   * Calls `listener` when another server may have committed or compacted (or the wake-up
   * channel was re-opened).
   */
  onAdvance(listener: () => void): void;
  /**
   * Calls `listener` with the head each time the store reads it on its own (a periodic probe,
   * about once a second while the store is reachable). `ageMs` is how long the read took: the
   * head was the store's at most that long ago. What a server's lag is measured against.
   */
  onHead(listener: (head: number, ageMs: number) => void): void;
  /**
   * Whether this server holds the lease-expiry duty now: one server of those sharing the store
   * at a time (handed over when its holder dies), so a lease lapses once, not once per server.
   */
  holdsLeaseDuty(): boolean;
  /**
   * The latest checkpoint, read after every call made before this one: a read that found
   * history missing learns whether another server compacted it away meanwhile.
   */
  checkpoint(): Promise<Checkpoint>;
  /** The persisted lease expiries of these hosts (renewals any server received and wrote). */
  leaseExpiries(hostIds: readonly string[]): Promise<ReadonlyMap<string, number>>;
}

/** A store as the server runs it: the core's calls, and how it says it can no longer work. */
export interface ServedStore extends RegistryStore {
  /** Called once if the store fails for good (its worker died): no write can be stored any more. */
  onFailure(listener: (error: Error) => void): void;
  /** Schema migrations applied while opening, for the start-up log. */
  readonly migrations?: { readonly applied: readonly string[] };
  /**
   * Called when the store becomes unreachable (false) and reachable again (true), for health:
   * a server whose database is down is NOT_SERVING until it comes back. Absent for embedded stores.
   */
  onReachability?(listener: (reachable: boolean, detail: string) => void): void;
  /**
   * Replicas: called when this server takes the lease-expiry duty (`fromHung`: the pid of the
   * database session it ended to take it from a replica that stopped answering) and loses it.
   */
  onLeaseDuty?(listener: (held: boolean, fromHung: number | undefined) => void): void;
  /** Present when other servers may write the same store: the server then follows its log. */
  readonly log?: RevisionLog;
  /**
   * What the store checked while opening, for the start-up log: the head anchor's verdict
   * (`anchor`), a restore the operator accepted (`restore`), the history entries verified.
   */
  readonly startup?: {
    readonly anchor?: string;
    readonly restore?: { readonly revision: number; readonly problem: string };
    /** The operator's re-anchoring (`--reanchor`), when the anchor could not vouch and was replaced. */
    readonly reanchored?: { readonly revision: number; readonly problem: string; readonly operator: string; readonly reason: string };
    readonly checkedEntries?: number;
  };
}

/** Opens the server's store (the server calls it once, at start-up). */
export type StoreFactory = (load?: StateLoad) => Promise<ServedStore>;
