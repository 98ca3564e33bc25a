// The storage worker started before the server's modules load (server/main.ts starts it first,
// with nothing to open; server/serve.ts tells it what to open once the flags are checked): it
// touches no file until told, then opens the database on its own, and the store adopts it. One
// file, run serially: the early worker is the process's one.

import test from 'ava';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { discardEarlyWorker, startStorageWorkerEarly, WorkerStore } from '../server/store/worker-store.ts';
import { tempDir } from './helpers/server.ts';

/** This process's threads (Linux). */
function threads(): number {
  return readdirSync('/proc/self/task').length;
}

test.serial('a worker started with nothing to open opens the database once told, before any store asks, and the store adopts it', async (t) => {
  const file = path.join(tempDir(t), 'early.db');
  const options = { path: file, durability: 'full' as const };
  const before = threads();
  const early = startStorageWorkerEarly();
  const until = Date.now() + 20_000;
  while (threads() <= before && Date.now() < until) await sleep(20);
  await sleep(300); // time for the thread to load SQLite, had it anything to open
  t.false(existsSync(file), 'nothing is opened before the worker is told what to open');
  t.is(startStorageWorkerEarly({ ...options, loadAtStart: true }), early, 'told, not started again');
  while (!existsSync(file) && Date.now() < until) await sleep(20);
  t.true(existsSync(file), 'told, the worker opens (creates) the database with no store asking');
  const store = await WorkerStore.open(options, { readAhead: true });
  try {
    t.is(store.threadId, early, 'the store runs on the worker started early, not one of its own');
    const loaded = await store.load();
    t.is(loaded.revision, 0);
    t.deepEqual(loaded.hosts, []);
  } finally {
    await store.close();
  }
});

test.serial('a worker started early that cannot open what it is told reports why through the store', async (t) => {
  const dir = tempDir(t); // a directory is no database file
  startStorageWorkerEarly({ path: dir, durability: 'full', loadAtStart: true });
  const error = await t.throwsAsync(WorkerStore.open({ path: dir, durability: 'full' }, { readAhead: true }));
  t.regex(error!.message, /unable to open database file/, "SQLite's cause, not only the worker's exit");
});

test.serial('a worker started early and discarded is stopped (a PostgreSQL server keeps no storage thread)', async (t) => {
  const before = threads();
  startStorageWorkerEarly();
  await sleep(500);
  const running = threads();
  t.true(running > before, `the worker is a thread of its own (${before} -> ${running})`);
  discardEarlyWorker();
  const until = Date.now() + 10_000;
  while (threads() >= running && Date.now() < until) await sleep(20);
  t.true(threads() < running, 'discarded, its thread is gone');
  // A store opened later starts a worker of its own.
  const file = path.join(tempDir(t), 'later.db');
  const store = await WorkerStore.open({ path: file, durability: 'full' }, { readAhead: true });
  try {
    t.is((await store.load()).revision, 0);
  } finally {
    await store.close();
  }
});
