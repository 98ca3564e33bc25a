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
  CompactionRequest,
  CompactionResult,
  HistoryQuery,
  HistoryRecord,
  LoadedState,
  ServedStore,
  StoreFactory,
} from '../core/store.ts';
import { StaleBatchError } from '../core/store.ts';
import type { MigrationReport } from './migrate.ts';
import { encodeCommitBatch, type EncodedBatch } from './commit-encoding.ts';
import { loadDevices, type SqliteStoreOptions, type StartupReport } from './sqlite-store.ts';

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

/** Sent before WorkerReady, once migrations are applied and while the start-up checks run. */
export interface WorkerMigrated {
  readonly migrated: true;
}

/** What the worker is started with: the store's options, and whether to load at once (read-ahead). */
export interface WorkerOptions extends SqliteStoreOptions {
  /** Load everything but the devices right after the start-up checks, and send it with WorkerReady. */
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
  | { readonly ready: MigrationReport; readonly startup: StartupReport; readonly loaded?: LoadedState }
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
    private readonly path: string,
    /** The state read ahead while the worker ran its start-up checks (its devices read by this thread), for the first load(). */
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

  /** Called once if the worker dies other than by close(): no write can be stored any more. */
  onFailure(listener: (error: Error) => void): void {
    this.failureListeners.push(listener);
  }

  /**
   * Starts the worker, opens the database and applies migrations. With `readAhead` (a server
   * about to load the registry), this thread reads the devices as soon as the worker reports
   * the migrations applied, while the worker runs its start-up checks (the history chain, the
   * head anchor): a restart's two longest steps run side by side, on two cores. They are the
   * first load()'s, if no other call comes before it; so is the rest of the state, which the
   * worker loads right after its checks and sends with its ready message.
   */
  static async open(options: SqliteStoreOptions, { readAhead = false } = {}): Promise<WorkerStore> {
    const ahead = readAhead && onDisk(options.path);
    const workerOptions: WorkerOptions = { ...options, loadAtStart: ahead };
    let worker: Worker;
    if (earlyWorker) {
      worker = earlyWorker;
      earlyWorker = undefined;
      worker.ref();
      worker.postMessage({ open: workerOptions } satisfies OpenRequest);
    } else {
      worker = new Worker(WORKER_ENTRY, { workerData: workerOptions });
    }
    let devices: LoadedState['devices'] | undefined;
    const ready = await new Promise<WorkerReady>((resolve, reject) => {
      const onMessage = (message: WorkerMigrated | WorkerReady) => {
        if ('migrated' in message) {
          // An error here (the file unreadable to this thread) is left to the first load(), which
          // reads them again and reports it; the worker's own verdict comes next.
          if (ahead) {
            try {
              devices = loadDevices(options.path);
            } catch {
              devices = undefined;
            }
          }
          return;
        }
        worker.off('message', onMessage);
        resolve(message);
      };
      worker.on('message', onMessage);
      // A failure before the worker could answer: its cause, whatever was thrown, and an exit
      // without a word, both become an Error whose message says what happened.
      worker.once('error', (error: unknown) => reject(asError(error, 'the storage worker failed while opening the database')));
      worker.once('exit', (code) => reject(new Error(`the storage worker exited (code ${code}) before the database was open`)));
    });
    if ('failed' in ready) {
      // The worker throws after reporting: the listeners above (on a settled promise) absorb it.
      await worker.terminate();
      throw revive(ready.failed);
    }
    worker.removeAllListeners('error');
    worker.removeAllListeners('exit');
    const loaded = ready.loaded && devices ? { ...ready.loaded, devices } : undefined;
    return new WorkerStore(worker, ready.ready, ready.startup, options.path, loaded);
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
   * The worker loads everything but the devices; this thread reads those from the file itself
   * (a structured clone of 160,000 records cost as much CPU as reading them), or takes those it
   * read ahead while the worker opened the database, when this is the first call. Nothing is
   * written in between: the worker is the only writer and has nothing to write before the
   * registry, which calls load() once at open, starts. An in-memory database is the worker's
   * alone: it loads everything there.
   */
  async load(): Promise<LoadedState> {
    if (this.readAhead && !this.failure) {
      const loaded = this.readAhead;
      this.readAhead = undefined;
      return loaded;
    }
    if (!onDisk(this.path)) return this.call('load');
    const loaded = await this.call<LoadedState>('load', { withoutDevices: true });
    return { ...loaded, devices: loadDevices(this.path) };
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

  firstChangesAfter(query: { revision: number; hostId?: string; deviceId?: string }): Promise<HistoryRecord[]> {
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

/** A storage worker started before the server's modules load, waiting for what to open. */
let earlyWorker: Worker | undefined;

/**
 * Starts the storage worker now, with nothing to open yet: a thread and its modules take
 * 0.1–0.3 s to start, which `devcompat serve` spends loading the server's own modules meanwhile.
 * The next WorkerStore.open of this thread adopts it and sends it its options; until then it
 * touches no file (the server's checks of its options come first) and does not keep the
 * process alive.
 */
export function startStorageWorkerEarly(): void {
  if (earlyWorker) return;
  const worker = new Worker(WORKER_ENTRY, { workerData: { deferred: true } satisfies DeferredStart });
  worker.unref();
  // One that fails or ends before it is adopted is forgotten: open starts a fresh one, which
  // reports the cause.
  const forget = () => {
    if (earlyWorker === worker) earlyWorker = undefined;
  };
  worker.once('error', forget);
  worker.once('exit', forget);
  earlyWorker = worker;
}

/** The server's default store: SQLite at `options.path`, run in a worker thread. */
export function sqliteStore(options: SqliteStoreOptions): StoreFactory {
  return () => WorkerStore.open(options, { readAhead: true });
}

/** Whether `path` names a file this thread can open too (not an in-memory or URI database). */
function onDisk(path: string): boolean {
  return path !== '' && path !== ':memory:' && !path.startsWith('file:');
}
