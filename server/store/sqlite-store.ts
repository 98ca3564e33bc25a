// The SQLite adapter: the only module that knows better-sqlite3. Statements are prepared
// once; every write is one synchronous transaction; SqliteError codes become domain errors
// here and nowhere else. It is synchronous: the registry reaches it through WorkerStore
// (worker-store.ts), which runs it in a worker thread.

import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { DomainError } from '../core/errors.ts';
import type {
  CommitBatch,
  DeviceRecord,
  HistoryQuery,
  HistoryRecord,
  HostRecord,
  LoadedState,
  ResourceSnapshot,
} from '../core/store.ts';
import type { Labels } from '../core/resources.ts';
import { migrate, type MigrationReport } from './migrate.ts';

/**
 * `full`: every acknowledged write has been fsynced (WAL + synchronous=FULL), as etcd promises.
 * `relaxed`: synchronous=NORMAL; survives a crash of devcompat but the last writes
 * acknowledged before a power loss or kernel crash may be lost.
 */
export type Durability = 'full' | 'relaxed';

export interface SqliteStoreOptions {
  readonly path: string;
  readonly durability: Durability;
}

interface HostRow {
  host_id: string;
  labels: string;
  revision: number;
  create_revision: number;
  create_time_ms: number;
  update_time_ms: number;
  last_sync_time_ms: number;
}

interface DeviceRow {
  host_id: string;
  device_id: string;
  descriptor_id: number;
  capacity_total: number | null;
  capacity_available: number | null;
  labels: string;
  revision: number;
  create_revision: number;
  create_time_ms: number;
  update_time_ms: number;
}

interface HistoryRow {
  revision: number;
  seq: number;
  time_ms: number;
  host_id: string;
  device_id: string;
  change: 'CREATED' | 'UPDATED' | 'DELETED';
  actor: string;
  before: string | null;
  after: string | null;
}

export class SqliteStore {
  readonly migrations: MigrationReport;
  private readonly db: Database.Database;
  private readonly statements;
  private readonly queryCache = new Map<string, Database.Statement>();
  private readonly commitTransaction: (batch: CommitBatch) => void;

  constructor(options: SqliteStoreOptions) {
    if (options.path !== ':memory:') mkdirSync(path.dirname(path.resolve(options.path)), { recursive: true });
    this.db = new Database(options.path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma(`synchronous = ${options.durability === 'full' ? 'FULL' : 'NORMAL'}`);
    this.db.pragma('foreign_keys = ON');
    this.db.pragma('busy_timeout = 5000');
    this.migrations = migrate(this.db);

    const db = this.db;
    this.statements = {
      revision: db.prepare(
        'SELECT COALESCE(MAX(revision), 0) AS revision, COALESCE(MAX(time_ms), 0) AS revisionTime FROM revisions',
      ),
      allDescriptors: db.prepare('SELECT descriptor_id AS id, descriptor_key AS key FROM descriptors ORDER BY descriptor_id'),
      allHosts: db.prepare('SELECT * FROM hosts ORDER BY host_id'),
      allDevices: db.prepare('SELECT * FROM devices ORDER BY host_id, device_id'),
      insertRevision: db.prepare('INSERT INTO revisions (revision, time_ms, actor) VALUES (?, ?, ?)'),
      insertDescriptor: db.prepare(
        `INSERT INTO descriptors (descriptor_id, descriptor_key, vendor, device_api, type, software_version)
         VALUES (@id, @key, @vendor, @device_api, @type, @software_version)`,
      ),
      upsertHost: db.prepare(
        `INSERT INTO hosts (host_id, labels, revision, create_revision, create_time_ms, update_time_ms, last_sync_time_ms)
         VALUES (@host_id, @labels, @revision, @create_revision, @create_time_ms, @update_time_ms, @last_sync_time_ms)
         ON CONFLICT (host_id) DO UPDATE SET labels = excluded.labels, revision = excluded.revision,
           update_time_ms = excluded.update_time_ms, last_sync_time_ms = excluded.last_sync_time_ms`,
      ),
      deleteHost: db.prepare('DELETE FROM hosts WHERE host_id = ?'),
      touchHost: db.prepare('UPDATE hosts SET last_sync_time_ms = ? WHERE host_id = ?'),
      upsertDevice: db.prepare(
        `INSERT INTO devices (host_id, device_id, descriptor_id, capacity_total, capacity_available, labels,
           revision, create_revision, create_time_ms, update_time_ms)
         VALUES (@host_id, @device_id, @descriptor_id, @capacity_total, @capacity_available, @labels,
           @revision, @create_revision, @create_time_ms, @update_time_ms)
         ON CONFLICT (host_id, device_id) DO UPDATE SET descriptor_id = excluded.descriptor_id,
           capacity_total = excluded.capacity_total, capacity_available = excluded.capacity_available,
           labels = excluded.labels, revision = excluded.revision, update_time_ms = excluded.update_time_ms`,
      ),
      deleteDevice: db.prepare('DELETE FROM devices WHERE host_id = ? AND device_id = ?'),
      // History is most of what a commit writes: one statement per batch, iterating a JSON
      // array inside SQLite, instead of one call per entry.
      insertHistory: db.prepare(
        `INSERT INTO history (revision, seq, time_ms, host_id, device_id, change, actor, before, after)
         SELECT e.value ->> 0, e.value ->> 1, e.value ->> 2, e.value ->> 3, e.value ->> 4, e.value ->> 5,
                e.value ->> 6, e.value ->> 7, e.value ->> 8
         FROM json_each(?) AS e`,
      ),
    };
    this.commitTransaction = this.db.transaction((batch: CommitBatch) => this.applyBatch(batch));
  }

  load(): LoadedState {
    const { revision, revisionTime } = this.statements.revision.get() as { revision: number; revisionTime: number };
    return {
      revision,
      revisionTime,
      descriptors: this.statements.allDescriptors.all() as { id: number; key: string }[],
      hosts: (this.statements.allHosts.all() as HostRow[]).map(hostFromRow),
      devices: (this.statements.allDevices.all() as DeviceRow[]).map(deviceFromRow),
    };
  }

  commit(batch: CommitBatch): void {
    try {
      this.commitTransaction(batch);
    } catch (error) {
      throw mapSqliteError(error);
    }
  }

  private applyBatch(batch: CommitBatch): void {
    const s = this.statements;
    const revisions = new Map<number, { time: number; actor: string }>();
    for (const entry of batch.history) revisions.set(entry.revision, { time: entry.time, actor: entry.actor });
    for (const [revision, { time, actor }] of revisions) s.insertRevision.run(revision, time, actor);
    for (const stored of batch.newDescriptors) {
      const parsed = JSON.parse(stored.key) as Record<string, string>;
      s.insertDescriptor.run({
        id: stored.id,
        key: stored.key,
        vendor: parsed.vendor,
        device_api: parsed.device_api,
        type: parsed.type,
        software_version: parsed.software_version,
      });
    }
    // Devices before hosts: a device row refers to its host.
    for (const { hostId, deviceId } of batch.deviceDeletes) s.deleteDevice.run(hostId, deviceId);
    for (const hostId of batch.hostDeletes) s.deleteHost.run(hostId);
    for (const host of batch.hostUpserts) s.upsertHost.run(hostToRow(host));
    for (const device of batch.deviceUpserts) s.upsertDevice.run(deviceToRow(device));
    for (const touch of batch.syncTouches) s.touchHost.run(touch.lastSyncTime, touch.hostId);
    if (batch.history.length > 0) {
      s.insertHistory.run(
        JSON.stringify(
          batch.history.map((entry) => [
            entry.revision,
            entry.seq,
            entry.time,
            entry.hostId,
            entry.deviceId,
            entry.change,
            entry.actor,
            entry.before ? encodeSnapshot(entry.before) : null,
            entry.after ? encodeSnapshot(entry.after) : null,
          ]),
        ),
      );
    }
  }

  listHistory(query: HistoryQuery): HistoryRecord[] {
    const where: string[] = [];
    const params: unknown[] = [];
    if (query.hostId !== undefined) {
      where.push('host_id = ?');
      params.push(query.hostId);
      if (query.deviceId !== undefined) {
        where.push('device_id = ?');
        params.push(query.deviceId);
      }
    }
    if (query.startRevision !== undefined) {
      where.push('revision >= ?');
      params.push(query.startRevision);
    }
    if (query.endRevision !== undefined) {
      where.push('revision <= ?');
      params.push(query.endRevision);
    }
    // Time and actor are properties of a revision: resolved through the revisions table.
    if (query.startTime !== undefined) {
      where.push('revision >= (SELECT COALESCE(MIN(revision), 9e18) FROM revisions WHERE time_ms >= ?)');
      params.push(query.startTime);
    }
    if (query.endTime !== undefined) {
      where.push('revision <= (SELECT COALESCE(MAX(revision), 0) FROM revisions WHERE time_ms < ?)');
      params.push(query.endTime);
    }
    if (query.actor !== undefined) {
      where.push('revision IN (SELECT revision FROM revisions WHERE actor = ?)');
      params.push(query.actor);
    }
    if (query.after) {
      where.push(`(revision, seq) ${query.newestFirst ? '<' : '>'} (?, ?)`);
      params.push(query.after.revision, query.after.seq);
    }
    const direction = query.newestFirst ? 'DESC' : 'ASC';
    const sql = `SELECT * FROM history ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY revision ${direction}, seq ${direction} LIMIT ?`;
    return (this.query(sql).all(...params, query.limit) as HistoryRow[]).map(historyFromRow);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  /** List queries vary only by which filters are present: prepare each shape once. */
  private query(sql: string): Database.Statement {
    let statement = this.queryCache.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.queryCache.set(sql, statement);
    }
    return statement;
  }
}

function mapSqliteError(error: unknown): unknown {
  if (error instanceof Database.SqliteError) {
    switch (error.code) {
      case 'SQLITE_BUSY':
      case 'SQLITE_LOCKED':
        return new DomainError('UNAVAILABLE', 'the database is locked by another process; retry');
      case 'SQLITE_FULL':
        return new DomainError('UNAVAILABLE', 'the disk is full: the write was not stored');
      case 'SQLITE_READONLY':
        return new DomainError('UNAVAILABLE', 'the database is read-only: the write was not stored');
      default:
        return error;
    }
  }
  return error;
}

function hostFromRow(row: HostRow): HostRecord {
  return {
    hostId: row.host_id,
    labels: JSON.parse(row.labels),
    revision: row.revision,
    createRevision: row.create_revision,
    createTime: row.create_time_ms,
    updateTime: row.update_time_ms,
    lastSyncTime: row.last_sync_time_ms,
  };
}

function hostToRow(host: HostRecord): HostRow {
  return {
    host_id: host.hostId,
    labels: JSON.stringify(host.labels),
    revision: host.revision,
    create_revision: host.createRevision,
    create_time_ms: host.createTime,
    update_time_ms: host.updateTime,
    last_sync_time_ms: host.lastSyncTime,
  };
}

function deviceFromRow(row: DeviceRow): DeviceRecord {
  return {
    hostId: row.host_id,
    deviceId: row.device_id,
    descriptorId: row.descriptor_id,
    capacity: row.capacity_total === null ? undefined : { total: row.capacity_total, available: row.capacity_available ?? 0 },
    labels: JSON.parse(row.labels),
    revision: row.revision,
    createRevision: row.create_revision,
    createTime: row.create_time_ms,
    updateTime: row.update_time_ms,
  };
}

function deviceToRow(device: DeviceRecord): DeviceRow {
  return {
    host_id: device.hostId,
    device_id: device.deviceId,
    descriptor_id: device.descriptorId,
    capacity_total: device.capacity?.total ?? null,
    capacity_available: device.capacity?.available ?? null,
    labels: JSON.stringify(device.labels),
    revision: device.revision,
    create_revision: device.createRevision,
    create_time_ms: device.createTime,
    update_time_ms: device.updateTime,
  };
}

// History snapshots are compact JSON: the entry's row already holds the host and device ids,
// so a snapshot keeps only the resource's own state. History is most of what a registry
// writes, so its size is most of the write cost.
interface HostSnapshotJson {
  l: Labels;
  r: number;
  cr: number;
  ct: number;
  ut: number;
  st: number;
}

interface DeviceSnapshotJson {
  d: number;
  c?: [number, number];
  l: Labels;
  r: number;
  cr: number;
  ct: number;
  ut: number;
}

function encodeSnapshot(snapshot: ResourceSnapshot): string {
  if (snapshot.kind === 'host') {
    const { host } = snapshot;
    const json: HostSnapshotJson = {
      l: host.labels,
      r: host.revision,
      cr: host.createRevision,
      ct: host.createTime,
      ut: host.updateTime,
      st: host.lastSyncTime,
    };
    return JSON.stringify({ h: json });
  }
  const { device } = snapshot;
  const json: DeviceSnapshotJson = {
    d: device.descriptorId,
    ...(device.capacity && { c: [device.capacity.total, device.capacity.available] as [number, number] }),
    l: device.labels,
    r: device.revision,
    cr: device.createRevision,
    ct: device.createTime,
    ut: device.updateTime,
  };
  return JSON.stringify({ v: json });
}

function decodeSnapshot(text: string | null, hostId: string, deviceId: string): ResourceSnapshot | undefined {
  if (text === null) return undefined;
  const parsed = JSON.parse(text) as { h?: HostSnapshotJson; v?: DeviceSnapshotJson };
  if (parsed.h) {
    const h = parsed.h;
    return {
      kind: 'host',
      host: { hostId, labels: h.l, revision: h.r, createRevision: h.cr, createTime: h.ct, updateTime: h.ut, lastSyncTime: h.st },
    };
  }
  if (parsed.v) {
    const v = parsed.v;
    return {
      kind: 'device',
      device: {
        hostId,
        deviceId,
        descriptorId: v.d,
        capacity: v.c && { total: v.c[0], available: v.c[1] },
        labels: v.l,
        revision: v.r,
        createRevision: v.cr,
        createTime: v.ct,
        updateTime: v.ut,
      },
    };
  }
  throw new Error('history snapshot holds neither a host nor a device');
}

function historyFromRow(row: HistoryRow): HistoryRecord {
  return {
    revision: row.revision,
    seq: row.seq,
    time: row.time_ms,
    hostId: row.host_id,
    deviceId: row.device_id,
    change: row.change,
    actor: row.actor,
    before: decodeSnapshot(row.before, row.host_id, row.device_id),
    after: decodeSnapshot(row.after, row.host_id, row.device_id),
  };
}
