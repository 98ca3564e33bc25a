// The storage worker: owns the SQLite connection and answers WorkerStore's calls one at a
// time, in order (see worker-store.ts). A worker started ahead (startStorageWorkerEarly) without
// options waits for them in its first message, and opens nothing before; one started ahead
// with its options opens the database at once.

import { parentPort, workerData } from 'node:worker_threads';
import { DomainError } from '../core/errors.ts';
import { StaleBatchError } from '../core/store.ts';
import { SqliteStore } from './sqlite-store.ts';
import type { DeferredStart, OpenRequest, SerializedError, StoreRequest, StoreResponse, WorkerDevicePage, WorkerMigrated, WorkerMemory, WorkerOptions, WorkerReady } from './worker-store.ts';

const port = parentPort!;

function serialize(error: unknown): SerializedError {
  if (error instanceof DomainError) return { message: error.message, reason: error.reason };
  if (error instanceof StaleBatchError) return { message: error.message, staleHead: error.head };
  const failure = error instanceof Error ? error : new Error(String(error));
  return { message: failure.message, stack: failure.stack };
}

const started = workerData as WorkerOptions | DeferredStart;
const options =
  'deferred' in started ? await new Promise<WorkerOptions>((resolve) => port.once('message', (message: OpenRequest) => resolve(message.open))) : started;

let store: SqliteStore;
try {
  // With loadAtStart, the tables and then the devices (a page at a time) go to the main thread
  // as soon as the migrations are applied (it decodes and indexes the devices while the checks
  // run here), and the head with the checks' verdict.
  store = new SqliteStore(options, {
    migrated: (reads) => {
      port.postMessage({ migrated: true, tables: options.loadAtStart ? reads.tables() : undefined } satisfies WorkerMigrated);
      if (options.loadAtStart) reads.devicePages((devices) => port.postMessage({ devices } satisfies WorkerDevicePage));
    },
  });
  const head = options.loadAtStart ? store.headState() : undefined;
  port.postMessage({ ready: store.migrations, startup: store.startup, head } satisfies WorkerReady);
} catch (error) {
  // Reported, not thrown: a thrown error reaches the parent as an 'error' event that may
  // overtake this message and lose the cause. The parent terminates this worker.
  port.postMessage({ failed: serialize(error) } satisfies WorkerReady);
}

port.on('message', (request: StoreRequest) => {
  let response: StoreResponse;
  try {
    response = { id: request.id, result: handle(request) };
  } catch (error) {
    response = { id: request.id, error: serialize(error) };
  }
  port.postMessage(response);
});

function handle(request: StoreRequest): unknown {
  const { method, argument } = request;
  switch (method) {
    case 'load':
      // The devices encoded: the main thread decodes them (worker-store.ts load).
      return store.stored();
    case 'commit':
      return store.commitEncoded(argument as Parameters<SqliteStore['commitEncoded']>[0]);
    case 'listHistory':
      return store.listHistory(argument as Parameters<SqliteStore['listHistory']>[0]);
    case 'firstChangesAfter':
      return store.firstChangesAfter(argument as Parameters<SqliteStore['firstChangesAfter']>[0]);
    case 'revisionAt':
      return store.revisionAt(argument as number);
    case 'verifyChain':
      return store.verifyChain(argument as Parameters<SqliteStore['verifyChain']>[0]);
    case 'compact':
      return store.compact(argument as Parameters<SqliteStore['compact']>[0]);
    case 'compactions':
      return store.compactions();
    case 'compactedStart':
      return store.compactedStart();
    case 'startCompacted':
      return store.startCompacted(argument as Parameters<SqliteStore['startCompacted']>[0]);
    case 'backup':
      return store.backup(argument as string);
    case 'memory':
      return workerMemory(argument === true);
    case 'close':
      store.close();
      return undefined;
  }
}

/** This thread's heap (collected first when asked and the process exposes gc). */
function workerMemory(collect: boolean): WorkerMemory {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (collect && gc) gc();
  const { heapUsed, heapTotal, external, arrayBuffers } = process.memoryUsage();
  return { heapUsed, heapTotal, external, arrayBuffers };
}
