// Where the server's bytes per device go (issue 7: under 400 bytes per device). In this
// process, the real server (startServer, SQLite in its worker thread, a database in a temp
// dir); from a child process, the bench's fleet (bench/fleet.ts) registered through the real
// gRPC path with the same encoded SyncHost requests the bench sends, in steps of fleet size.
// After each step the memory is read as the sync left it, then again once the garbage is
// collected (here and in the storage worker). The slope between two steps is what each added
// device costs: the server's start-up, modules and buffers cancel out.
//
//   npx tsx bench/memory-per-device.ts [--sizes 2500,10000] [--snapshot <dir>] [--restart]
//
// (it re-runs itself with --expose-gc). --snapshot writes a heap snapshot after each step and
// prints what the added devices keep by kind of object and by holder (bench/heap-summary.ts);
// writing a snapshot inflates the process's RSS, so read RSS from a run without it.
// --restart then starts a second server on the same file (a restart's load, not the syncs'
// records) and reads its memory the same way.

import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import v8 from 'node:v8';
import { pino } from 'pino';
import { startServer, type RunningServer } from '../server/server.ts';
import { WorkerStore, type WorkerMemory } from '../server/store/worker-store.ts';
import { encodeSyncRequests, syncFleet } from './load.ts';
import { summarizeHeapSnapshot, type HeapSummary } from './heap-summary.ts';
import { fmt, textTable } from './stats.ts';

// The load generator: a child process (`--sync-client <address> --from N --sizes M`), so that
// its requests and buffers are in neither the readings nor the server's RSS.
const client = process.argv.indexOf('--sync-client');
if (client !== -1) {
  const { values: c } = parseArgs({
    args: process.argv.slice(client),
    options: { 'sync-client': { type: 'string' }, from: { type: 'string' }, to: { type: 'string' }, seed: { type: 'string' }, 'in-flight': { type: 'string' } },
    strict: true,
  });
  const encoded = encodeSyncRequests({ hosts: Number(c.to), seed: Number(c.seed) }).slice(Number(c.from));
  const result = await syncFleet(c['sync-client']!, encoded, { hosts: encoded.length, inFlight: Number(c['in-flight']), timeoutS: 1800 });
  process.stdout.write(JSON.stringify(result));
  process.exit(result.failures > 0 || result.timedOut ? 1 : 0);
}

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) {
  const child = spawnSync(process.execPath, ['--expose-gc', ...process.execArgv, ...process.argv.slice(1)], { stdio: 'inherit' });
  process.exit(child.status ?? 1);
}

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '2500,10000' },
    seed: { type: 'string', default: '1' },
    'in-flight': { type: 'string', default: '64' },
    snapshot: { type: 'string' },
    restart: { type: 'boolean', default: false },
    holders: { type: 'string', default: '2' },
  },
  strict: true,
});
const sizes = String(values.sizes).split(',').map(Number);
if (sizes.some((n, i) => !Number.isSafeInteger(n) || n < 1 || (i > 0 && n <= sizes[i - 1]))) {
  throw new Error(`--sizes must be increasing host counts, got ${values.sizes}`);
}
const seed = Number(values.seed);
const inFlight = Number(values['in-flight']);
const MB = 1024 * 1024;

interface Reading {
  readonly hosts: number;
  readonly devices: number;
  /** RSS as the sync left it, before this reading collected the garbage. */
  readonly rssBeforeGc: number;
  readonly heapUsedBeforeGc: number;
  readonly heapUsed: number;
  readonly heapTotal: number;
  readonly external: number;
  readonly arrayBuffers: number;
  readonly rss: number;
  readonly worker: WorkerMemory;
  readonly snapshot?: string;
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'devcompat-memory-'));
const dbPath = path.join(dir, 'fleet.db');
let store: WorkerStore | undefined;

async function serve(): Promise<RunningServer> {
  return startServer({
    dbPath,
    address: '127.0.0.1:0',
    logger: pino({ level: 'silent' }),
    // A day: no lease lapses while the fleet sits idle between steps.
    leaseTtlMs: 86_400_000,
    store: async () => (store = await WorkerStore.open({ path: dbPath, durability: 'full' }, { readAhead: true })),
  });
}

/** Registers hosts [from, to) of the fleet from a child process; the devices it sent. */
function syncFrom(address: string, from: number, to: number): Promise<{ devices: number; seconds: number }> {
  const args = [...process.execArgv.filter((a) => a !== '--expose-gc'), process.argv[1], '--sync-client', address, '--from', String(from), '--to', String(to), '--seed', String(seed), '--in-flight', String(inFlight)];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code !== 0) reject(new Error(`the sync client failed (exit code ${code}): ${out}`));
      else resolve(JSON.parse(out) as { devices: number; seconds: number });
    });
  });
}

/** Memory as found, then after collecting garbage (repeated, a turn of the event loop between, until it settles). */
async function measure(hosts: number, devices: number, snapshotName?: string): Promise<Reading> {
  const found = process.memoryUsage();
  let last = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 6; i++) {
    await new Promise((resolve) => setImmediate(resolve));
    gc!();
    const used = process.memoryUsage().heapUsed;
    if (Math.abs(last - used) < 64 * 1024) break;
    last = used;
  }
  const worker = await store!.workerMemory(true);
  const { heapUsed, heapTotal, external, arrayBuffers, rss } = process.memoryUsage();
  const snapshot = snapshotName && values.snapshot ? v8.writeHeapSnapshot(path.join(path.resolve(values.snapshot), snapshotName)) : undefined;
  return { hosts, devices, rssBeforeGc: found.rss, heapUsedBeforeGc: found.heapUsed, heapUsed, heapTotal, external, arrayBuffers, rss, worker, snapshot };
}

const mb = (bytes: number) => fmt(bytes / MB, 1);
const perDevice = (bytes: number, devices: number) => (devices > 0 ? fmt(bytes / devices) : '-');

function table(readings: readonly Reading[]): string {
  const rows = readings.map((r, i) => {
    const before = readings[i - 1];
    const added = before ? r.devices - before.devices : 0;
    const cell = (field: (x: Reading) => number) => `${mb(field(r))} (${before ? perDevice(field(r) - field(before), added) : '-'})`;
    return [
      r.hosts === 0 ? 'started' : `${fmt(r.hosts)} hosts`,
      fmt(r.devices),
      cell((x) => x.heapUsedBeforeGc),
      cell((x) => x.rssBeforeGc),
      cell((x) => x.heapUsed),
      cell((x) => x.heapTotal),
      cell((x) => x.external),
      cell((x) => x.arrayBuffers),
      cell((x) => x.worker.heapUsed),
      cell((x) => x.rss),
    ];
  });
  return textTable(
    ['after', 'devices', 'heapUsed as found', 'rss as found', 'heapUsed', 'heapTotal', 'external', 'arrayBuffers', 'worker heapUsed', 'rss'],
    rows,
    ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
  );
}

function printGrowth(from: HeapSummary, to: HeapSummary, devices: number, holders: number): void {
  const before = new Map(from.kinds.map((k) => [k.kind, k]));
  const growth = to.kinds
    .map((k) => ({ kind: k, bytes: k.bytes - (before.get(k.kind)?.bytes ?? 0), count: k.count - (before.get(k.kind)?.count ?? 0) }))
    .filter((g) => g.bytes / devices >= 1)
    .sort((a, b) => b.bytes - a.bytes);
  console.log(
    `\nheap snapshots: ${fmt((to.totalBytes - from.totalBytes) / devices)} bytes of objects per added device ` +
      `(${mb(from.totalBytes)} → ${mb(to.totalBytes)} MB); by kind, with the holders in the larger snapshot:`,
  );
  console.log(
    textTable(
      ['kind', 'B/device', 'objects/device', 'held by (share of the kind)'],
      growth.slice(0, 25).map((g) => [
        g.kind.kind,
        fmt(g.bytes / devices, 1),
        fmt(g.count / devices, 2),
        g.kind.heldBy
          .slice(0, holders)
          .map((h) => `${h.holder} ${fmt((100 * h.bytes) / g.kind.bytes)}%`)
          .join('; '),
      ]),
      ['l', 'r', 'r', 'l'],
    ),
  );
}

/** The fleet registered step by step into one server; closed at the end. */
async function growingFleet(): Promise<Reading[]> {
  const server = await serve();
  try {
    console.log(`server on ${server.address}, database ${dbPath}; load average ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
    const readings: Reading[] = [await measure(0, 0, 'started.heapsnapshot')];
    let synced = 0;
    let devices = 0;
    for (const hosts of sizes) {
      const result = await syncFrom(server.address, synced, hosts);
      synced = hosts;
      devices += result.devices;
      console.log(`synced ${fmt(hosts)} hosts (${fmt(devices)} devices; this step ${fmt(result.seconds, 1)} s)`);
      readings.push(await measure(hosts, devices, `hosts-${hosts}.heapsnapshot`));
    }
    const stats = server.registry.stats;
    console.log(`registry: ${fmt(stats.hosts)} hosts, ${fmt(stats.devices)} devices, ${fmt(stats.descriptors)} descriptors`);
    return readings;
  } finally {
    await server.close();
  }
}

/** A second server on the same file: what a restart's load keeps. */
async function restarted(hosts: number, devices: number): Promise<Reading> {
  const server = await serve();
  try {
    return await measure(hosts, devices, 'restarted.heapsnapshot');
  } finally {
    await server.close();
  }
}

try {
  const readings = await growingFleet();
  console.log(`\nmemory (MB; bytes per added device in parentheses), as the sync left it and after collecting garbage:\n${table(readings)}`);
  const last = readings[readings.length - 1];
  if (values.restart) {
    const again = await restarted(last.hosts, last.devices);
    console.log(`\nafter a restart on the same file:\n${table([readings[0], again])}`);
  }
  const snapshots = readings.filter((r) => r.snapshot);
  if (snapshots.length >= 3) {
    const [from, to] = [snapshots[1], snapshots[snapshots.length - 1]];
    const holders = Number(values.holders);
    printGrowth(summarizeHeapSnapshot(from.snapshot!, { holders }), summarizeHeapSnapshot(to.snapshot!, { holders }), to.devices - from.devices, holders);
    console.log(`snapshots in ${path.resolve(values.snapshot!)}`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
