// CPU per revision of the watch feed's encoding, in process (no server, no network): the
// revisions of the watch phase (one device's capacity changed per sync, on hosts of 16 devices
// with a descriptor of the fleet's size: attributes and rules), encoded as the feed encodes them
// (server/grpc/watch-encoding.ts) and as proto-loader objects encoded whole with protobufjs
// (`fromObject` + `encode`, the encoding before it), alternated in rounds, CPU time of this
// process (process.cpuUsage) per revision.
//
//   npx tsx bench/watch-encoding.ts [--revisions 5000] [--rounds 5]

import { parseArgs } from 'node:util';
import { ManualClock } from '../server/core/clock.ts';
import { Registry } from '../server/core/registry.ts';
import { validateSyncHost } from '../server/core/resources.ts';
import { WatchHub, type WatchDelivery } from '../server/core/watch-hub.ts';
import { encodeDelivery } from '../server/grpc/watch-encoding.ts';
import { MemoryStore } from '../server/store/memory-store.ts';
import { referenceEncoding } from '../test/helpers/watch-reference.ts';

const { values } = parseArgs({ options: { revisions: { type: 'string', default: '5000' }, rounds: { type: 'string', default: '5' } } });
const revisions = Number(values.revisions);
const rounds = Number(values.rounds);

const DESCRIPTOR = {
  vendor: 'nvidia',
  device_api: 'vfio-pci',
  type: 'nvidia-a10-8q',
  software_version: '535.104.5',
  compatible_types: ['nvidia-a10-4q'],
  attributes: {
    pci_ids: { set_value: { values: ['2236', '2237'] } },
    framebuffer_mb: { int_value: 8192 },
    manager: { version_value: '535.104.5' },
    mig: { bool_value: false },
  },
  rules: { pci_ids: { op: 'COMPARE_OP_SUPERSET', values: [] }, manager: { op: 'COMPARE_OP_SEMVER_RANGE', range: '^535.0.0' } },
};

const sync = (host: number, changed: number, round: number) =>
  validateSyncHost({
    name: `hosts/h${host}`,
    labels: { rack: `r${host % 40}`, zone: 'z1' },
    devices: Array.from({ length: 16 }, (_, d) => ({
      device_id: `gpu${d}`,
      descriptor: DESCRIPTOR as never,
      capacity: { total: 4, available: d === changed && round % 2 ? 3 : 4 },
    })),
  });

const store = new MemoryStore();
const registry = await Registry.open(store, { clock: new ManualClock(), leaseTtlMs: 3_600_000 });
const hub = new WatchHub(registry, new ManualClock());
const deliveries: WatchDelivery[] = [];
hub.open(
  { startRevision: undefined, filter: { hostId: undefined, vendor: undefined, deviceApi: undefined, type: undefined }, progressIntervalMs: 3_600_000 },
  { deliver: (d) => (deliveries.push(d), 'ready'), progress: () => {}, drained: () => Promise.resolve(), fail: () => {} },
);
const hosts = 200;
for (let h = 0; h < hosts; h++) await registry.syncHost(sync(h, 0, 0), { actor: 'bench', reason: '' });
deliveries.length = 0;
for (let i = 0; i < revisions; i++) await registry.syncHost(sync(i % hosts, (i * 7) % 16, 1 + Math.floor(i / hosts)), { actor: 'bench', reason: '' });

const loaderObjects = (delivery: WatchDelivery) => referenceEncoding(delivery, registry);
const feed = (delivery: WatchDelivery) => encodeDelivery(delivery, registry);

function cpuPerRevisionUs(encode: (d: WatchDelivery) => Buffer): { us: number; bytes: number } {
  const start = process.cpuUsage();
  let bytes = 0;
  for (const delivery of deliveries) bytes += encode(delivery).length;
  const used = process.cpuUsage(start);
  return { us: (used.user + used.system) / deliveries.length, bytes: bytes / deliveries.length };
}

console.log(`${deliveries.length} revisions of one device change each (${deliveries[0].events.length} event per revision)`);
cpuPerRevisionUs(loaderObjects);
cpuPerRevisionUs(feed); // warm-up
for (let round = 0; round < rounds; round++) {
  const before = cpuPerRevisionUs(loaderObjects);
  const after = cpuPerRevisionUs(feed);
  console.log(
    `round ${round + 1}: loader objects ${before.us.toFixed(1)} µs/revision (${before.bytes.toFixed(0)} B), watch-encoding.ts ${after.us.toFixed(1)} µs/revision (${after.bytes.toFixed(0)} B)`,
  );
}
hub.close();
await registry.close();
