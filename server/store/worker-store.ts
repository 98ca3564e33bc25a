// The registry's store: SqliteStore run in a worker thread. The event loop keeps decoding and
// validating requests (and serving reads from memory) while a batch is being written and
// fsynced on the other core. The worker handles one call at a time, in the order they were
// sent, and answers in that order; so a list or history read sees every commit requested
// before it, and its answer arrives after those commits' acknowledgements.

import { inspect, types } from 'node:util';
import { Worker } from 'node:worker_threads';
import { DomainError, type ErrorReason } from '../core/errors.ts';
import type {
  BackupResult,
  ChainWalk,
  ChainWalkQuery,
  CommitBatch,
  CompactedStart,
  CommitResult,
  CompactionLog,
  DeviceRecord,
  CompactionRequest,
  CompactionResult,
  HistoryQuery,
  HistoryRecord,
  LoadedState,
  ServedStore,
  StateLoad,
  StoreFactory,
  FirstChangesQuery,
} from '../core/store.ts';
import { StaleBatchError } from '../core/store.ts';
import type { MigrationReport } from './migrate.ts';
import { encodeCommitBatch, type EncodedBatch } from './commit-encoding.ts';
import type { SqliteStoreOptions, StartupReport } from './sqlite-store.ts';
import { decodeTables, joinedState, loadedState, type EncodedTables, type StoredHead, type StoredState, type StoredTables } from './stored-state.ts';
import { DeviceDecoder, type DeviceRows } from './sqlite-device-load.ts';

// Compiled (dist/, .js) the worker is plain JavaScript and starts directly. From the sources
// (.ts, under tsx) a worker thread does not inherit the TypeScript loader on every Node
// version, so it starts through the .mjs entry that registers tsx first.
const WORKER_ENTRY = import.meta.url.endsWith('.ts')
  ? new URL('./sqlite-worker-entry.mjs', import.meta.url)
  : new URL('./sqlite-worker.js', import.meta.url);

export type StoreMethod =
  | 'load'
  | 'commit'
  | 'listHistory'
  | 'firstChangesAfter'
  | 'revisionAt'
  | 'verifyChain'
  | 'compact'
  | 'compactions'
  | 'compactedStart'
  | 'startCompacted'
  | 'backup'
  | 'memory'
  | 'close';

/** The storage worker's own V8 heap (its isolate: not in the main thread's process.memoryUsage()). */
export interface WorkerMemory {
  readonly heapUsed: number;
  readonly heapTotal: number;
  readonly external: number;
  readonly arrayBuffers: number;
}

export interface StoreRequest {
  readonly id: number;
  readonly method: StoreMethod;
  readonly argument?: unknown;
}

export interface SerializedError {
  readonly message: string;
  readonly stack?: string;
  readonly reason?: ErrorReason;
  /** A StaleBatchError's head: the batch was planned against another revision. */
  readonly staleHead?: number;
}

export type StoreResponse =
  | { readonly id: number; readonly result: unknown }
  | { readonly id: number; readonly error: SerializedError };

/** With loadAtStart, the devices read once the migrations are applied, a page of hosts at a time, after WorkerMigrated. */
export interface WorkerDevicePage {
  readonly devices: DeviceRows;
}

/**
 * Sent before WorkerReady, once migrations are applied and before the start-up checks run;
 * with loadAtStart, the tables read then (they stay as they are until the first commit),
 * ahead of the device pages.
 */
export interface WorkerMigrated {
  readonly migrated: true;
  /** The hosts encoded (sqlite-host-load.ts): this thread decodes them. */
  readonly tables?: EncodedTables;
}

/** What the worker is started with: the store's options, and whether to load at once (read-ahead). */
export interface WorkerOptions extends SqliteStoreOptions {
  /**
   * Read the tables as soon as the migrations are applied (sent with WorkerMigrated) and the
   * head once the start-up checks passed (sent with WorkerReady): the first load() needs no call.
   */
  readonly loadAtStart?: boolean;
}

/** The workerData of a worker started ahead (startStorageWorkerEarly): its options come later. */
export interface DeferredStart {
  readonly deferred: true;
}

/** The first message to a worker started ahead: what to open. */
export interface OpenRequest {
  readonly open: WorkerOptions;
}

export type WorkerReady =
  | { readonly ready: MigrationReport; readonly startup: StartupReport; readonly head?: StoredHead }
  | { readonly failed: SerializedError };

interface Pending {
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

/** Anything thrown, as an Error with a message (a non-Error thrown value is described). */
export function asError(thrown: unknown, context: string): Error {
  if (thrown instanceof Error && thrown.message && types.isNativeError(thrown)) return thrown;
  if (thrown instanceof Error || (typeof thrown === 'object' && thrown !== null && 'message' in thrown)) {
    const { message, name, stack } = thrown as { message?: unknown; name?: unknown; stack?: unknown };
    const error = new Error(message ? String(message) : `${context}: ${String(name ?? 'an error without a message')}`);
    if (typeof stack === 'string') error.stack = stack;
    return error;
  }
  return new Error(`${context}: ${typeof thrown === 'string' ? thrown : inspect(thrown)}`, { cause: thrown });
}

function revive(error: SerializedError): Error {
  if (error.reason) return new DomainError(error.reason, error.message);
  if (error.staleHead !== undefined) return new StaleBatchError(error.staleHead);
  const revived = new Error(error.message);
  if (error.stack) revived.stack = error.stack;
  return revived;
}

export class WorkerStore implements ServedStore {
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private failure: Error | undefined;
  private closing = false;
  private readonly failureListeners: ((error: Error) => void)[] = [];

  private constructor(
    private readonly worker: Worker,
    readonly migrations: MigrationReport,
    /** What start-up found: the head anchor's verdict, a restore recorded, the entries checked. */
    readonly startup: StartupReport,
    /** The state the worker read while it opened the database (its tables before, its head after the checks), for the first load(). */
    private readAhead: LoadedState | undefined,
  ) {
    worker.on('message', (response: StoreResponse) => {
      const entry = this.pending.get(response.id);
      if (!entry) return;
      this.pending.delete(response.id);
      if ('error' in response) entry.reject(revive(response.error));
      else entry.resolve(response.result);
    });
    const fail = (error: Error) => {
      if (this.failure) return;
      this.failure = error;
      for (const entry of this.pending.values()) entry.reject(error);
      this.pending.clear();
      if (!this.closing) for (const listener of this.failureListeners) listener(error);
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`the storage worker exited (code ${code})`)));
  }

  /** The storage worker's thread id (worker_threads' threadId). */
  get threadId(): number {
    return this.worker.threadId;
  }

  /**
   * Called once if the worker dies other than by close(): no write can be stored any more. A
   * listener added after it died (the server adds its own once it serves) is called at once.
   */
  onFailure(listener: (error: Error) => void): void {
    if (this.failure && !this.closing) listener(this.failure);
    else this.failureListeners.push(listener);
  }

  /**
   * Starts the worker (or adopts the one startStorageWorkerEarly started), opens the database,
   * applies migrations and runs the start-up checks. With `readAhead` (a server about to load
   * the registry), the worker reads the tables as soon as the migrations are applied and sends
   * them while it runs its checks (the history chain, the head anchor), then the head with its
   * verdict: the first load() needs no call, and nothing it read is used unless the checks pass.
   * With `load` too, each page's records go to it as they are decoded (the registry builds its
   * state meanwhile: core/state-load.ts) and the first load() names it instead of holding them.
   */
  static async open(options: SqliteStoreOptions, { readAhead = false, load }: { readAhead?: boolean; load?: StateLoad } = {}): Promise<WorkerStore> {
    const workerOptions: WorkerOptions = { ...options, loadAtStart: readAhead };
    const starting = (await adoptEarlyWorker(workerOptions)) ?? new StartingWorker(new Worker(WORKER_ENTRY, { workerData: workerOptions }));
    const { worker } = starting;
    const decoder = new DeviceDecoder();
    let started: { ready: WorkerReady; tables: StoredTables | undefined };
    try {
      started = await WorkerStore.readStart(starting, decoder, load);
    } catch (error) {
      // The worker failed, or this thread could not build the state from what it sent: either
      // way the worker (and the database's single-writer lock it holds) goes. Still listening:
      // whatever the worker does as it ends is absorbed.
      await worker.terminate();
      throw error;
    }
    const { ready, tables } = started;
    if ('failed' in ready) {
      // Still listening: whatever the worker does as it ends is absorbed.
      await worker.terminate();
      throw revive(ready.failed);
    }
    // A worker that died after its last message, before this thread read it: its exit was
    // heard here, and the WorkerStore's own listeners would come too late to hear it.
    if (starting.failure) {
      await worker.terminate();
      throw starting.failure;
    }
    starting.detach();
    const loaded = tables && ready.head ? joinedState(tables, decoder.devices, ready.head, load) : undefined;
    return new WorkerStore(worker, ready.ready, ready.startup, loaded);
  }

  /** Reads the starting worker's messages up to its verdict: the tables, the device pages (decoded, and handed to `load`), then ready or failed. */
  private static async readStart(
    starting: StartingWorker,
    decoder: DeviceDecoder,
    load: StateLoad | undefined,
  ): Promise<{ ready: WorkerReady; tables: StoredTables | undefined }> {
    let tables: StoredTables | undefined;
    const visit = load && ((record: DeviceRecord) => load.device(record));
    for (;;) {
      // A failure before the worker could answer rejects here, with its cause.
      const message = (await starting.next()) as WorkerDevicePage | WorkerMigrated | WorkerReady;
      if ('devices' in message) {
        if (visit && tables) {
          // Decoded and indexed now, while the worker still checks: kept only if it opens.
          decoder.each(message.devices, visit);
        } else {
          decoder.decode(message.devices);
        }
        continue;
      }
      if ('migrated' in message) {
        tables = message.tables && decodeTables(message.tables);
        if (load && tables) load.tables(tables);
        continue;
      }
      return { ready: message, tables };
    }
  }

  private call<T>(method: StoreMethod, argument?: unknown): Promise<T> {
    if (this.failure) return Promise.reject(this.failure);
    // The state read ahead is current only until the first call: a commit may change it.
    this.readAhead = undefined;
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.worker.postMessage({ id, method, argument } satisfies StoreRequest);
    });
  }

  /**
   * The registry's state: the worker reads it and sends the devices encoded (two strings per
   * host), and this thread decodes them (sqlite-device-load.ts); or the state the worker read
   * while it opened the database, when this is the first call. Nothing is written in between:
   * the worker is the only writer and has nothing to write before the registry, which calls
   * load() once at open, starts.
   */
  async load(): Promise<LoadedState> {
    if (this.readAhead && !this.failure) {
      const loaded = this.readAhead;
      this.readAhead = undefined;
      return loaded;
    }
    return loadedState(await this.call<StoredState>('load'));
  }

  /**
   * The batch goes encoded (commit-encoding.ts): its device rows and history entries as text,
   * not a structured clone of its records, which cost this thread and the worker more than the
   * encoding does.
   */
  commit(batch: CommitBatch): Promise<CommitResult> {
    let encoded: EncodedBatch;
    try {
      encoded = encodeCommitBatch(batch);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.call('commit', encoded);
  }

  listHistory(query: HistoryQuery): Promise<HistoryRecord[]> {
    return this.call('listHistory', query);
  }

  firstChangesAfter(query: FirstChangesQuery): Promise<HistoryRecord[]> {
    return this.call('firstChangesAfter', query);
  }

  revisionAt(time: number): Promise<number | undefined> {
    return this.call('revisionAt', time);
  }

  verifyChain(query: ChainWalkQuery): Promise<ChainWalk> {
    return this.call('verifyChain', query);
  }

  compact(request: CompactionRequest): Promise<CompactionResult> {
    return this.call('compact', request);
  }

  compactions(): Promise<CompactionLog> {
    return this.call('compactions');
  }

  compactedStart(): Promise<CompactedStart | undefined> {
    return this.call('compactedStart');
  }

  startCompacted(start: CompactedStart): Promise<void> {
    return this.call('startCompacted', start);
  }

  backup(path: string): Promise<BackupResult> {
    return this.call('backup', path);
  }

  /**
   * The worker's heap, for measurements (bench/memory-per-device.ts): with `gc` (the process
   * started with --expose-gc) the worker collects its garbage first.
   */
  workerMemory(gc = false): Promise<WorkerMemory> {
    return this.call('memory', gc);
  }

  async close(): Promise<void> {
    if (this.failure) return;
    this.closing = true;
    await this.call('close');
    await this.worker.terminate();
  }
}

/**
 * A worker between its start and its ready message: its messages, and its failure (an error
 * or an exit before it answered), are kept until open() reads them, as a worker started ahead
 * may send them before anyone listens.
 */
class StartingWorker {
  private readonly queue: unknown[] = [];
  private waiting: { resolve(message: unknown): void; reject(error: Error): void } | undefined;
  /** Set once the worker failed before it answered. */
  failure: Error | undefined;
  private readonly onMessage = (message: unknown) => {
    if (this.waiting) {
      this.waiting.resolve(message);
      this.waiting = undefined;
    } else {
      this.queue.push(message);
    }
  };
  private readonly onError = (error: unknown) => this.fail(asError(error, 'the storage worker failed while opening the database'));
  private readonly onExit = (code: number) => this.fail(new Error(`the storage worker exited (code ${code}) before the database was open`));

  constructor(readonly worker: Worker) {
    worker.on('message', this.onMessage);
    worker.on('error', this.onError);
    worker.on('exit', this.onExit);
  }

  /** The worker's next message, in order; rejects once it failed (and every message before it was read). */
  next(): Promise<unknown> {
    if (this.queue.length > 0) return Promise.resolve(this.queue.shift());
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
    });
  }

  /** Stops listening: the WorkerStore (or nobody, after a failure) takes the worker over. */
  detach(): void {
    this.worker.off('message', this.onMessage);
    this.worker.off('error', this.onError);
    this.worker.off('exit', this.onExit);
  }

  private fail(error: Error): void {
    if (this.failure) return;
    this.failure = error;
    this.waiting?.reject(error);
    this.waiting = undefined;
  }
}

/** A storage worker started before the server's modules load, with what it was told to open, if anything yet. */
let earlyWorker: { readonly starting: StartingWorker; options: WorkerOptions | undefined } | undefined;

/**
 * Starts the storage worker now: a thread and its modules take 0.2–0.3 s to start, which
 * `devcompat serve` spends loading its own modules meanwhile (server/main.ts starts it before
 * any other). With `options` it opens the database at once (migrations, the tables read ahead,
 * the start-up checks), for a caller that has checked every option that could refuse the start
 * (server/serve.ts); without, it touches no file until it is told what to open: by a later call
 * with options (a worker already started and told nothing yet is told these), or by the next
 * WorkerStore.open. That open adopts it when its options are the ones it was told (otherwise it
 * is stopped and a fresh one started); until then it does not keep the process alive. Returns
 * the worker's thread id.
 */
export function startStorageWorkerEarly(options?: WorkerOptions): number {
  if (earlyWorker) {
    if (options && earlyWorker.options === undefined && !earlyWorker.starting.failure) {
      earlyWorker.options = options;
      earlyWorker.starting.worker.postMessage({ open: options } satisfies OpenRequest);
    }
    return earlyWorker.starting.worker.threadId;
  }
  const workerData: WorkerOptions | DeferredStart = options ?? { deferred: true };
  const worker = new Worker(WORKER_ENTRY, { workerData });
  const starting = new StartingWorker(worker);
  // After its listeners: a 'message' listener refs the worker again. Unref'd, a process that
  // ends without adopting it (a refused flag, `serve --help`) exits as if it had none.
  worker.unref();
  earlyWorker = { starting, options };
  return worker.threadId;
}

/** Stops a worker started early and not adopted (a server whose store is not SQLite has no use for it). */
export function discardEarlyWorker(): void {
  const early = earlyWorker;
  if (!early) return;
  earlyWorker = undefined;
  early.starting.detach();
  void early.starting.worker.terminate();
}

/** The worker started ahead, if it can serve `options`: told nothing yet (then told now), or told these. */
async function adoptEarlyWorker(options: WorkerOptions): Promise<StartingWorker | undefined> {
  const early = earlyWorker;
  if (!early) return undefined;
  earlyWorker = undefined;
  const { starting } = early;
  const fits = early.options === undefined || sameOptions(early.options, options);
  // One that failed before it was adopted, or was told to open something else, is stopped: a
  // fresh one reports the cause (or opens what is asked).
  if (!fits || starting.failure) {
    starting.detach();
    await starting.worker.terminate();
    return undefined;
  }
  starting.worker.ref();
  if (early.options === undefined) starting.worker.postMessage({ open: options } satisfies OpenRequest);
  return starting;
}

/** Whether two workers' options open the same database the same way. */
function sameOptions(a: WorkerOptions, b: WorkerOptions): boolean {
  return (
    a.path === b.path &&
    a.durability === b.durability &&
    (a.acceptRestore ?? false) === (b.acceptRestore ?? false) &&
    a.reanchor === b.reanchor &&
    a.startupChainCheck === b.startupChainCheck &&
    (a.loadAtStart ?? false) === (b.loadAtStart ?? false)
  );
}

/** The server's default store: SQLite at `options.path`, run in a worker thread. */
export function sqliteStore(options: SqliteStoreOptions): StoreFactory {
  return (load) => WorkerStore.open(options, { readAhead: true, load });
}
