// What replicas over PostgreSQL do when things fail (issue 13), each test on its own
// throwaway cluster: a replica killed with SIGKILL during writes loses no acknowledged write;
// a PostgreSQL restart during writes turns the replicas NOT_SERVING and back to SERVING by
// themselves, and nothing acknowledged is lost.

import test, { type ExecutionContext } from 'ava';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { protoPath as healthProtoPath } from 'grpc-health-check';
import { DevcompatClient, type SyncHostRequest } from '../../client/client.ts';
import { historyQuery } from '../../server/core/store.ts';
import type { RunningServer } from '../../server/server.ts';
import { postgresStore } from '../../server/store/postgres-store.ts';
import { PostgresCluster } from '../helpers/postgres-cluster.ts';
import { spawnServer } from '../helpers/process.ts';
import { startTestServer } from '../helpers/server.ts';
import { eventually } from '../helpers/watch.ts';

const GPU = (version: string) => ({ vendor: 'nvidia', device_api: 'vfio-pci', type: 'nvidia-a10-4q', software_version: version });
const host = (name: string, version: string) => ({ name, devices: [{ device_id: 'gpu0', descriptor: GPU(version) }] }) as SyncHostRequest;

async function cluster(t: ExecutionContext): Promise<PostgresCluster> {
  const created = await PostgresCluster.create();
  t.teardown(() => created.destroy());
  return created;
}

function healthOf(address: string): () => Promise<string> {
  const definition = protoLoader.loadSync(healthProtoPath, { keepCase: true, enums: String });
  const Health = (grpc.loadPackageDefinition(definition) as any).grpc.health.v1.Health;
  const client = new Health(address, grpc.credentials.createInsecure());
  return () =>
    new Promise((resolve, reject) =>
      client.Check({ service: '' }, (error: Error | null, response: { status: string }) => (error ? reject(error) : resolve(response.status))),
    );
}

/** Every (host, version) a replica's history holds, once it has caught up with the database. */
async function writtenVersions(server: RunningServer): Promise<Set<string>> {
  await server.registry.catchUp();
  const seen = new Set<string>();
  for (const entry of await server.registry.listHistory(historyQuery({ limit: 100_000 }))) {
    if (entry.after?.kind !== 'device') continue;
    const version = (JSON.parse(server.registry.descriptorById(entry.after.device.descriptorId).key) as { software_version: string }).software_version;
    seen.add(`${entry.hostId}@${version}`);
  }
  return seen;
}

test('SIGKILL of a replica during writes loses no acknowledged write; the other replica serves them all', async (t) => {
  const pg = await cluster(t);
  const url = await pg.createDatabase();
  const victim = await spawnServer(['--store', url, '--address', '127.0.0.1:0']);
  t.teardown(() => victim.child.kill('SIGKILL'));
  const survivor = await startTestServer(t, { store: postgresStore({ url }) });
  const victimClient = new DevcompatClient({ address: victim.address, retry: { maxAttempts: 1 } });
  t.teardown(() => victimClient.close());

  const acknowledged: string[] = [];
  let killed = false;
  const writer = async (w: number) => {
    for (let i = 0; i < 40 && !killed; i++) {
      const name = `w${w}`;
      const version = `1.${i}.0`;
      const through = i % 2 === 0 ? victimClient : survivor.client;
      try {
        await through.syncHost(host(name, version));
        acknowledged.push(`${name}@${version}`);
      } catch {
        // Cut off by the kill: not acknowledged, may or may not have landed.
      }
      if (w === 0 && i === 10) {
        victim.child.kill('SIGKILL');
        killed = true;
      }
    }
  };
  await Promise.all([0, 1, 2].map(writer));
  await victim.exited;
  t.true(acknowledged.length >= 10, `writes acknowledged before the kill: ${acknowledged.length}`);
  const written = await writtenVersions(survivor.server);
  for (const write of acknowledged) t.true(written.has(write), `acknowledged ${write} is in the history`);
  // And the survivor keeps writing, at the next revision of the one sequence.
  await survivor.server.registry.catchUp();
  const before = survivor.server.registry.revision;
  const after = await survivor.client.syncHost(host('after-kill', '9.0.0'));
  t.is(Number(after.revision), before + 1);
  const verified = await survivor.server.registry.verifyHistory(undefined);
  t.is(verified.broken, undefined);
});

test('a PostgreSQL restart during writes: replicas go NOT_SERVING, recover by themselves, and nothing acknowledged is lost', async (t) => {
  const pg = await cluster(t);
  const url = await pg.createDatabase();
  const replicas = [
    await startTestServer(t, { store: postgresStore({ url }) }),
    await startTestServer(t, { store: postgresStore({ url }) }),
  ];
  const health = replicas.map((replica) => healthOf(replica.server.address));
  for (const check of health) t.is(await check(), 'SERVING');

  const acknowledged: string[] = [];
  const write = async (i: number) => {
    try {
      await replicas[i % 2].client.syncHost(host(`h${i % 5}`, `2.${i}.0`));
      acknowledged.push(`h${i % 5}@2.${i}.0`);
      return true;
    } catch {
      return false;
    }
  };
  for (let i = 0; i < 10; i++) t.true(await write(i));

  pg.stop();
  for (const check of health) await eventually(async () => (await check()) === 'NOT_SERVING', 20_000, 'NOT_SERVING while the database is down');
  // A write while it is down is refused, not acknowledged.
  t.false(await write(100));

  pg.start();
  for (const check of health) await eventually(async () => (await check()) === 'SERVING', 30_000, 'SERVING once the database is back');
  for (let i = 10; i < 20; i++) t.true(await write(i), `write ${i} after the restart`);

  for (const replica of replicas) {
    const written = await writtenVersions(replica.server);
    for (const ack of acknowledged) t.true(written.has(ack), `acknowledged ${ack} survived the restart`);
    await replica.server.registry.catchUp();
  }
  t.is(replicas[0].server.registry.revision, replicas[1].server.registry.revision);
  t.is(replicas[0].server.registry.headHash, replicas[1].server.registry.headHash);
});
