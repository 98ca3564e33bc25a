// The first FindTargets after a restart, alone, on a database kept by an earlier run (`npm run
// bench -- --only sync --keep-db fleet.db`), with a figure that reads through a loaded machine:
//
//   npx tsx bench/find-after-restart.ts --db fleet.db [--server dist/server/main.js] [--runs 3]
//                                       [--queries 100] [--source hosts/<id>/devices/<id>]
//
// Each run starts the server on a copy of the database, waits for "serving" and one GetHost (as
// the bench's restart phase does), then sends --queries sequential FindTargets of --source
// (default: the bench's gvtg source) with no warm-up, and reports per query the wall time (what
// bench/restart.ts judges, p99 of the last message) and the CPU time the server's main thread
// spent meanwhile (from /proc/<pid>/task/<pid>/schedstat, in nanoseconds): the second is the
// search's own cost plus whatever else the server ran in that window (its warm-up, if any),
// and is not stretched by other processes taking the cores; the first five queries' wall and
// CPU times are printed too. The first run's client is a fresh process's (its own first calls
// add to the wall times); later runs reuse this process's compiled client code, as the main
// bench's restart phase does after its find phase. --server points at another build's main.js,
// to alternate before and after.

import { parseArgs } from 'node:util';
import { DevcompatClient } from '../client/client.ts';
import { copyKeptDatabase, keptServerEntry, keptServerFlags, loadAverage } from './kept-db.ts';
import { readCpuSeconds, readThreadCpuMs, startChild } from './processes.ts';
import { fmt, nowMs, summarize } from './stats.ts';

const { values } = parseArgs({
  options: {
    db: { type: 'string' },
    server: { type: 'string' },
    runs: { type: 'string', default: '3' },
    queries: { type: 'string', default: '100' },
    source: { type: 'string', default: 'hosts/h00096/devices/0000:00:02.0-i915-GVTg_V5_8' },
  },
  strict: true,
});
if (!values.db) throw new Error('--db <file>: a fleet database kept by `npm run bench -- --keep-db <file>`');
const runs = Number(values.runs);
const queries = Number(values.queries);
if (!Number.isSafeInteger(runs) || runs < 1 || runs > 20) throw new Error('--runs must be an integer from 1 to 20');
if (!Number.isSafeInteger(queries) || queries < 1 || queries > 1000) throw new Error('--queries must be an integer from 1 to 1000');
const entry = keptServerEntry(values.server);

/** CPU time of the process's main thread so far, in ms. */
const mainThreadCpuMs = (pid: number) => readThreadCpuMs(pid, pid);

for (let run = 1; run <= runs; run++) {
  const copy = copyKeptDatabase(values.db, 'find-restart');
  try {
    const load = loadAverage();
    const server = await startChild({
      name: 'devcompat server',
      args: [...entry, ...keptServerFlags(copy.file)],
      readyMsg: 'devcompat serving',
      timeoutMs: 600_000,
    });
    const client = new DevcompatClient({ address: server.address, actor: 'bench' });
    try {
      await client.getHost(values.source.slice(0, values.source.indexOf('/devices/')));
      const wall: number[] = [];
      const cpu: number[] = [];
      for (let i = 0; i < queries; i++) {
        const c0 = mainThreadCpuMs(server.pid);
        const t0 = nowMs();
        let last = t0;
        for await (const item of client.findTargets(values.source, { limit: 100 })) if ('summary' in item) last = nowMs();
        wall.push(last - t0);
        cpu.push(mainThreadCpuMs(server.pid) - c0);
      }
      const w = summarize(wall);
      const c = summarize(cpu);
      console.log(
        `run ${run}: ${queries} queries; wall p50 ${fmt(w.p50, 2)} / p99 ${fmt(w.p99, 2)} / max ${fmt(w.max, 1)} ms; ` +
          `server main thread CPU per query p50 ${fmt(c.p50, 2)} / p99 ${fmt(c.p99, 2)} / max ${fmt(c.max, 1)} ms, first five wall ${wall.slice(0, 5).map((x) => fmt(x, 1)).join(' ')}, CPU ${cpu.slice(0, 5).map((x) => fmt(x, 1)).join(' ')}; ` +
          `server CPU by the end ${fmt(readCpuSeconds(server.pid) ?? Number.NaN, 2)} s; load ${load}`,
      );
    } finally {
      client.close();
      await server.stop();
    }
  } finally {
    copy.remove();
  }
}
