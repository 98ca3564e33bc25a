// `npx tsx bench/sizing.ts [hosts]`: bytes on disk per device and per history entry, for
// docs/operations.md (Sizing). Seeds a fresh SQLite registry with `hosts` hosts (the NVIDIA and
// GVT example hosts of test/fixtures/cli, alternately), takes a backup (VACUUM INTO: the size
// without free pages), then re-syncs every host with a changed label five times (one history
// entry per host per round) and takes another: the difference over the entries added is the
// cost of an entry; the first size over the devices is the cost of a device with its history.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DevcompatClient } from '../client/client.ts';
import { startServer } from '../server/server.ts';

const hosts = Number(process.argv[2] ?? 500);
const dir = mkdtempSync(path.join(tmpdir(), 'devcompat-sizing-'));
const server = await startServer({ dbPath: path.join(dir, 'r.db'), address: '127.0.0.1:0', leaseTtlMs: 3_600_000 });
const client = new DevcompatClient({ address: server.address, actor: 'sizing' });
const specs = ['nvidia-host.json', 'gvt-host.json'].map((file) => JSON.parse(readFileSync(path.join('test/fixtures/cli', file), 'utf8')));
let devices = 0;
const sync = async (round: number) => {
  let entries = 0;
  for (let i = 0; i < hosts; i++) {
    const spec = specs[i % 2];
    await client.syncHost({ ...spec, name: `hosts/h${i}`, labels: { ...(spec.labels ?? {}), round: String(round) } });
    entries++;
    if (round === 0) devices += spec.devices.length;
  }
  return entries;
};
await sync(0);
const first = await client.backup(path.join(dir, 'b0.db'));
let updates = 0;
for (let round = 1; round <= 5; round++) updates += await sync(round);
const second = await client.backup(path.join(dir, 'b1.db'));
const entries = Number((await client.verifyHistory()).entries_checked);
console.log(JSON.stringify({ hosts, devices, sizeAfterSeed: Number(first.size_bytes), bytesPerDevice: Math.round(Number(first.size_bytes) / devices), hostUpdates: updates, historyEntriesNow: entries, bytesPerHostUpdateEntry: Math.round((Number(second.size_bytes) - Number(first.size_bytes)) / updates) }));
client.close();
await server.close();
rmSync(dir, { recursive: true, force: true });
