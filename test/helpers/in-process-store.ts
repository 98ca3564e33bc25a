// Fault injection on the server's own SQLite connection. The server normally runs its store in
// a worker thread, out of a test's reach; here the next server a test starts runs the same
// adapter (SqliteStore) in the test's thread instead, so that the test can set a pragma on the
// very connection the server writes through: `max_page_count` makes the database full,
// `query_only` makes it read-only, both as SQLite itself reports them (SQLITE_FULL,
// SQLITE_READONLY). Everything else (registry, handlers, client) is the real thing.

import type { ExecutionContext } from 'ava';
import type Database from 'better-sqlite3';
import type { RegistryStore } from '../../server/core/store.ts';
import { SqliteStore, type SqliteStoreOptions } from '../../server/store/sqlite-store.ts';
import { WorkerStore } from '../../server/store/worker-store.ts';

export class InProcessStore implements RegistryStore {
  readonly sqlite: SqliteStore;

  constructor(options: SqliteStoreOptions) {
    this.sqlite = new SqliteStore(options);
  }

  get migrations() {
    return this.sqlite.migrations;
  }

  /** A pragma on the server's connection, e.g. `max_page_count = 10` or `query_only = ON`. */
  pragma(source: string): unknown {
    // Through exec()/prepare(): openDatabase() refuses pragma() (server/store/open-database.ts).
    const db = (this.sqlite as unknown as { db: Database.Database }).db;
    if (source.includes('=')) return void db.exec(`PRAGMA ${source}`);
    return db.prepare(`PRAGMA ${source}`).pluck().get();
  }

  onFailure(): void {}

  // Each call answers asynchronously, as the worker does, and in the order it was made.
  load = async () => this.sqlite.load();
  commit = async (batch: Parameters<RegistryStore['commit']>[0]) => this.sqlite.commit(batch);
  listHistory = async (query: Parameters<RegistryStore['listHistory']>[0]) => this.sqlite.listHistory(query);
  firstChangesAfter = async (query: Parameters<RegistryStore['firstChangesAfter']>[0]) => this.sqlite.firstChangesAfter(query);
  revisionAt = async (time: number) => this.sqlite.revisionAt(time);
  verifyChain = async (query: Parameters<RegistryStore['verifyChain']>[0]) => this.sqlite.verifyChain(query);
  compact = async (request: Parameters<RegistryStore['compact']>[0]) => this.sqlite.compact(request);
  compactions = async () => this.sqlite.compactions();
  compactedStart = async () => this.sqlite.compactedStart();
  startCompacted = async (start: Parameters<RegistryStore['startCompacted']>[0]) => this.sqlite.startCompacted(start);
  close = async () => this.sqlite.close();
}

/**
 * The next server started (startServer opens its store through WorkerStore.open) gets an
 * InProcessStore; resolves to it once the server has opened it.
 */
export function nextStoreInProcess(t: ExecutionContext): Promise<InProcessStore> {
  const open = WorkerStore.open;
  const restore = () => {
    WorkerStore.open = open;
  };
  t.teardown(restore);
  return new Promise((resolve) => {
    WorkerStore.open = async (options) => {
      restore();
      const store = new InProcessStore(options);
      resolve(store);
      return store as unknown as WorkerStore;
    };
  });
}
