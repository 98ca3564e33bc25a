// The SQLite store's write path alone, in process: the benchmark fleet's registration committed
// straight into a SqliteStore (no server, no gRPC, no worker thread), in batches like the
// server's group commit makes under load, so that a change of the storage layout can be measured
// and compared between two checkouts on one machine:
//
//   npx tsx bench/store-write.ts [--hosts 10000] [--batch 32] [--durability full|relaxed] [--keep <file>] [--writes-only]
//
// Each host is one revision, as a SyncHost is: its host entry and one CREATED entry per device,
// the host and device rows, and new descriptors in the batch that first uses them. Prints the
// wall time of the commits, the CPU time of the process over them (the store is synchronous, so
// this is the store's CPU, the batches' construction excluded; since the SQLite store encodes each
// batch (commit-encoding.ts), which the server does on its main thread, that is included; label
// sets are shared objects, as the server's live state shares them), and the database's size (file
// after closing, which checkpoints the WAL). Then the reads history serves, on the same file, so
// that a layout that writes faster is seen not to read slower: re-opening the store (migrations,
// the start-up chain check of the newest 10,000 entries), the whole chain verified in the audit's
// chunks of 5,000, the history listed in the watch catch-up's pages of 1,000, one host's and one
// device's history, and each resource's first change after revision 0 and after the middle one
// (a point-in-time read). The database goes in a temp folder, removed afterwards unless --keep.

import { copyFileSync, existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { historyQuery, type CommitBatch, type DeviceRecord, type HistoryRecord, type HostRecord, type StoredDescriptor } from '../server/core/store.ts';
import { GENESIS_HASH } from '../server/store/history-chain.ts';
import { SqliteStore } from '../server/store/sqlite-store.ts';
import { canonicalDescriptorJson } from './fleet-census.ts';
import { generateFleet, type FleetHost } from './fleet.ts';

const { values } = parseArgs({
  options: {
    hosts: { type: 'string', default: '10000' },
    batch: { type: 'string', default: '32' },
    durability: { type: 'string', default: 'full' },
    keep: { type: 'string' },
    'writes-only': { type: 'boolean', default: false },
  },
  strict: true,
});
const hosts = Number(values.hosts);
const perBatch = Number(values.batch);
if (!Number.isSafeInteger(hosts) || hosts < 1 || hosts > 200_000) throw new Error('--hosts must be an integer from 1 to 200000');
if (!Number.isSafeInteger(perBatch) || perBatch < 1 || perBatch > 1000) throw new Error('--batch must be an integer from 1 to 1000');
if (values.durability !== 'full' && values.durability !== 'relaxed') throw new Error('--durability must be full or relaxed');
const durability = values.durability;

const ACTOR = 'agent';
const START_MS = 1_764_000_000_000;

/** The batches of the fleet's registration, built before anything is timed. */
function registrationBatches(): CommitBatch[] {
  const descriptorIds = new Map<string, number>();
  // Equal label sets are one object, as the server's live state shares them (live-state.ts intern).
  const labelSets = new Map<string, FleetHost['labels']>();
  const shared = <L extends FleetHost['labels']>(labels: L): L => {
    const key = JSON.stringify(labels);
    const known = labelSets.get(key);
    if (known) return known as L;
    labelSets.set(key, labels);
    return labels;
  };
  const batches: CommitBatch[] = [];
  let revision = 0;
  let pending: FleetHost[] = [];
  const flush = () => {
    const newDescriptors: StoredDescriptor[] = [];
    const hostUpserts: HostRecord[] = [];
    const deviceUpserts: DeviceRecord[] = [];
    const history: HistoryRecord[] = [];
    for (const fleetHost of pending) {
      revision++;
      const time = START_MS + revision;
      const host: HostRecord = {
        hostId: fleetHost.host_id,
        labels: fleetHost.labels,
        revision,
        createRevision: revision,
        createTime: time,
        updateTime: time,
        lastSyncTime: time,
        reachable: true,
        draining: false,
      };
      hostUpserts.push(host);
      let seq = 0;
      const entry = (deviceId: string, after: HistoryRecord['after']) =>
        history.push({ revision, seq: seq++, time, hostId: host.hostId, deviceId, change: 'CREATED', actor: ACTOR, reason: '', before: undefined, after });
      entry('', { kind: 'host', host });
      for (const device of fleetHost.devices) {
        const key = canonicalDescriptorJson(device.descriptor);
        let id = descriptorIds.get(key);
        if (id === undefined) {
          id = descriptorIds.size + 1;
          descriptorIds.set(key, id);
          newDescriptors.push({ id, key });
        }
        const record: DeviceRecord = {
          hostId: host.hostId,
          deviceId: device.device_id,
          descriptorId: id,
          capacity: device.capacity,
          labels: shared(device.labels),
          revision,
          createRevision: revision,
          createTime: time,
          updateTime: time,
        };
        deviceUpserts.push(record);
        entry(device.device_id, { kind: 'device', device: record });
      }
    }
    batches.push({ newDescriptors, hostUpserts, hostDeletes: [], deviceUpserts, deviceDeletes: [], history, syncTouches: [], leases: [] });
    pending = [];
  };
  for (const fleetHost of generateFleet({ hosts, seed: 1 })) {
    pending.push(fleetHost);
    if (pending.length === perBatch) flush();
  }
  if (pending.length > 0) flush();
  return batches;
}

const batches = registrationBatches();
const entries = batches.reduce((sum, batch) => sum + batch.history.length, 0);
const dir = mkdtempSync(path.join(os.tmpdir(), 'devcompat-store-write-'));
const dbPath = path.join(dir, 'registry.db');
try {
  const store = new SqliteStore({ path: dbPath, durability });
  const cpuBefore = process.cpuUsage();
  const started = process.hrtime.bigint();
  for (const batch of batches) store.commit(batch);
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
  const cpu = process.cpuUsage(cpuBefore);
  store.close();
  // Closing checkpoints the WAL into the file: its size is then the database's.
  const size = (file: string) => (existsSync(file) ? statSync(file).size : 0);
  const fileBytes = size(dbPath);
  const walBytes = size(`${dbPath}-wal`);
  const mb = (bytes: number) => (bytes / 1e6).toFixed(1);
  console.log(
    `store-write: ${hosts} hosts, ${entries} history entries, ${batches.length} batches of ${perBatch} hosts, durability ${durability}`,
  );
  console.log(
    `  commits ${(wallMs / 1000).toFixed(2)} s wall, ${((cpu.user + cpu.system) / 1e6).toFixed(2)} s CPU ` +
      `(user ${(cpu.user / 1e6).toFixed(2)}, system ${(cpu.system / 1e6).toFixed(2)}); ` +
      `database ${mb(fileBytes)} MB + WAL ${mb(walBytes)} MB = ${mb(fileBytes + walBytes)} MB`,
  );
  if (values.keep) copyFileSync(dbPath, values.keep);
  if (!values['writes-only']) reads(dbPath, batches);
} finally {
  rmSync(dir, { recursive: true, force: true });
}

/** Times `run` (wall ms); returns its result. */
function timed<T>(label: string, run: () => T, describe: (result: T) => string): T {
  const started = process.hrtime.bigint();
  const result = run();
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  console.log(`  ${label.padEnd(44)} ${ms.toFixed(0).padStart(6)} ms  ${describe(result)}`);
  return result;
}

function reads(file: string, written: readonly CommitBatch[]): void {
  const head = written.at(-1)!.history.at(-1)!;
  const host = written[Math.floor(written.length / 2)].history[0];
  const device = written[Math.floor(written.length / 2)].history[3];
  console.log('reads:');
  const store = timed('re-open (start-up chain check: 10,000)', () => new SqliteStore({ path: file, durability }), (s) => `${s.startup.checkedEntries} entries checked`);
  try {
    timed(
      'verify the whole chain (chunks of 5,000)',
      () => {
        let after: { revision: number; seq: number } | undefined;
        let prevHash = GENESIS_HASH;
        let checked = 0;
        for (;;) {
          const walk = store.verifyChain({ after, prevHash, limit: 5000, expectedHead: undefined });
          checked += walk.checked;
          if (walk.broken) throw new Error(walk.broken.description);
          if (!walk.last || walk.checked < 5000) return checked;
          after = { revision: walk.last.revision, seq: walk.last.seq };
          prevHash = walk.last.hash;
        }
      },
      (checked) => `${checked} entries`,
    );
    timed(
      'list all history (pages of 1,000)',
      () => {
        let listed = 0;
        let after: { revision: number; seq: number } | undefined;
        for (;;) {
          const page = store.listHistory(historyQuery({ after, limit: 1000 }));
          listed += page.length;
          if (page.length < 1000) return listed;
          after = { revision: page.at(-1)!.revision, seq: page.at(-1)!.seq };
        }
      },
      (listed) => `${listed} entries`,
    );
    timed("one host's history, newest first", () => store.listHistory(historyQuery({ hostId: host.hostId, newestFirst: true, limit: 100 })), (page) => `${page.length} entries`);
    timed(
      "one device's history",
      () => store.listHistory(historyQuery({ hostId: device.hostId, deviceId: device.deviceId, limit: 100 })),
      (page) => `${page.length} entries`,
    );
    timed('first changes after revision 0 (all)', () => store.firstChangesAfter({ revision: 0 }), (first) => `${first.length} resources`);
    timed('first changes after the middle revision', () => store.firstChangesAfter({ revision: host.revision }), (first) => `${first.length} resources`);
    timed(
      "one device's first change after revision 0",
      () => store.firstChangesAfter({ revision: 0, hostId: device.hostId, deviceId: device.deviceId }),
      (first) => `${first.length} entry`,
    );
    timed(
      'the last entry, by the cursor before it',
      () => store.listHistory(historyQuery({ after: { revision: head.revision, seq: head.seq - 1 }, limit: 10 })),
      (page) => `${page.length} entry`,
    );
  } finally {
    store.close();
  }
}
