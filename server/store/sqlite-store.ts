// The SQLite adapter: the only module that knows better-sqlite3. Statements are prepared
// once; every write is one synchronous transaction; SqliteError codes become domain errors
// here and nowhere else. It is synchronous: the registry reaches it through WorkerStore
// (worker-store.ts), which runs it in a worker thread.

import { SqliteClaims } from './sqlite-claims.ts';
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { unavailable } from '../core/errors.ts';
import type {
  ChainWalk,
  Durability,
  ChainWalkQuery,
  Checkpoint,
  CompactedStart,
  CompactionLog,
  CompactionRecord,
  CompactionRequest,
  CommitBatch,
  CommitResult,
  CompactionResult,
  BackupResult,
  HistoryQuery,
  HistoryRecord,
  HostRecord,
  LoadedState,
  FirstChangesQuery,
} from '../core/store.ts';
import { StaleBatchError } from '../core/store.ts';
import { GENESIS_HASH } from './history-chain.ts';
import { compactedStartRows, compactionRecord, copiedCheckpointRow, lastRecordHash, walkCompactions } from './history-encoding.ts';
import { chainPacked, SqliteHistory, type PackedRevision } from './sqlite-history.ts';
import { encodeCommitBatch, type EncodedBatch } from './commit-encoding.ts';
import { migrate, migratedAlready, type MigrationReport } from './migrate.ts';
import { COPY_MARK_REVISION, unfinishedCopyError, type RevisionRow } from './store-copy-mark.ts';
import { openDatabase } from './open-database.ts';
import { SingleWriterLock } from './single-writer-lock.ts';
import { decideAnchor, HeadAnchor, type AnchorDecision } from './head-anchor.ts';
import { AnchorRegistry, decideRegistration, operatorName } from './anchor-registration.ts';
import { checkRecentChain, DEFAULT_STARTUP_CHAIN_CHECK } from './startup-check.ts';
import { hostToRow as hostToSharedRow, type HostRowBase } from './rows.ts';
import { vacuumInto } from './sqlite-backup.ts';
import { DEVICES_BY_HOST_PAGE, readDevicePages, type DeviceRows } from './sqlite-device-load.ts';
import { loadedState, type EncodedTables, type StoredHead, type StoredState } from './stored-state.ts';
import { HOSTS_ENCODED } from './sqlite-host-load.ts';

/** `full`: synchronous=FULL, as etcd promises; `relaxed`: synchronous=NORMAL. */
export type { Durability } from '../core/store.ts';

export interface SqliteStoreOptions {
  readonly path: string;
  readonly durability: Durability;
  /** Accept a database behind or off its head anchor as a restore (recorded; numbering resumes above the anchor). */
  readonly acceptRestore?: boolean;
  /** Re-anchor a database whose anchor is missing, unreadable or foreign, for this reason (recorded as a revision). */
  readonly reanchor?: string;
  /**
   * A revision some client may have seen, known by the operator (a restore onto a new path,
   * whose anchor was lost with the old one): a restore or re-anchoring recorded now is numbered
   * above it too, so no revision number is reused.
   */
  readonly resumeAbove?: number;
  /** How many of the newest history entries are verified at start-up (default 10,000; 0: none). */
  readonly startupChainCheck?: number;
  /**
   * Opens an existing file read-only, as `devcompat store copy`'s source: nothing is created or
   * written in it or beside it (no lock, no migration, no WAL switch, no anchor), so a backup is
   * read as it is. A file that lacks a migration is refused (it would need writing).
   */
  readonly readOnly?: boolean;
  /** Opened by `devcompat store copy` as its target: the mark of an unfinished copy (store-copy-mark.ts) is not refused. */
  readonly copyTarget?: boolean;
}

/** What start-up found, for the server's log. */
export interface StartupReport {
  /** What the head anchor said (undefined for an in-memory database). */
  readonly anchor: AnchorDecision['action'] | 'reanchor' | undefined;
  /** The restore recorded, when one was accepted. */
  readonly restore?: { readonly revision: number; readonly problem: string };
  /** The re-anchoring recorded, when the operator re-anchored (`--reanchor`). */
  readonly reanchored?: { readonly revision: number; readonly problem: string; readonly operator: string; readonly reason: string };
  /** History entries whose chain was verified. */
  readonly checkedEntries: number;
}

/** What the storage worker may read between the migrations and the start-up checks (the constructor's `migrated`). */
export interface StartupReads {
  tables(): EncodedTables;
  devicePages(page: (rows: DeviceRows) => void): void;
}

interface HostRow extends HostRowBase {
  reachable: number;
  draining: number;
  lease_expire_ms?: number | null;
}

export class SqliteStore {
  readonly migrations: MigrationReport;
  readonly startup: StartupReport;
  private readonly db: Database.Database;
  private readonly lock: SingleWriterLock | undefined;
  private readonly anchor: HeadAnchor | undefined;
  private readonly statements: ReturnType<typeof prepareStatements>;
  /** Placement claims (sqlite-claims.ts). */
  private readonly claims: SqliteClaims;
  /** History, one row per revision (sqlite-history.ts). */
  private readonly history: SqliteHistory;
  private readonly commitTransaction: (batch: EncodedBatch, history: readonly PackedRevision[]) => void;
  /** Hash of the last history entry written (or of the latest checkpoint). */
  private head: string;

  /**
   * Opens the database, applies migrations, then runs the start-up checks (chain, anchor).
   * `migrated` is called in between, with a way to read the tables: from then on the
   * descriptors, hosts, devices and claims stay as they are until the first commit (the checks
   * write only history links, revisions and the anchor's row), so the storage worker sends them
   * ahead and the main thread decodes them while the checks run (worker-store.ts). Nothing read
   * ahead is served unless the checks pass.
   */
  constructor(options: SqliteStoreOptions, hooks: { migrated?: (reads: StartupReads) => void } = {}) {
    const onDisk = options.path !== ':memory:';
    const writes = onDisk && !options.readOnly;
    if (writes) mkdirSync(path.dirname(path.resolve(options.path)), { recursive: true });
    // One server per file: the lock comes first, so a second server touches nothing.
    this.lock = writes ? SingleWriterLock.acquire(options.path) : undefined;
    try {
      ({ db: this.db, statements: this.statements } = this.openAndPrepare(options));
    } catch (error) {
      this.lock?.release();
      throw error;
    }
    this.migrations = this.migrationsApplied;
    this.claims = new SqliteClaims(this.db);
    this.history = new SqliteHistory(this.db);
    this.commitTransaction = this.db.transaction((batch: EncodedBatch, history: readonly PackedRevision[]) => this.applyBatch(batch, history));
    try {
      const mark = this.statements.revisionRow.get(COPY_MARK_REVISION) as { time_ms: number; actor: string; reason: string } | undefined;
      if (mark && !options.copyTarget) {
        throw unfinishedCopyError({ kind: 'sqlite', path: options.path }, { revision: COPY_MARK_REVISION, time: mark.time_ms, actor: mark.actor, reason: mark.reason });
      }
      hooks.migrated?.(this);
      this.history.chainUnchained(this.checkpoint().hash);
      this.head = this.currentHead();
      const checkedEntries = checkRecentChain(
        this.history,
        options.path,
        options.startupChainCheck ?? DEFAULT_STARTUP_CHAIN_CHECK,
        this.checkpoint(),
      );
      let anchor: StartupReport['anchor'];
      let restore: StartupReport['restore'];
      let reanchored: StartupReport['reanchored'];
      if (writes) {
        ({ anchor: this.anchor, action: anchor, restore, reanchored } = this.checkAnchor(options));
      }
      this.startup = { anchor, restore, reanchored, checkedEntries };
    } catch (error) {
      this.close();
      throw error;
    }
  }

  private migrationsApplied!: MigrationReport;

  private openAndPrepare(options: SqliteStoreOptions) {
    // openDatabase() keeps the native objects alive until the thread exits: on Node 24 one
    // freed by the garbage collector aborts the process (see open-database.ts). So pragmas
    // go through exec(), which makes no statement object, and busy_timeout is an option.
    const readOnly = options.readOnly ?? false;
    const db = openDatabase(options.path, { timeout: 5000, readonly: readOnly, fileMustExist: readOnly });
    try {
      if (readOnly) {
        this.migrationsApplied = migratedAlready(db, options.path);
        return { db, statements: prepareStatements(db) };
      }
      db.exec('PRAGMA journal_mode = WAL');
      db.exec(`PRAGMA synchronous = ${options.durability === 'full' ? 'FULL' : 'NORMAL'}`);
      db.exec('PRAGMA foreign_keys = ON');
      this.migrationsApplied = migrate(db);
      return { db, statements: prepareStatements(db) };
    } catch (error) {
      db.close();
      throw error;
    }
  }

  /**
   * Checks the anchor's registration (anchor-registration.ts), then compares the database's
   * head with its anchor (head-anchor.ts). Records an accepted restore as a revision above the
   * highest the anchor has seen, and an operator's re-anchoring as the next revision; the
   * anchor file is written before the registration, so a crash in between leaves an anchor
   * the next start adopts rather than one it refuses.
   */
  private checkAnchor(options: SqliteStoreOptions) {
    const acceptRestore = options.acceptRestore ?? false;
    const anchor = HeadAnchor.open(options.path, options.durability === 'full', acceptRestore || options.reanchor !== undefined);
    try {
      const { revision, revisionTime } = this.statements.revision.get() as { revision: number; revisionTime: number };
      const now = () => Math.max(Date.now(), revisionTime);
      const registry = new AnchorRegistry(this.db);
      const registration = decideRegistration(
        registry.read(),
        { state: anchor.found, id: anchor.loaded?.id, path: path.resolve(anchor.path) },
        options.path,
        options.reanchor,
      );
      if (registration.action === 'reanchor') {
        // Above a foreign anchor's highest too: a server that ran on its own registry there may have shown it.
        const at = Math.max(revision, options.resumeAbove ?? 0, anchor.loaded?.highest ?? 0) + 1;
        const operator = operatorName();
        anchor.adopt(registration.anchorId, at);
        anchor.write(at, this.head);
        this.db.transaction(() => {
          this.statements.insertRevision.run(at, now(), 'devcompat', `re-anchored by ${operator}: ${options.reanchor}; ${registration.problem}`);
          registry.register(registration.anchorId, path.resolve(anchor.path), at, Date.now());
        })();
        const reanchored = { revision: at, problem: registration.problem, operator, reason: options.reanchor! };
        return { anchor, action: 'reanchor' as const, reanchored };
      }
      const decision = decideAnchor(
        anchor.loaded,
        {
          path: options.path,
          revision,
          hash: this.head,
          hashAt: (at) => {
            const checkpoint = this.checkpoint();
            if (at < checkpoint.revision) return undefined;
            return this.history.lastHash(at) ?? checkpoint.hash;
          },
        },
        acceptRestore,
      );
      let restore: StartupReport['restore'];
      let anchoredAt = revision;
      if (decision.action === 'restore') {
        const reason = `restore accepted: ${decision.problem}`;
        const at = Math.max(decision.resumeAt, (options.resumeAbove ?? 0) + 1);
        this.statements.insertRevision.run(at, now(), 'devcompat', reason);
        anchoredAt = at;
        restore = { revision: at, problem: decision.problem };
      } else if (decision.action === 'create' && options.resumeAbove !== undefined && acceptRestore) {
        // A restore where no anchor was, of a database that registered none (an older
        // version's): numbered above the revision the operator gave, as a re-anchoring would be.
        const problem = `no head anchor beside ${options.path}: numbering resumes above revision ${options.resumeAbove}, as the operator gave`;
        const at = Math.max(revision, options.resumeAbove) + 1;
        this.statements.insertRevision.run(at, now(), 'devcompat', `restore accepted: ${problem}`);
        anchoredAt = at;
        restore = { revision: at, problem };
      }
      if (registration.action === 'register') anchor.adopt(registration.anchorId);
      if (
        registration.action === 'register' ||
        decision.action !== 'match' ||
        anchor.loaded?.highest !== Math.max(anchor.highest, revision)
      ) {
        anchor.write(anchoredAt, this.head);
      }
      if (registration.action === 'register') registry.register(registration.anchorId, path.resolve(anchor.path), anchoredAt, Date.now());
      return { anchor, action: decision.action, restore };
    } catch (error) {
      anchor.close();
      throw error;
    }
  }

  /** The chain's head: the last entry's hash, else the latest checkpoint's, else genesis. */
  private currentHead(): string {
    return this.history.lastHash() ?? this.checkpoint().hash;
  }

  private checkpoint(): Checkpoint {
    return (this.statements.lastCheckpoint.get() as Checkpoint | undefined) ?? { revision: 0, hash: GENESIS_HASH };
  }

  /** The registry's state (its devices decoded in this thread). */
  load(): LoadedState {
    return loadedState(this.stored());
  }

  /** The registry's state with its devices encoded, for a load in another thread (worker-store.ts). */
  stored(): StoredState {
    const devices: DeviceRows[number][] = [];
    this.devicePages((rows) => devices.push(...rows));
    return { tables: this.tables(), devices, head: this.headState() };
  }

  /** The tables of a load but the devices: descriptors, hosts with their lease expiries (encoded: sqlite-host-load.ts), claims. */
  tables(): EncodedTables {
    const [hosts] = this.statements.hostsEncoded.get() as [string];
    return {
      descriptors: this.statements.allDescriptors.all() as { id: number; key: string }[],
      hosts,
      claims: this.claims.load(),
    };
  }

  /** Every device, encoded (sqlite-device-load.ts), a page of hosts at a time, in host order. */
  devicePages(page: (rows: DeviceRows) => void): void {
    readDevicePages(this.statements.devicePage, page);
  }

  /** The latest revision, its time, the chain's head and the latest checkpoint. */
  headState(): StoredHead {
    const { revision, revisionTime } = this.statements.revision.get() as { revision: number; revisionTime: number };
    return { revision, revisionTime, headHash: this.head, checkpoint: this.checkpoint() };
  }

  commit(batch: CommitBatch): CommitResult {
    return this.commitEncoded(encodeCommitBatch(batch));
  }

  /** A batch encoded by commit-encoding.ts (by WorkerStore, on the thread that planned it). */
  commitEncoded(batch: EncodedBatch): CommitResult {
    // A batch planned after one that then failed (the group commit sends the next before it
    // knows) is planned on a head that is not this one: refused, to be planned again.
    if (batch.baseRevision !== undefined) {
      const head = (this.statements.headRevision.get() as { revision: number | null }).revision ?? 0;
      if (head !== batch.baseRevision) throw new StaleBatchError(head);
    }
    // The chain is computed before the transaction and adopted only once it committed.
    const chained = chainPacked(this.head, batch.history);
    try {
      this.commitTransaction(batch, chained.revisions);
    } catch (error) {
      throw mapSqliteError(error);
    }
    this.head = chained.head;
    const last = chained.heads.at(-1);
    if (last) this.anchorHead(last.revision, last.hash);
    return { heads: chained.heads };
  }

  /**
   * After the commit: the anchor follows the database. A failure to write it (a full disk)
   * does not undo a durable commit; the next commit writes it again, and a start-up after a
   * crash meanwhile finds the database ahead of its anchor on the same chain, which it accepts.
   */
  private anchorHead(revision: number, hash: string): void {
    try {
      this.anchor?.write(revision, hash);
    } catch {
      // Retried at the next commit (see above).
    }
  }

  private applyBatch(batch: EncodedBatch, history: readonly PackedRevision[]): void {
    const s = this.statements;
    for (const { revision, time, actor, reason } of batch.history.revisions) s.insertRevision.run(revision, time, actor, reason);
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
    // The rows came as one JSON array (commit-encoding.ts), each in the statement's parameter
    // order: bound by position. (One INSERT ... SELECT over json_each(rows) cost more CPU.)
    if (batch.devices !== '[]') for (const row of JSON.parse(batch.devices) as unknown[][]) s.upsertDevice.run(row);
    for (const touch of batch.syncTouches) s.touchHost.run(touch.lastSyncTime, touch.hostId);
    for (const lease of batch.leases) s.setLease.run(lease.expireTime, lease.hostId);
    this.claims.write(batch);
    this.history.append(history);
  }

  firstChangesAfter(query: FirstChangesQuery): HistoryRecord[] {
    return this.history.firstChangesAfter(query);
  }

  revisionAt(time: number): number | undefined {
    const row = this.statements.revisionAt.get(time) as { revision: number | null };
    return row.revision ?? undefined;
  }

  /** Walks up to `limit` entries of the chain (history-encoding.ts, walkChain). */
  verifyChain(query: ChainWalkQuery): ChainWalk {
    return this.history.walk(query);
  }

  compact(request: CompactionRequest): CompactionResult {
    const { revision } = request;
    const s = this.statements;
    const current = this.checkpoint();
    if (revision <= current.revision) return { checkpoint: current, removed: 0 };
    return this.db.transaction(() => {
      const hash = this.history.lastHash(revision) ?? current.hash;
      const previous = this.compactionRecords();
      const removed = this.history.removeUpTo(revision);
      // The revision at the cut stays, so as_of_time can still resolve to it.
      s.deleteRevisionsBefore.run(revision);
      const { revision: headRevision } = s.revision.get() as { revision: number };
      const record = compactionRecord(request, hash, removed, previous, { revision: headRevision, hash: this.head });
      const prevRecord = lastRecordHash(previous);
      s.insertCheckpoint.run(
        revision,
        hash,
        record.time,
        removed,
        record.actor,
        record.headRevision,
        record.headHash,
        prevRecord,
        record.recordHash,
      );
      return { checkpoint: record.checkpoint, removed, record };
    })();
  }

  compactions(): CompactionLog {
    return walkCompactions(this.compactionRecords());
  }

  compactedStart(): CompactedStart | undefined {
    const records = this.compactionRecords();
    const last = records.at(-1);
    if (!last) return undefined;
    const cut = this.statements.revisionRow.get(last.checkpoint.revision) as { time_ms: number; actor: string; reason: string } | undefined;
    if (!cut) return undefined;
    return { records, cut: { revision: last.checkpoint.revision, time: cut.time_ms, actor: cut.actor, reason: cut.reason } };
  }

  startCompacted(start: CompactedStart): void {
    const s = this.statements;
    const rows = compactedStartRows(start);
    this.db.transaction(() => {
      if (s.anyRevision.get() || this.compactionRecords().length > 0) {
        throw new Error('the store is not empty: only an empty store can start at a checkpoint');
      }
      for (const { record, prevRecordHash } of rows) {
        s.insertCheckpoint.run(...copiedCheckpointRow(record, prevRecordHash));
      }
      s.insertRevision.run(start.cut.revision, start.cut.time, start.cut.actor, start.cut.reason);
    })();
    this.head = rows.at(-1)!.record.checkpoint.hash;
    this.anchorHead(start.cut.revision, this.head);
  }

  private compactionRecords(): CompactionRecord[] {
    const rows = this.statements.allCheckpoints.all() as {
      revision: number;
      hash: string;
      time_ms: number;
      entries_removed: number;
      actor: string | null;
      head_revision: number | null;
      head_hash: string | null;
      record_hash: string | null;
    }[];
    return rows.map((row) => ({
      checkpoint: { revision: row.revision, hash: row.hash },
      time: row.time_ms,
      actor: row.actor ?? '',
      removed: row.entries_removed,
      headRevision: row.head_revision ?? 0,
      headHash: row.head_hash ?? '',
      recordHash: row.record_hash ?? '',
    }));
  }

  listHistory(query: HistoryQuery): HistoryRecord[] {
    return this.history.list(query);
  }

  /** `devcompat store copy`: the revisions rows after `after`, in order, with those that have no history (a restore's, a re-anchoring's). */
  revisionRows(after: number, limit: number): RevisionRow[] {
    return this.statements.revisionRows.all(after, limit) as RevisionRow[];
  }

  /** `devcompat store copy`: revisions rows without history, as the source holds them (or the copy's mark); the anchor follows. */
  addRevisions(rows: readonly RevisionRow[]): void {
    this.db.transaction(() => {
      for (const { revision, time, actor, reason } of rows) this.statements.insertRevision.run(revision, time, actor, reason);
    })();
    const highest = Math.max(COPY_MARK_REVISION, ...rows.map((row) => row.revision));
    if (highest !== COPY_MARK_REVISION) this.anchorHead(highest, this.head);
  }

  /** `devcompat store copy`: deletes its mark once the copy has checked itself. */
  dropCopyMark(): void {
    this.statements.deleteRevision.run(COPY_MARK_REVISION);
  }

  /** A consistent copy in a new file (sqlite-backup.ts), with the revision and head it holds. */
  backup(destination: string): BackupResult {
    const { revision } = this.statements.revision.get() as { revision: number };
    const sizeBytes = vacuumInto(this.db, destination);
    return { path: destination, revision, headHash: this.head, sizeBytes };
  }

  close(): void {
    if (this.db.open) this.db.close();
    this.anchor?.close();
    this.lock?.release();
  }
}

function mapSqliteError(error: unknown): unknown {
  if (error instanceof Database.SqliteError) {
    switch (error.code) {
      case 'SQLITE_BUSY':
      case 'SQLITE_LOCKED':
        return unavailable('the database is locked by another process; retry');
      case 'SQLITE_FULL':
        return unavailable('the disk is full: the write was not stored');
      case 'SQLITE_READONLY':
        return unavailable('the database is read-only: the write was not stored');
      default:
        return error;
    }
  }
  return error;
}

/** The shared row (rows.ts) with its flags as SQLite holds them, 0/1. */
function hostToRow(host: HostRecord): HostRow {
  const row = hostToSharedRow(host);
  return { ...row, reachable: row.reachable ? 1 : 0, draining: row.draining ? 1 : 0 };
}

/** Every statement the store runs, prepared once. */
function prepareStatements(db: Database.Database) {
  return {
    revision: db.prepare(
      'SELECT COALESCE(MAX(revision), 0) AS revision, COALESCE(MAX(time_ms), 0) AS revisionTime FROM revisions',
    ),
    headRevision: db.prepare('SELECT MAX(revision) AS revision FROM revisions'),
    allDescriptors: db.prepare('SELECT descriptor_id AS id, descriptor_key AS key FROM descriptors ORDER BY descriptor_id'),
    hostsEncoded: db.prepare(HOSTS_ENCODED).raw(true),
    devicePage: db.prepare(DEVICES_BY_HOST_PAGE),
    insertRevision: db.prepare('INSERT INTO revisions (revision, time_ms, actor, reason) VALUES (?, ?, ?, ?)'),
    revisionRow: db.prepare('SELECT time_ms, actor, reason FROM revisions WHERE revision = ?'),
    // The mark of a copy in progress (store-copy-mark.ts) does not count.
    anyRevision: db.prepare(`SELECT 1 FROM revisions WHERE revision <> ${COPY_MARK_REVISION} LIMIT 1`),
    revisionRows: db.prepare('SELECT revision, time_ms AS time, actor, reason FROM revisions WHERE revision > ? ORDER BY revision LIMIT ?'),
    deleteRevision: db.prepare('DELETE FROM revisions WHERE revision = ?'),
    insertDescriptor: db.prepare(
      `INSERT INTO descriptors (descriptor_id, descriptor_key, vendor, device_api, type, software_version)
       VALUES (@id, @key, @vendor, @device_api, @type, @software_version)`,
    ),
    upsertHost: db.prepare(
      `INSERT INTO hosts (host_id, labels, revision, create_revision, create_time_ms, update_time_ms, last_sync_time_ms,
         reachable, draining, budgets)
       VALUES (@host_id, @labels, @revision, @create_revision, @create_time_ms, @update_time_ms, @last_sync_time_ms,
         @reachable, @draining, @budgets)
       ON CONFLICT (host_id) DO UPDATE SET labels = excluded.labels, revision = excluded.revision,
         update_time_ms = excluded.update_time_ms, last_sync_time_ms = excluded.last_sync_time_ms,
         reachable = excluded.reachable, draining = excluded.draining, budgets = excluded.budgets`,
    ),
    deleteHost: db.prepare('DELETE FROM hosts WHERE host_id = ?'),
    touchHost: db.prepare('UPDATE hosts SET last_sync_time_ms = ? WHERE host_id = ?'),
    setLease: db.prepare('UPDATE hosts SET lease_expire_ms = ? WHERE host_id = ?'),
    upsertDevice: db.prepare(
      `INSERT INTO devices (host_id, device_id, descriptor_id, capacity_total, capacity_available, labels,
         revision, create_revision, create_time_ms, update_time_ms)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (host_id, device_id) DO UPDATE SET descriptor_id = excluded.descriptor_id,
         capacity_total = excluded.capacity_total, capacity_available = excluded.capacity_available,
         labels = excluded.labels, revision = excluded.revision, update_time_ms = excluded.update_time_ms`,
    ),
    deleteDevice: db.prepare('DELETE FROM devices WHERE host_id = ? AND device_id = ?'),
    lastCheckpoint: db.prepare(
      'SELECT checkpoint_revision AS revision, lower(hex(hash)) AS hash FROM history_checkpoints ORDER BY checkpoint_revision DESC LIMIT 1',
    ),
    revisionAt: db.prepare('SELECT MAX(revision) AS revision FROM revisions WHERE time_ms <= ?'),
    deleteRevisionsBefore: db.prepare('DELETE FROM revisions WHERE revision < ?'),
    insertCheckpoint: db.prepare(
      `INSERT INTO history_checkpoints (checkpoint_revision, hash, time_ms, entries_removed, actor, head_revision, head_hash,
         prev_record_hash, record_hash)
       VALUES (?, unhex(?), ?, ?, ?, ?, unhex(?), unhex(?), unhex(?))`,
    ),
    allCheckpoints: db.prepare(
      `SELECT checkpoint_revision AS revision, lower(hex(hash)) AS hash, time_ms, entries_removed, actor, head_revision,
         lower(hex(head_hash)) AS head_hash, lower(hex(record_hash)) AS record_hash
       FROM history_checkpoints ORDER BY checkpoint_revision`,
    ),
  };
}
