// Failover to a synchronous streaming standby (issue 13). The primary has a standby made with
// pg_basebackup and named in synchronous_standby_names, so every acknowledged write is on
// both. The primary crashes, the standby is promoted, and the address the replicas use (a
// switchable proxy, as a virtual IP or HAProxy would be) points at it: the registry continues
// with its history and chain intact. A database that lacks revisions a replica has already
// served (a copy behind) is refused: the counterpart of the SQLite head anchor.

import test, { type ExecutionContext } from 'ava';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { protoPath as healthProtoPath } from 'grpc-health-check';
import type { SyncHostRequest } from '../../client/client.ts';
import { postgresStore } from '../../server/store/postgres-store.ts';
import { PostgresCluster } from '../helpers/postgres-cluster.ts';
import { startTestServer } from '../helpers/server.ts';
import { TcpProxy } from '../helpers/tcp-proxy.ts';
import { eventually } from '../helpers/watch.ts';

const GPU = (version: string) => ({ vendor: 'nvidia', device_api: 'vfio-pci', type: 'nvidia-a10-4q', software_version: version });
const host = (name: string, version: string) => ({ name, devices: [{ device_id: 'gpu0', descriptor: GPU(version) }] }) as SyncHostRequest;

function healthOf(address: string): () => Promise<string> {
  const definition = protoLoader.loadSync(healthProtoPath, { keepCase: true, enums: String });
  const Health = (grpc.loadPackageDefinition(definition) as any).grpc.health.v1.Health;
  const client = new Health(address, grpc.credentials.createInsecure());
  return () =>
    new Promise((resolve) =>
      client.Check({ service: '' }, (error: Error | null, response: { status: string }) => resolve(error ? 'UNREACHABLE' : response.status)),
    );
}

async function cluster(t: ExecutionContext, make: () => Promise<PostgresCluster>): Promise<PostgresCluster> {
  const created = await make();
  t.teardown(() => created.destroy());
  return created;
}

test('a promoted synchronous standby carries on the registry with its history and chain; a copy behind is refused', async (t) => {
  const primary = await cluster(t, () => PostgresCluster.create());
  const url = await primary.createDatabase();
  const database = new URL(url).pathname.slice(1);
  const standby = await cluster(t, () => PostgresCluster.standbyOf(primary, 'standby1'));
  primary.configure({ synchronous_standby_names: 'standby1' });
  primary.reload();
  await eventually(
    async () => (await primary.sql("SELECT sync_state FROM pg_stat_replication WHERE application_name = 'standby1'"))[0]?.sync_state === 'sync',
    30_000,
    'the standby to be synchronous',
  );

  const proxy = await TcpProxy.start(primary.port);
  t.teardown(() => proxy.close());
  const proxied = `postgres://devcompat@127.0.0.1:${proxy.port}/${database}`;
  const replicas = [
    await startTestServer(t, { store: postgresStore({ url: proxied }) }),
    await startTestServer(t, { store: postgresStore({ url: proxied }) }),
  ];
  const acknowledged: number[] = [];
  for (let i = 0; i < 5; i++) acknowledged.push(Number((await replicas[i % 2].client.syncHost(host(`h${i % 4}`, `1.${i}.0`))).revision));
  // A copy taken now and promoted at once: an independent database that stays at revision 5.
  const behind = await cluster(t, () => PostgresCluster.standbyOf(primary, 'behind'));
  behind.promote();
  for (let i = 5; i < 20; i++) acknowledged.push(Number((await replicas[i % 2].client.syncHost(host(`h${i % 4}`, `1.${i}.0`))).revision));
  const headBefore = replicas[1].server.registry.headHash;

  // The primary crashes; the synchronous standby has every acknowledged write.
  primary.stop('immediate');
  standby.promote();
  proxy.switchTo(standby.port);
  const health = replicas.map((replica) => healthOf(replica.server.address));
  for (const check of health) await eventually(async () => (await check()) === 'SERVING', 30_000, 'SERVING on the promoted standby');

  for (let i = 20; i < 30; i++) acknowledged.push(Number((await replicas[i % 2].client.syncHost(host(`h${i % 4}`, `1.${i}.0`))).revision));
  // One sequence across the failover: 1..30, no gap, no duplicate.
  t.deepEqual([...acknowledged].sort((a, b) => a - b), Array.from({ length: 30 }, (_, i) => i + 1));
  for (const replica of replicas) {
    await replica.server.registry.catchUp();
    t.is(replica.server.registry.revision, 30);
    const verified = await replica.server.registry.verifyHistory(headBefore);
    // Verified against the head served before the failover: it must be in the chain.
    t.is(verified.broken, undefined, 'the chain verifies whole on the promoted standby, through the head served before');
    t.true(verified.intact);
    t.is(verified.headRevision, 30);
  }

  // Pointing the replicas at the copy that stopped at revision 5: they have served revision
  // 30, so they refuse it rather than serve a registry that forgot acknowledged writes.
  const failures = replicas.map(
    (replica) => new Promise<void>((resolve) => replica.server.registry.catchUp().then(() => undefined, () => resolve())),
  );
  proxy.switchTo(behind.port);
  for (const check of health) await eventually(async () => (await check()) !== 'SERVING', 30_000, 'the replicas to stop serving');
  const refused = await replicas[0].client.syncHost(host('h-after', '9.0.0')).catch((error: Error) => error);
  t.true(refused instanceof Error, 'no write is accepted on a database behind');
  await Promise.all(failures);
  const rows = await behind.sql('SELECT revision FROM registry_head', database);
  t.is(rows[0].revision, '5', 'and nothing was written to it');
});
