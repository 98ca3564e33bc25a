// Leases with replicas over PostgreSQL (issue 13): one replica holds the expiry duty (a
// PostgreSQL advisory lock), keepalives received by any replica reach it (renewals persisted
// about once a second), so a host kept alive through one replica is not expired by another,
// and a silent host is expired once, not once per replica.

import test from 'ava';
import type { SyncHostRequest } from '../../client/client.ts';
import { historyQuery } from '../../server/core/store.ts';
import { postgresStore } from '../../server/store/postgres-store.ts';
import { testDatabase } from '../helpers/postgres.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';
import pg from 'pg';
import { eventually } from '../helpers/watch.ts';

const host = (name: string) =>
  ({ name, devices: [{ device_id: 'gpu0', descriptor: { vendor: 'nvidia', device_api: 'vfio-pci', type: 'a10', software_version: '1.0.0' } }] }) as SyncHostRequest;

test('a host kept alive through any replica stays READY; a silent one lapses once, whichever replica holds the duty', async (t) => {
  const url = await testDatabase(t);
  const ttl = 2_000;
  const replicas: TestServer[] = [];
  for (let i = 0; i < 3; i++) replicas.push(await startTestServer(t, { store: postgresStore({ url }), leaseTtlMs: ttl }));
  await replicas[0].client.syncHost(host('kept'));
  await replicas[0].client.syncHost(host('silent'));
  // 'kept' sends its keepalives to the last replica only.
  const keeper = replicas[2].client.keepAlive();
  t.teardown(() => keeper.close());
  await replicas[2].server.registry.catchUp();
  keeper.hold('hosts/kept');

  const lapses = async () =>
    (await replicas[0].server.registry.listHistory(historyQuery({ limit: 1000 }))).filter(
      (entry) => entry.after?.kind === 'host' && !entry.after.host.reachable,
    );
  await eventually(async () => (await lapses()).length > 0, 20_000, 'the silent host to lapse');
  // Until the kept host's renewals, persisted by the replica it talks to, reach three TTLs past
  // the lapse: every replica has had the time to expire it, or the silent host again, if it would.
  const lapsedAt = (await lapses())[0].time;
  const db = new pg.Client({ connectionString: url });
  // Heard, so that the cluster stopping at teardown (57P01 on an idle connection) cannot end the test process.
  db.on('error', () => undefined);
  await db.connect();
  t.teardown(() => db.end());
  const keptExpiry = async () => Number((await db.query("SELECT lease_expire_ms FROM hosts WHERE host_id = 'kept'")).rows[0].lease_expire_ms);
  await eventually(async () => (await keptExpiry()) > lapsedAt + 3 * ttl, 30_000, 'renewals three TTLs past the lapse');
  const recorded = await lapses();
  t.deepEqual(recorded.map((entry) => entry.hostId), ['silent'], 'one lapse, of the silent host only');
  for (const replica of replicas) {
    await replica.server.registry.catchUp();
    t.true(replica.server.registry.getHost('kept').record.reachable, 'the kept host is READY on every replica');
    t.false(replica.server.registry.getHost('silent').record.reachable);
  }
});
