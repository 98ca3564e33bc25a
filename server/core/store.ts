// The storage interface the core owns. The SQLite adapter (server/store/) implements it;
// nothing in the core knows how it is stored. Times are milliseconds since the epoch,
// revisions plain numbers (a registry would need 2^53 writes to overflow them).

import type { Capacity } from './model.ts';
import type { Labels } from './resources.ts';

export interface HostRecord {
  readonly hostId: string;
  readonly labels: Labels;
  /** Revision of the host's last change, its devices included. */
  readonly revision: number;
  readonly createRevision: number;
  readonly createTime: number;
  readonly updateTime: number;
  readonly lastSyncTime: number;
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

export type ChangeKind = 'CREATED' | 'UPDATED' | 'DELETED';

export type ResourceSnapshot =
  | { readonly kind: 'host'; readonly host: HostRecord }
  | { readonly kind: 'device'; readonly device: DeviceRecord };

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
  readonly before: ResourceSnapshot | undefined;
  readonly after: ResourceSnapshot | undefined;
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
}

export interface LoadedState {
  readonly revision: number;
  /** Commit time of the latest revision (0 for an empty registry). */
  readonly revisionTime: number;
  readonly descriptors: readonly StoredDescriptor[];
  readonly hosts: readonly HostRecord[];
  readonly devices: readonly DeviceRecord[];
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

/**
 * Asynchronous, so the adapter can run its database work off the event loop (the SQLite
 * adapter runs it in a worker thread). Calls are executed in the order they are made: a read
 * made after a commit was requested sees that commit.
 */
export interface RegistryStore {
  load(): Promise<LoadedState>;
  /** Writes the batch in one transaction; durable when it resolves (per the durability mode). */
  commit(batch: CommitBatch): Promise<void>;
  listHistory(query: HistoryQuery): Promise<HistoryRecord[]>;
  close(): Promise<void>;
}
