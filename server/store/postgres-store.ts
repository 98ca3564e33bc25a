// The PostgreSQL adapter: with postgres-batch.ts (what a batch writes) and postgres-migrate.ts,
// the only modules that know `pg`. It implements the same contract as
// the SQLite store (test/store-contract.test.ts) and adds what several replicas over one
// database need (server/store/DESIGN.md, docs/ha.md):
// - every write transaction locks the head row (SELECT ... FOR UPDATE), so revisions are one
//   global gap-free sequence and the chain one chain, whichever replica writes; a batch planned
//   against a revision that is no longer the head is refused with StaleBatchError, and the
//   core plans it again after catching up;
// - the revision log (`readAfter`) lets a replica follow what the others commit, with
//   LISTEN/NOTIFY as the wake-up (`onAdvance`), the tables as the truth;
// - a head that goes backwards (a failover to a database that lacks revisions this process
//   has already served) fails the store for good, as the SQLite head anchor refuses a rollback.
// Calls are answered in the order they are made (one queue), as the core requires. Errors that
// mean "the database cannot be reached" become UNAVAILABLE here and nowhere else.

import pg from 'pg';
import { DomainError, unavailable } from '../core/errors.ts';
import {
  StaleBatchError,
  type ChainWalk,
  type ChainWalkQuery,
  type Checkpoint,
  type CommitBatch,
  type CommitResult,
  type CompactedStart,
  type CompactionLog,
  type CompactionRecord,
  type CompactionRequest,
  type CompactionResult,
  type HistoryQuery,
  type HistoryRecord,
  type HostRecord,
  type LoadedState,
  type LoggedRevision,
  type RevisionLog,
  type ServedStore,
  type StoreFactory,
  type StoredDescriptor,
  type FirstChangesQuery,
} from '../core/store.ts';
import { chainedColumns, GENESIS_HASH } from './history-chain.ts';
import { LeaseDuty } from './postgres-lease-duty.ts';
import { chainEntries, compactedStartRows, compactionRecord, copiedCheckpointRow, lastRecordHash, walkChain, walkCompactions } from './history-encoding.ts';
import type { MigrationReport } from './migrate.ts';
import { writeBatch } from './postgres-batch.ts';
import { migratePostgres } from './postgres-migrate.ts';
import { DEFAULT_STARTUP_CHAIN_CHECK } from './startup-check.ts';
import { claimFromRow, historyFromRow, hostFromRow, sharingDeviceFromRow, type HistoryRowBase } from './rows.ts';
import { COPY_MARK_REVISION, unfinishedCopyError, type RevisionRow } from './store-copy-mark.ts';

export interface PostgresStoreOptions {
  /** A libpq connection string: `postgres://user@host:port/db`. */
  readonly url: string;
  /** How many of the newest history entries are verified at start-up (default 10,000; 0: none). */
  readonly startupChainCheck?: number;
  /** Connections in the pool (default 4); calls run one at a time, in order, so one is busy at once. */
  readonly poolSize?: number;
  /** History rows a compaction deletes per statement, writes going on between them (default COMPACTION_CHUNK_ROWS; tests make it small). */
  readonly compactionChunkRows?: number;
  /** Opened by `devcompat store copy` as its target: the mark of an unfinished copy (store-copy-mark.ts) is not refused. */
  readonly copyTarget?: boolean;
}

/**
 * Rows of compacted history deleted per statement, after the compaction itself is committed:
 * ~15 ms each here (PostgreSQL deletes ~1.6 µs a row on the bench machine), so a write waits
 * for at most one of them, not for the whole delete (340,000 entries held writes 599–610 ms
 * under the head lock, bench/compaction-stall.ts; a first --retain over millions, seconds).
 */
export const COMPACTION_CHUNK_ROWS = 10_000;

/**
 * History at or below the checkpoint is compacted, whether or not its rows are deleted yet: a
 * compaction deletes them after it commits, a chunk at a time (a crash may leave some to the
 * next compaction). Every read of history from its start keeps to the rows above.
 */
const ABOVE_CHECKPOINT = 'revision > COALESCE((SELECT MAX(checkpoint_revision) FROM history_checkpoints), 0)';

/**
 * What each connection of this store sets for its session, so that a replica that stops
 * answering (a frozen VM, a cut network) cannot hold what the others need: a transaction it
 * leaves open is ended by PostgreSQL after 10 s, and with it the lock on the head that every
 * write takes (a replica's transaction never waits on its own process for longer than it takes
 * to encode a batch); and PostgreSQL probes a silent connection after 10 s, 5 s apart, 3 times,
 * and gives up on one whose sent data goes unacknowledged for 30 s (a LISTEN connection gets a
 * notification at every commit, and keepalives are not sent while data waits), so that a dead
 * replica's sessions, and the lease duty its LISTEN connection holds, go within about 30 s
 * instead of the system's defaults of two hours or a quarter of an hour. (Over a Unix socket,
 * the TCP settings do nothing.)
 */
const SESSION_SETTINGS =
  "SET idle_in_transaction_session_timeout = '10s'; SET tcp_keepalives_idle = 10; SET tcp_keepalives_interval = 5; SET tcp_keepalives_count = 3; SET tcp_user_timeout = 30000";

/** The NOTIFY channel a commit signals on. */
const CHANNEL = 'devcompat_revisions';
// BIGINT (int8) arrives as a string by default; revisions and times fit a double exactly.
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (oid === 20) return (value: string) => Number(value);
    return pg.types.getTypeParser(oid, format as 'text');
  },
} as unknown as pg.CustomTypesConfig;

interface HistoryRow extends HistoryRowBase {
  prev_hash: string;
  hash: string;
}

/** Errors meaning the database is not reachable now (it may be later). */
function isConnectionError(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  if (typeof code === 'string') {
    if (code.startsWith('08') || code === '57P01' || code === '57P02' || code === '57P03' || code === '53300') return true;
    if (['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH'].includes(code)) return true;
  }
  const message = error instanceof Error ? error.message : '';
  return /Connection terminated|connection timeout|Client has encountered a connection error|not queryable/i.test(message);
}

function mapError(error: unknown): unknown {
  if (error instanceof DomainError || error instanceof StaleBatchError) return error;
  if (isConnectionError(error)) {
    return unavailable(`the database cannot be reached: ${error instanceof Error ? error.message : String(error)}`);
  }
  const code = (error as { code?: unknown })?.code;
  if (code === '25006') return unavailable('the database is read-only (a standby?): the write was not stored');
  if (code === '53100') return unavailable('the database is full: the write was not stored');
  return error;
}

export class PostgresStore implements ServedStore, RevisionLog {
  readonly log: RevisionLog = this;
  private tail: Promise<unknown> = Promise.resolve();
  private readonly failureListeners: ((error: Error) => void)[] = [];
  private readonly advanceListeners: (() => void)[] = [];
  private readonly headListeners: ((head: number, ageMs: number) => void)[] = [];
  /** The latest checkpoint revision this process has read: a higher one means another replica compacted. */
  private checkpointSeen = 0;
  private failure: Error | undefined;
  private closed = false;
  /** The highest revision this process has seen committed: a head below it is a rollback. */
  private highestSeen = 0;
  private listener: pg.Client | undefined;
  private listenRetry: NodeJS.Timeout | undefined;
  private probe: NodeJS.Timeout | undefined;
  private reachable = true;
  /** Whether this replica expires leases (an advisory lock on its LISTEN connection). */
  private readonly duty = new LeaseDuty();
  private readonly reachabilityListeners: ((reachable: boolean, detail: string) => void)[] = [];

  private constructor(
    private readonly pool: pg.Pool,
    private readonly url: string,
    readonly migrations: MigrationReport,
    readonly startup: { readonly checkedEntries: number },
    private readonly compactionChunkRows: number,
  ) {}

  static async open(options: PostgresStoreOptions): Promise<PostgresStore> {
    const pool = new pg.Pool({
      connectionString: options.url,
      max: options.poolSize ?? 4,
      types,
      connectionTimeoutMillis: 5_000,
      application_name: 'devcompat',
      // This side's probes of a silent connection (a database host that went away).
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
    });
    // An idle connection that breaks (the server restarted or shuts down: 57P01) is dropped by
    // the pool, and the next call connects again. Without a listener the pool's 'error' would
    // end the process: so it is heard from the pool's first connection on, also while this
    // opens and while a failed open ends the pool.
    pool.on('error', () => undefined);
    // Queued on each new connection before the pool hands it out (a client runs its queries in order).
    pool.on('connect', (client) => void client.query(SESSION_SETTINGS).catch(() => undefined));
    try {
      const client = await pool.connect();
      // A checked-out connection that the server ends between queries emits 'error' outside any
      // query; without a listener that would end the process (the next query fails instead).
      const ignore = () => undefined;
      client.on('error', ignore);
      let migrations: MigrationReport;
      let checkedEntries: number;
      try {
        migrations = await migratePostgres(client);
        const mark = (await client.query('SELECT revision, time_ms AS time, actor, reason FROM revisions WHERE revision = $1', [COPY_MARK_REVISION]))
          .rows[0] as RevisionRow | undefined;
        if (mark && !options.copyTarget) throw unfinishedCopyError({ kind: 'postgres', url: options.url }, mark);
        checkedEntries = await checkRecentChain(client, options.startupChainCheck ?? DEFAULT_STARTUP_CHAIN_CHECK);
      } finally {
        client.off('error', ignore);
        client.release();
      }
      const store = new PostgresStore(pool, options.url, migrations, { checkedEntries }, options.compactionChunkRows ?? COMPACTION_CHUNK_ROWS);
      await store.listen();
      return store;
    } catch (error) {
      await pool.end().catch(() => undefined);
      throw mapError(error);
    }
  }

  onFailure(listener: (error: Error) => void): void {
    // A listener added after the store failed (the server adds its own once it serves) is told at once.
    if (this.failure) listener(this.failure);
    else this.failureListeners.push(listener);
  }

  onAdvance(listener: () => void): void {
    this.advanceListeners.push(listener);
  }

  onHead(listener: (head: number, ageMs: number) => void): void {
    this.headListeners.push(listener);
  }

  onReachability(listener: (reachable: boolean, detail: string) => void): void {
    this.reachabilityListeners.push(listener);
  }

  private setReachable(reachable: boolean, detail: string): void {
    if (this.reachable === reachable || this.closed) return;
    this.reachable = reachable;
    for (const listener of this.reachabilityListeners) listener(reachable, detail);
  }

  // The wake-up channel -------------------------------------------------------------------

  /** LISTEN on a dedicated connection; re-opened (and every follower woken) when it breaks. */
  private async listen(): Promise<void> {
    if (this.closed) return;
    const client = new pg.Client({ connectionString: this.url, types, connectionTimeoutMillis: 5_000, application_name: 'devcompat', keepAlive: true, keepAliveInitialDelayMillis: 10_000 });
    const retry = (error?: unknown) => {
      if (this.closed) return;
      this.setReachable(false, error instanceof Error ? error.message : 'the connection to the database ended');
      if (this.listener === client) {
        this.listener = undefined;
        // The lock went with the connection (or will, when the server notices it is gone).
        this.duty.lost();
      }
      client.end().catch(() => undefined);
      if (this.closed || this.listenRetry) return;
      this.listenRetry = setTimeout(() => {
        this.listenRetry = undefined;
        void this.listen();
      }, 500);
    };
    client.on('error', retry);
    client.on('end', retry);
    client.on('notification', () => this.wake());
    try {
      await client.connect();
      await client.query(SESSION_SETTINGS);
      await client.query(`LISTEN ${CHANNEL}`);
      this.listener = client;
      await this.duty.claim(client, () => this.listener === client);
      this.setReachable(true, 'connected');
      // Notifications sent while no one listened are lost: the followers read the log now.
      this.wake();
      this.probeSoon(client);
    } catch (error) {
      retry(error);
    }
  }

  /**
   * Every second the listening connection is asked for the head and the latest checkpoint: a
   * database that went away without closing the connection is noticed, a lost notification
   * (of a commit or a compaction) costs at most a second, and the head read is reported to the
   * lag (`onHead`). A probe that hangs reports nothing, so the replica's lag grows.
   */
  private probeSoon(client: pg.Client): void {
    this.probe = setTimeout(() => {
      if (this.closed || this.listener !== client) return;
      const sent = Date.now();
      const probe = 'SELECT revision, (SELECT COALESCE(MAX(checkpoint_revision), 0) FROM history_checkpoints) AS checkpoint FROM registry_head';
      client.query(probe).then(
        async (result) => {
          const head = (result.rows[0]?.revision as number | undefined) ?? 0;
          const checkpoint = (result.rows[0]?.checkpoint as number | undefined) ?? 0;
          if (head > this.highestSeen || checkpoint > this.checkpointSeen) this.wake();
          if (!this.closed) for (const listener of this.headListeners) listener(head, Date.now() - sent);
          if (!this.duty.held) await this.duty.claim(client, () => this.listener === client).catch(() => undefined);
          this.probeSoon(client);
        },
        (error: unknown) => client.emit('error', error),
      );
    }, 1_000);
    this.probe.unref();
  }

  onLeaseDuty(listener: (held: boolean, fromHung: number | undefined) => void): void {
    this.duty.onChange((held, fromHung) => {
      if (!this.closed) listener(held, fromHung);
    });
  }

  holdsLeaseDuty(): boolean {
    return this.duty.held && !this.closed;
  }

  checkpoint(): Promise<Checkpoint> {
    return this.run(async (client) => {
      const checkpoint = await lastCheckpoint(client);
      this.checkpointSeen = Math.max(this.checkpointSeen, checkpoint.revision);
      return checkpoint;
    });
  }

  leaseExpiries(hostIds: readonly string[]): Promise<ReadonlyMap<string, number>> {
    return this.run(async (client) => {
      const rows = (
        await client.query('SELECT host_id, lease_expire_ms FROM hosts WHERE host_id = ANY($1::text[]) AND lease_expire_ms IS NOT NULL', [
          hostIds,
        ])
      ).rows as { host_id: string; lease_expire_ms: number }[];
      return new Map(rows.map((row) => [row.host_id, row.lease_expire_ms]));
    });
  }

  private wake(): void {
    for (const listener of this.advanceListeners) listener();
  }

  // The queue -----------------------------------------------------------------------------

  /** Runs `work` after every call made before it, on a pooled connection. */
  private run<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const result = this.tail.then(async () => {
      if (this.failure) throw this.failure;
      if (this.closed) throw unavailable('the store is closed');
      let client: pg.PoolClient;
      try {
        client = await this.pool.connect();
      } catch (error) {
        throw mapError(error);
      }
      let broken = false;
      // A connection the server ends while it is checked out emits 'error' outside any query:
      // without a listener that would end the process.
      const onError = () => {
        broken = true;
      };
      client.on('error', onError);
      try {
        return await work(client);
      } catch (error) {
        broken ||= isConnectionError(error);
        throw mapError(error);
      } finally {
        client.off('error', onError);
        client.release(broken);
      }
    });
    this.tail = result.catch(() => undefined);
    return result;
  }

  /** A transaction on `client`: rolled back when `work` throws. */
  private static async transaction<T>(client: pg.PoolClient, begin: string, work: () => Promise<T>): Promise<T> {
    await client.query(begin);
    try {
      const value = await work();
      await client.query('COMMIT');
      return value;
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    }
  }

  /** A head below what this process has seen: the database lost revisions (a failover to a lagging copy). */
  private checkHead(revision: number): void {
    if (revision < this.highestSeen) {
      const error = new Error(
        `the database's head is revision ${revision}, behind revision ${this.highestSeen} that this server has already served: ` +
          'it lost acknowledged writes (a failover to a standby that was not synchronous?). Refusing to use it',
      );
      this.fail(error);
      throw error;
    }
    this.highestSeen = revision;
  }

  private fail(error: Error): void {
    if (this.failure) return;
    this.failure = error;
    for (const listener of this.failureListeners) listener(error);
  }

  // The contract --------------------------------------------------------------------------

  load(): Promise<LoadedState> {
    return this.run((client) =>
      PostgresStore.transaction(client, 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY', async () => {
        const head = (await client.query('SELECT revision, time_ms, hash FROM registry_head')).rows[0] as {
          revision: number;
          time_ms: number;
          hash: string;
        };
        this.checkHead(head.revision);
        const descriptors = (await client.query('SELECT descriptor_id AS id, descriptor_key AS key FROM descriptors ORDER BY descriptor_id'))
          .rows as StoredDescriptor[];
        const hosts = (await client.query('SELECT * FROM hosts ORDER BY host_id')).rows;
        const devices = (await client.query('SELECT * FROM devices ORDER BY host_id, device_id')).rows;
        const claims = (await client.query('SELECT * FROM claims ORDER BY create_revision, host_id, claim_id')).rows;
        const checkpoint = await lastCheckpoint(client);
        this.checkpointSeen = Math.max(this.checkpointSeen, checkpoint.revision);
        return {
          revision: head.revision,
          revisionTime: head.time_ms,
          descriptors,
          hosts: hosts.map(hostFromRow),
          devices: devices.map(sharingDeviceFromRow()),
          leaseExpiries: new Map(
            hosts.filter((row) => row.lease_expire_ms !== null).map((row) => [row.host_id as string, row.lease_expire_ms as number]),
          ),
          headHash: head.hash,
          checkpoint,
          claims: claims.map(claimFromRow),
        };
      }),
    );
  }

  commit(batch: CommitBatch): Promise<CommitResult> {
    return this.run((client) =>
      PostgresStore.transaction(client, 'BEGIN', async () => {
        const head = (await client.query('SELECT revision, time_ms, hash FROM registry_head FOR UPDATE')).rows[0] as {
          revision: number;
          time_ms: number;
          hash: string;
        };
        this.checkHead(head.revision);
        if (batch.baseRevision !== undefined && batch.baseRevision !== head.revision) throw new StaleBatchError(head.revision);
        const chained = chainEntries(head.hash, batch.history);
        await writeBatch(client, batch, chained.entries);
        const last = batch.history.at(-1);
        if (last) {
          await client.query('UPDATE registry_head SET revision = $1, time_ms = $2, hash = $3', [
            Math.max(head.revision, last.revision),
            Math.max(head.time_ms, last.time),
            chained.head,
          ]);
          await client.query('SELECT pg_notify($1, $2)', [CHANNEL, String(last.revision)]);
        }
        return { heads: chained.heads };
      }).then((result) => {
        const last = result.heads.at(-1);
        if (last) this.highestSeen = Math.max(this.highestSeen, last.revision);
        return result;
      }),
    );
  }

  readAfter(
    revision: number,
    descriptorId: number,
    limit: number,
  ): Promise<{ head: number; revisions: LoggedRevision[]; descriptors: StoredDescriptor[]; checkpoint: Checkpoint }> {
    return this.run((client) =>
      PostgresStore.transaction(client, 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY', async () => {
        const head = (await client.query('SELECT revision FROM registry_head')).rows[0] as { revision: number };
        this.checkHead(head.revision);
        const revisions = (
          await client.query('SELECT revision, time_ms FROM revisions WHERE revision > $1 ORDER BY revision LIMIT $2', [revision, limit])
        ).rows as { revision: number; time_ms: number }[];
        const descriptors = (
          await client.query('SELECT descriptor_id AS id, descriptor_key AS key FROM descriptors WHERE descriptor_id > $1 ORDER BY descriptor_id', [
            descriptorId,
          ])
        ).rows as StoredDescriptor[];
        const checkpoint = await lastCheckpoint(client);
        this.checkpointSeen = Math.max(this.checkpointSeen, checkpoint.revision);
        if (revisions.length === 0) return { head: head.revision, revisions: [], descriptors, checkpoint };
        const rows = (
          await client.query('SELECT * FROM history WHERE revision > $1 AND revision <= $2 ORDER BY revision, seq', [
            revision,
            revisions.at(-1)!.revision,
          ])
        ).rows as HistoryRow[];
        const byRevision = new Map<number, HistoryRow[]>();
        for (const row of rows) {
          const list = byRevision.get(row.revision) ?? [];
          list.push(row);
          byRevision.set(row.revision, list);
        }
        let hash: string | undefined;
        const logged: LoggedRevision[] = [];
        for (const { revision: r, time_ms } of revisions) {
          const entries = byRevision.get(r) ?? [];
          hash = entries.at(-1)?.hash ?? hash ?? '';
          logged.push({ revision: r, time: time_ms, headHash: hash, entries: entries.map((row) => historyFromRow(row, row.hash)) });
        }
        return { head: head.revision, revisions: logged, descriptors, checkpoint };
      }),
    );
  }

  listHistory(query: HistoryQuery): Promise<HistoryRecord[]> {
    return this.run(async (client) => {
      const where: string[] = [ABOVE_CHECKPOINT];
      const params: unknown[] = [];
      const param = (value: unknown) => {
        params.push(value);
        return `$${params.length}`;
      };
      if (query.hostId !== undefined) {
        where.push(`host_id = ${param(query.hostId)}`);
        if (query.deviceId !== undefined) where.push(`device_id = ${param(query.deviceId)}`);
      }
      if (query.startRevision !== undefined) where.push(`revision >= ${param(query.startRevision)}`);
      if (query.endRevision !== undefined) where.push(`revision <= ${param(query.endRevision)}`);
      if (query.startTime !== undefined) {
        where.push(`revision >= (SELECT COALESCE(MIN(revision), 9e18) FROM revisions WHERE time_ms >= ${param(query.startTime)})`);
      }
      if (query.endTime !== undefined) {
        where.push(`revision <= (SELECT COALESCE(MAX(revision), 0) FROM revisions WHERE time_ms < ${param(query.endTime)})`);
      }
      if (query.actor !== undefined) where.push(`revision IN (SELECT revision FROM revisions WHERE actor = ${param(query.actor)})`);
      if (query.after) {
        where.push(`(revision, seq) ${query.newestFirst ? '<' : '>'} (${param(query.after.revision)}, ${param(query.after.seq)})`);
      }
      const direction = query.newestFirst ? 'DESC' : 'ASC';
      const sql = `SELECT * FROM history WHERE ${where.join(' AND ')}
        ORDER BY revision ${direction}, seq ${direction} LIMIT ${param(query.limit)}`;
      return ((await client.query(sql, params)).rows as HistoryRow[]).map((row) => historyFromRow(row, row.hash));
    });
  }

  /** `devcompat store copy`: the revisions rows after `after`, in order, with those that have no history (a restore's, a re-anchoring's). */
  revisionRows(after: number, limit: number): Promise<RevisionRow[]> {
    return this.run(
      async (client) =>
        (await client.query('SELECT revision, time_ms AS time, actor, reason FROM revisions WHERE revision > $1 ORDER BY revision LIMIT $2', [after, limit]))
          .rows as RevisionRow[],
    );
  }

  /** `devcompat store copy`: revisions rows without history, as the source holds them (or the copy's mark); the head row follows. */
  addRevisions(rows: readonly RevisionRow[]): Promise<void> {
    return this.run((client) =>
      PostgresStore.transaction(client, 'BEGIN', async () => {
        const head = (await client.query('SELECT revision, time_ms FROM registry_head FOR UPDATE')).rows[0] as { revision: number; time_ms: number };
        await client.query(
          `INSERT INTO revisions (revision, time_ms, actor, reason)
           SELECT * FROM json_to_recordset($1::json) AS r(revision bigint, time_ms bigint, actor text, reason text)`,
          [JSON.stringify(rows.map((row) => ({ revision: row.revision, time_ms: row.time, actor: row.actor, reason: row.reason })))],
        );
        const highest = rows.reduce((top, row) => (row.revision > top.revision ? row : top), { revision: head.revision, time: head.time_ms });
        if (highest.revision > head.revision) {
          await client.query('UPDATE registry_head SET revision = $1, time_ms = $2', [highest.revision, Math.max(head.time_ms, highest.time)]);
        }
        return highest.revision;
      }).then((highest) => {
        this.highestSeen = Math.max(this.highestSeen, highest);
      }),
    );
  }

  /** `devcompat store copy`: deletes its mark once the copy has checked itself. */
  dropCopyMark(): Promise<void> {
    return this.run(async (client) => {
      await client.query('DELETE FROM revisions WHERE revision = $1', [COPY_MARK_REVISION]);
    });
  }

  firstChangesAfter(query: FirstChangesQuery): Promise<HistoryRecord[]> {
    return this.run(async (client) => {
      let rows: HistoryRow[];
      // The slice's end: NULL reads to the head.
      const through = query.through ?? null;
      if (query.hostId === undefined) {
        rows = (
          await client.query(
            `SELECT * FROM (SELECT DISTINCT ON (host_id, device_id) * FROM history
               WHERE revision > $1 AND ($2::bigint IS NULL OR revision <= $2)
               ORDER BY host_id, device_id, revision, seq) AS first ORDER BY revision, seq`,
            [query.revision, through],
          )
        ).rows;
      } else if (query.deviceId === undefined) {
        rows = (
          await client.query(
            `SELECT * FROM (SELECT DISTINCT ON (device_id) * FROM history
               WHERE host_id = $1 AND revision > $2 AND ($3::bigint IS NULL OR revision <= $3)
               ORDER BY device_id, revision, seq) AS first ORDER BY revision, seq`,
            [query.hostId, query.revision, through],
          )
        ).rows;
      } else {
        rows = (
          await client.query(
            `SELECT * FROM history WHERE host_id = $1 AND device_id = $2 AND revision > $3 AND ($4::bigint IS NULL OR revision <= $4)
               ORDER BY revision, seq LIMIT 1`,
            [query.hostId, query.deviceId, query.revision, through],
          )
        ).rows;
      }
      return rows.map((row) => historyFromRow(row, row.hash));
    });
  }

  revisionAt(time: number): Promise<number | undefined> {
    return this.run(async (client) => {
      const row = (await client.query('SELECT MAX(revision) AS revision FROM revisions WHERE time_ms <= $1', [time])).rows[0];
      return (row.revision as number | null) ?? undefined;
    });
  }

  verifyChain(query: ChainWalkQuery): Promise<ChainWalk> {
    return this.run(async (client) => {
      const rows = (
        query.after
          ? await client.query(`SELECT * FROM history WHERE (revision, seq) > ($1, $2) AND ${ABOVE_CHECKPOINT} ORDER BY revision, seq LIMIT $3`, [
              query.after.revision,
              query.after.seq,
              query.limit,
            ])
          : await client.query(`SELECT * FROM history WHERE ${ABOVE_CHECKPOINT} ORDER BY revision, seq LIMIT $1`, [query.limit])
      ).rows as HistoryRow[];
      return walkChain(
        rows.map((row) => ({ columns: chainedColumns(row), prev: row.prev_hash, hash: row.hash })),
        query,
      );
    });
  }

  /**
   * Moves the checkpoint to `request.revision` (one short transaction under the head lock: the
   * cut, its hash, the count of entries it removes, the record), then deletes the compacted
   * rows a chunk at a time, each chunk its own call, so that this replica's writes and the
   * others' go on between chunks. Reads keep above the checkpoint meanwhile (ABOVE_CHECKPOINT).
   */
  async compact(request: CompactionRequest): Promise<CompactionResult> {
    // What the cut removes, counted before the head is locked: committed history never changes,
    // so the count holds unless another replica compacts meanwhile (then it is counted again).
    const counted = await this.run((client) =>
      PostgresStore.transaction(client, 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY', async () => {
        const checkpoint = await lastCheckpoint(client);
        return { above: checkpoint.revision, removed: await countRemoved(client, checkpoint.revision, request.revision) };
      }),
    );
    const result = await this.run((client) =>
      PostgresStore.transaction(client, 'BEGIN', async () => {
        // Writers wait: the cut and the head it records are one state (the database's head,
        // which another replica may have moved past what this one has followed).
        const head = (await client.query('SELECT revision, hash FROM registry_head FOR UPDATE')).rows[0] as { revision: number; hash: string } | undefined;
        const current = await lastCheckpoint(client);
        if (request.revision <= current.revision) return { checkpoint: current, removed: 0 };
        const last = (
          await client.query('SELECT hash FROM history WHERE revision <= $1 ORDER BY revision DESC, seq DESC LIMIT 1', [request.revision])
        ).rows[0] as { hash: string } | undefined;
        const hash = last?.hash ?? current.hash;
        const previous = await compactionRecords(client);
        const removed = counted.above === current.revision ? counted.removed : await countRemoved(client, current.revision, request.revision);
        const record = compactionRecord(request, hash, removed, previous, head ?? { revision: 0, hash: current.hash });
        await client.query(
          `INSERT INTO history_checkpoints (checkpoint_revision, hash, time_ms, entries_removed, actor, head_revision, head_hash,
             prev_record_hash, record_hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
          [request.revision, hash, record.time, removed, record.actor, record.headRevision, record.headHash, lastRecordHash(previous), record.recordHash],
        );
        // The other replicas learn the new checkpoint at this wake-up (their probe catches a lost one).
        await client.query('SELECT pg_notify($1, $2)', [CHANNEL, `compacted ${request.revision}`]);
        this.checkpointSeen = Math.max(this.checkpointSeen, request.revision);
        return { checkpoint: record.checkpoint, removed, record } as CompactionResult;
      }),
    );
    if (!result.record) return result;
    try {
      await this.deleteCompacted(request.revision);
    } catch (error) {
      // The compaction committed: report it as done, and say why its rows are still there.
      return { ...result, deleteFailed: error instanceof Error ? error.message : String(error) };
    }
    return result;
  }

  /** Deletes history at or below the checkpoint `cut`, and the revisions before it, a chunk per call. */
  private async deleteCompacted(cut: number): Promise<void> {
    const chunk = this.compactionChunkRows;
    const deleteChunk = (sql: string, rows: number) => this.run(async (client) => (await client.query(sql, [cut, rows])).rowCount ?? 0);
    while ((await deleteChunk('DELETE FROM history WHERE ctid = ANY(ARRAY(SELECT ctid FROM history WHERE revision <= $1 LIMIT $2))', chunk)) === chunk);
    // The revision at the cut stays, so as_of_time can still resolve to it. A revision's row
    // costs ten times a history row to delete (history's foreign key is checked for each).
    const revisions = Math.max(1, Math.floor(chunk / 10));
    while ((await deleteChunk('DELETE FROM revisions WHERE ctid = ANY(ARRAY(SELECT ctid FROM revisions WHERE revision < $1 LIMIT $2))', revisions)) === revisions);
  }

  compactions(): Promise<CompactionLog> {
    return this.run(async (client) => walkCompactions(await compactionRecords(client)));
  }

  compactedStart(): Promise<CompactedStart | undefined> {
    return this.run((client) =>
      PostgresStore.transaction(client, 'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY', async () => {
        const records = await compactionRecords(client);
        const last = records.at(-1);
        if (!last) return undefined;
        const cut = (await client.query('SELECT time_ms, actor, reason FROM revisions WHERE revision = $1', [last.checkpoint.revision])).rows[0] as
          | { time_ms: number; actor: string; reason: string }
          | undefined;
        if (!cut) return undefined;
        return { records, cut: { revision: last.checkpoint.revision, time: cut.time_ms, actor: cut.actor, reason: cut.reason } };
      }),
    );
  }

  startCompacted(start: CompactedStart): Promise<void> {
    const rows = compactedStartRows(start);
    return this.run((client) =>
      PostgresStore.transaction(client, 'BEGIN', async () => {
        const head = (await client.query('SELECT revision FROM registry_head FOR UPDATE')).rows[0] as { revision: number };
        const checkpoints = (await client.query('SELECT 1 FROM history_checkpoints LIMIT 1')).rowCount ?? 0;
        if (head.revision !== 0 || checkpoints > 0) throw new Error('the store is not empty: only an empty store can start at a checkpoint');
        for (const { record, prevRecordHash } of rows) {
          await client.query(
            `INSERT INTO history_checkpoints (checkpoint_revision, hash, time_ms, entries_removed, actor, head_revision, head_hash,
               prev_record_hash, record_hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
            copiedCheckpointRow(record, prevRecordHash),
          );
        }
        const { revision, time, actor, reason } = start.cut;
        await client.query('INSERT INTO revisions (revision, time_ms, actor, reason) VALUES ($1, $2, $3, $4)', [revision, time, actor, reason]);
        await client.query('UPDATE registry_head SET revision = $1, time_ms = $2, hash = $3', [revision, time, rows.at(-1)!.record.checkpoint.hash]);
        this.highestSeen = Math.max(this.highestSeen, revision);
        this.checkpointSeen = Math.max(this.checkpointSeen, revision);
      }),
    );
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.tail;
    this.closed = true;
    if (this.listenRetry) clearTimeout(this.listenRetry);
    if (this.probe) clearTimeout(this.probe);
    const listener = this.listener;
    this.listener = undefined;
    await listener?.end().catch(() => undefined);
    await this.pool.end().catch(() => undefined);
  }
}

/** The server's store over PostgreSQL at `options.url`. */
export function postgresStore(options: PostgresStoreOptions): StoreFactory {
  return () => PostgresStore.open(options);
}

// Reading -------------------------------------------------------------------------------

/** The entries a cut at `cut` removes above the checkpoint at `above` (rows a crashed delete left below it were counted by their own compaction). */
async function countRemoved(client: pg.ClientBase, above: number, cut: number): Promise<number> {
  const row = (await client.query('SELECT count(*) AS n FROM history WHERE revision > $1 AND revision <= $2', [above, cut])).rows[0] as { n: string | number };
  return Number(row.n);
}

async function lastCheckpoint(client: pg.ClientBase): Promise<Checkpoint> {
  const row = (
    await client.query('SELECT checkpoint_revision AS revision, hash FROM history_checkpoints ORDER BY checkpoint_revision DESC LIMIT 1')
  ).rows[0] as Checkpoint | undefined;
  return row ?? { revision: 0, hash: GENESIS_HASH };
}

async function compactionRecords(client: pg.ClientBase): Promise<CompactionRecord[]> {
  const rows = (await client.query('SELECT * FROM history_checkpoints ORDER BY checkpoint_revision')).rows;
  return rows.map((row) => ({
    checkpoint: { revision: row.checkpoint_revision, hash: row.hash },
    time: row.time_ms,
    actor: row.actor ?? '',
    removed: row.entries_removed,
    headRevision: row.head_revision ?? 0,
    headHash: row.head_hash ?? '',
    recordHash: row.record_hash ?? '',
  }));
}

/** The newest `limit` entries re-hashed and linked at start-up (as startup-check.ts for SQLite). */
async function checkRecentChain(client: pg.ClientBase, limit: number): Promise<number> {
  if (limit <= 0) return 0;
  const rows = (
    await client.query(`SELECT * FROM (SELECT * FROM history WHERE ${ABOVE_CHECKPOINT} ORDER BY revision DESC, seq DESC LIMIT $1) AS newest ORDER BY revision, seq`, [
      limit + 1,
    ])
  ).rows as HistoryRow[];
  if (rows.length === 0) return 0;
  const whole = rows.length <= limit;
  const walked = whole ? rows : rows.slice(1);
  const prevHash = whole ? (await lastCheckpoint(client)).hash : rows[0].hash;
  const walk = walkChain(
    walked.map((row) => ({ columns: chainedColumns(row), prev: row.prev_hash, hash: row.hash })),
    { after: undefined, prevHash, limit, expectedHead: undefined },
  );
  if (walk.broken) {
    const { problem, revision, seq, description } = walk.broken;
    throw new Error(
      `the history in the PostgreSQL database is corrupt: ${problem} at revision ${revision} index ${seq}: ${description}. ` +
        'Refusing to start; restore the database from a backup, or start with --startup-check 0 and inspect it with devcompat audit verify',
    );
  }
  return walk.checked;
}
