// The restart phase alone, on a database kept by an earlier run (`npm run bench -- --only sync
// --keep-db fleet.db`), so that start-up can be measured, profiled and compared between two
// builds without re-seeding each time:
//
//   npx tsx bench/restart-alone.ts --db fleet.db [--runs 3] [--server dist/server/main.js]
//                                  [--probe-host hosts/<id>] [--profile <dir>] [--node-option=--flag ...]
//
// Each run copies the database and its head anchor (<db>.head) to a temp folder (a start-up may write: migrations, anchors),
// starts the server on it, and reports, as the bench's restart phase does, spawn to "serving"
// and to the first GetHost answered, the server's CPU seconds by then (all threads, and its main
// thread's alone), and its RSS then and
// after a 2 s settle. --server points at another build's main.js (a checkout of main) to
// alternate before and after on one machine under one load. --profile runs the server with
// --cpu-prof (the profile is written there when it stops).

import path from 'node:path';
import { parseArgs } from 'node:util';
import { DevcompatClient } from '../client/client.ts';
import { loadServices } from '../proto/load.ts';
import { copyKeptDatabase, keptServerEntry, keptServerFlags, loadAverage } from './kept-db.ts';
import { readCpuSeconds, readMemory, readThreadCpuSeconds, startChild } from './processes.ts';
import { fmt, nowMs, sleep } from './stats.ts';

const { values } = parseArgs({
  options: {
    db: { type: 'string' },
    runs: { type: 'string', default: '3' },
    server: { type: 'string' },
    'probe-host': { type: 'string' },
    profile: { type: 'string' },
    'node-option': { type: 'string', multiple: true, default: [] },
  },
  strict: true,
});
if (!values.db) throw new Error('--db <file>: a fleet database kept by `npm run bench -- --keep-db <file>`');
const runs = Number(values.runs);
if (!Number.isSafeInteger(runs) || runs < 1 || runs > 20) throw new Error('--runs must be an integer from 1 to 20');
const entry = keptServerEntry(values.server, [
  ...(values.profile ? ['--cpu-prof', '--cpu-prof-dir', path.resolve(values.profile)] : []),
  ...(values['node-option'] ?? []),
]);

const probeHost = values['probe-host'] ?? (await firstHost(values.db));
// The client library's definitions made now, as a running scheduler's are (and as the bench's
// restart phase finds them, after its other phases): the clock below times the server.
loadServices();

for (let run = 1; run <= runs; run++) {
  const copy = copyKeptDatabase(values.db, 'restart');
  try {
    const load = loadAverage();
    const args = [...entry, ...keptServerFlags(copy.file)];
    const t0 = nowMs();
    const server = await startChild({ name: 'devcompat server', args, readyMsg: 'devcompat serving', timeoutMs: 600_000 });
    const readyMs = nowMs() - t0;
    const client = new DevcompatClient({ address: server.address, actor: 'bench' });
    try {
      await client.getHost(probeHost);
      const answerMs = nowMs() - t0;
      const cpuS = readCpuSeconds(server.pid) ?? Number.NaN;
      const mainCpuS = readThreadCpuSeconds(server.pid, server.pid) ?? Number.NaN;
      const rss = readMemory(server.pid);
      await sleep(2000);
      const settled = readMemory(server.pid);
      console.log(
        `run ${run}: serving ${fmt(readyMs / 1000, 2)} s, first GetHost ${fmt(answerMs / 1000, 2)} s, server CPU ${fmt(cpuS, 2)} s (main thread ${fmt(mainCpuS, 2)} s); ` +
          `RSS ${fmt((rss?.rssBytes ?? Number.NaN) / 1e6)} MB, after 2 s ${fmt((settled?.rssBytes ?? Number.NaN) / 1e6)} MB (peak ${fmt((settled?.hwmBytes ?? Number.NaN) / 1e6)} MB); load ${load}`,
      );
    } finally {
      client.close();
      await server.stop();
    }
  } finally {
    copy.remove();
  }
}

/** A host of the fleet (the first by id), read through the store's file without a server. */
async function firstHost(db: string): Promise<string> {
  const { openDatabase } = await import('../server/store/open-database.ts');
  const database = openDatabase(db, { readonly: true });
  try {
    const row = database.prepare("SELECT 'hosts/' || host_id AS name FROM hosts ORDER BY host_id LIMIT 1").get() as { name: string } | undefined;
    if (!row) throw new Error(`${db}: no host in this database; give --probe-host hosts/<id>`);
    return row.name;
  } finally {
    database.close();
  }
}
