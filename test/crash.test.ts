// A crash must never lose an acknowledged write: the server process is killed with SIGKILL
// while syncs are in flight, and a server restarted on the same file must hold every write
// that was acknowledged, and each unacknowledged one either whole or not at all.

import test from 'ava';
import path from 'node:path';
import { DevcompatClient, DevcompatError, type SyncHostRequest } from '../client/client.ts';
import { spawnServer } from './helpers/process.ts';
import { startTestServer, tempDir } from './helpers/server.ts';

const HOSTS = 400;
const IN_FLIGHT = 32;
const KILL_AFTER_ACKS = 150;

function hostRequest(index: number): SyncHostRequest {
  return {
    name: `hosts/crash-${String(index).padStart(4, '0')}`,
    labels: { batch: 'crash' },
    devices: Array.from({ length: 4 }, (_, slot) => ({
      device_id: `0000:3b:00.${slot}`,
      descriptor: {
        vendor: '15b3',
        device_api: 'vfio-pci',
        type: 'mlx5_vfio_pci',
        software_version: `1.${index % 3}.0`,
        attributes: { psid: { string_value: 'MT_0000000223' }, firmware: { version_value: '28.41.1000' } },
        rules: {},
      },
      capacity: { total: 1, available: slot % 2 },
    })),
  };
}

test('every acknowledged sync survives a SIGKILL of the server', async (t) => {
  const dir = tempDir(t);
  const dbPath = path.join(dir, 'crash.db');
  const server = await spawnServer(['--db', dbPath, '--address', '127.0.0.1:0', '--durability', 'full']);
  t.teardown(() => {
    server.child.kill('SIGKILL');
  });
  const client = new DevcompatClient({ address: server.address, retry: { maxAttempts: 1 }, deadlineMs: 10_000 });
  t.teardown(() => client.close());

  const acknowledged = new Map<string, string>(); // host name -> revision acknowledged
  let next = 0;
  let killed = false;
  const worker = async () => {
    while (next < HOSTS && !killed) {
      const request = hostRequest(next++);
      try {
        const response = await client.syncHost(request);
        acknowledged.set(request.name, response.revision);
        if (acknowledged.size >= KILL_AFTER_ACKS && !killed) {
          killed = true;
          server.child.kill('SIGKILL');
        }
      } catch (error) {
        // After the kill, calls in flight fail: they were never acknowledged.
        t.true(killed, `a sync failed before the kill: ${(error as DevcompatError).message}`);
      }
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  const exit = await server.exited;
  t.is(exit.signal, 'SIGKILL');
  t.true(acknowledged.size >= KILL_AFTER_ACKS);

  const restarted = await startTestServer(t, { dbPath, dir });
  for (const [name, revision] of acknowledged) {
    const host = await restarted.client.getHost(name);
    t.is(host.device_count, 4, `${name} lost devices`);
    t.is(host.revision, revision, `${name} is not at its acknowledged revision`);
  }
  // Unacknowledged writes (in flight at the kill) are all or nothing.
  const all = [];
  for await (const host of restarted.client.listHosts()) all.push(host);
  for (const host of all) t.is(host.device_count, 4, `${host.name} was stored in part`);
  // The revision sequence goes on where it stopped, with no gap: one revision per host stored.
  const after = await restarted.client.syncHost(hostRequest(HOSTS + 1));
  t.is(Number(after.revision), all.length + 1);
});
