// Writes while a past read runs, on a database kept by an earlier run (`npm run bench -- --only
// sync --keep-db fleet.db`): does a point-in-time read of the whole registry hold the writes
// made meanwhile? A past ListDevices (as_of_revision) materializes the registry as it was from
// all history since that revision (server/core/point-in-time.ts).
//
//   npx tsx bench/past-read.ts --db fleet.db [--runs 2] [--reads 3] [--writers 8] [--server dist/server/main.js]
//
// Each run starts the server on a fresh copy of the database, keeps `--writers` SyncHost calls
// in flight (each writer re-syncs a host of its own with a new label, one revision per call),
// and after 1.5 s of writes alone reads the registry at revisions 1, 2, 3, ... (each a view not
// cached yet, each from the whole history), one at a time, 1 s apart. It reports each read's
// time and the latency of the writes that overlapped it, next to the writes' latency before the
// first read. --server points at another build's main.js (a checkout of main), to compare
// before and after on one machine under one load. The server listens on loopback; the writes
// stop when the reads are done (and at most 20,000 per writer).

import { parseArgs } from 'node:util';
import { DevcompatClient } from '../client/client.ts';
import { copyKeptDatabase, keptServerEntry, keptServerFlags, loadAverage } from './kept-db.ts';
import { startChild } from './processes.ts';
import { fmt, nowMs, percentile, sleep } from './stats.ts';

const { values } = parseArgs({
  options: {
    db: { type: 'string' },
    runs: { type: 'string', default: '2' },
    reads: { type: 'string', default: '3' },
    writers: { type: 'string', default: '8' },
    server: { type: 'string' },
  },
  strict: true,
});
if (!values.db) throw new Error('--db <file>: a fleet database kept by `npm run bench -- --only sync --keep-db <file>`');
const count = (name: 'runs' | 'reads' | 'writers', max: number): number => {
  const value = Number(values[name]);
  if (!Number.isSafeInteger(value) || value < 1 || value > max) throw new Error(`--${name} must be an integer from 1 to ${max}`);
  return value;
};
const runs = count('runs', 20);
const reads = count('reads', 20);
const writers = count('writers', 64);
const MAX_WRITES_PER_WRITER = 20_000;
const QUIET_MS = 1500;
const entry = keptServerEntry(values.server);

interface Write {
  readonly startMs: number;
  readonly latencyMs: number;
}

const summary = (latencies: number[]): string => {
  latencies.sort((a, b) => a - b);
  return `${latencies.length} writes, p50 ${fmt(percentile(latencies, 50), 1)} ms, p99 ${fmt(percentile(latencies, 99), 1)} ms, max ${fmt(latencies.at(-1) ?? Number.NaN, 1)} ms`;
};

for (let run = 1; run <= runs; run++) {
  const copy = copyKeptDatabase(values.db, 'past-read');
  const load = loadAverage();
  const server = await startChild({ name: 'devcompat server', args: [...entry, ...keptServerFlags(copy.file)], readyMsg: 'devcompat serving', timeoutMs: 600_000 });
  const client = new DevcompatClient({ address: server.address, actor: 'bench' });
  try {
    const writes: Write[] = [];
    let stop = false;
    const t0 = nowMs();
    const writer = async (w: number) => {
      for (let i = 0; !stop && i < MAX_WRITES_PER_WRITER; i++) {
        const startMs = nowMs();
        await client.syncHost({ name: `hosts/past-read-writer-${w}`, labels: { round: String(i) }, devices: [] });
        writes.push({ startMs: startMs - t0, latencyMs: nowMs() - startMs });
      }
    };
    const writing = Promise.all(Array.from({ length: writers }, (_, w) => writer(w)));
    await sleep(QUIET_MS);
    const windows: { revision: number; fromMs: number; toMs: number; devices: number }[] = [];
    for (let revision = 1; revision <= reads; revision++) {
      const fromMs = nowMs() - t0;
      const page = await client.listDevicesPage({ asOfRevision: revision, pageSize: 10 });
      windows.push({ revision, fromMs, toMs: nowMs() - t0, devices: page.devices.length });
      await sleep(1000);
    }
    stop = true;
    await writing;
    console.log(`run ${run} (load ${load}): writes alone, the first ${QUIET_MS / 1000} s: ${summary(writes.filter((w) => w.startMs < QUIET_MS).map((w) => w.latencyMs))}`);
    for (const { revision, fromMs, toMs } of windows) {
      // Every write in flight at some moment of the read.
      const overlapping = writes.filter((w) => w.startMs < toMs && w.startMs + w.latencyMs > fromMs).map((w) => w.latencyMs);
      console.log(`  ListDevices as_of_revision ${revision}: ${fmt(toMs - fromMs)} ms; writes meanwhile: ${summary(overlapping)}`);
    }
  } finally {
    client.close();
    await server.stop();
    copy.remove();
  }
}
