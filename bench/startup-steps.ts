// The storage worker's start-up steps, timed one by one in this thread, on a copy of a database
// kept by an earlier run (`npm run bench -- --only sync,watch --keep-db fleet.db`): the lock,
// the migrations, the tables, the device pages, the chain and anchor checks, the head. Each
// step's wall time and this process's CPU time, so that a step's cost reads through a loaded
// machine; --dist points at another build (a checkout of main) to alternate before and after.
//
//   npx tsx bench/startup-steps.ts --db fleet.db [--dist dist] [--runs 3]
//
// The steps run as the worker runs them (SqliteStore's constructor, with the hook the worker
// gives it), but in one thread with nothing posted: what a restart's worker spends, not when.

import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import type { SqliteStore as Store, StartupReads } from '../server/store/sqlite-store.ts';
import { copyKeptDatabase } from './kept-db.ts';

const { values } = parseArgs({
  options: { db: { type: 'string' }, dist: { type: 'string', default: 'dist' }, runs: { type: 'string', default: '3' } },
  strict: true,
});
if (!values.db) throw new Error('--db <file>: a fleet database kept by `npm run bench -- --keep-db <file>`');
const runs = Number(values.runs);
if (!Number.isSafeInteger(runs) || runs < 1 || runs > 20) throw new Error('--runs must be an integer from 1 to 20');
const { SqliteStore } = (await import(pathToFileURL(path.resolve(values.dist, 'server/store/sqlite-store.js')).href)) as { SqliteStore: typeof Store };

for (let run = 1; run <= runs; run++) {
  const copy = copyKeptDatabase(values.db, 'steps');
  try {
    const file = copy.file;
    const steps: string[] = [];
    let wall = performance.now();
    let cpu = process.cpuUsage();
    const step = (name: string) => {
      const used = process.cpuUsage(cpu);
      steps.push(`${name} ${(performance.now() - wall).toFixed(1)} ms (CPU ${((used.user + used.system) / 1000).toFixed(1)})`);
      wall = performance.now();
      cpu = process.cpuUsage();
    };
    let pages = 0;
    const store = new SqliteStore(
      { path: file, durability: 'full' },
      {
        migrated: (reads: StartupReads) => {
          step('lock and migrations');
          reads.tables();
          step('tables');
          reads.devicePages(() => pages++);
          step(`device pages (${pages})`);
        },
      },
    );
    step(`chain and anchor checks (${store.startup.checkedEntries} entries)`);
    store.headState();
    step('head');
    store.close();
    console.log(`run ${run}: ${steps.join(' | ')}`);
  } finally {
    copy.remove();
  }
}
