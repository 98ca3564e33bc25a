// Shutdown as an operator sees it: health turns NOT_SERVING, open streams end with
// UNAVAILABLE (so schedulers retry elsewhere), writes already accepted are committed, and the
// database is closed so the next server opens it cleanly.

import test from 'ava';
import * as grpc from '@grpc/grpc-js';
import { protoPath as healthProtoPath } from 'grpc-health-check';
import * as protoLoader from '@grpc/proto-loader';
import path from 'node:path';
import { DevcompatError } from '../client/client.ts';
import { validateSyncHost } from '../server/core/resources.ts';
import { WorkerStore } from '../server/store/worker-store.ts';
import { startTestServer, tempDir } from './helpers/server.ts';

const MLX5 = {
  vendor: '15b3',
  device_api: 'vfio-pci',
  type: 'mlx5_vfio_pci',
  software_version: '1.1.0',
  attributes: { psid: { string_value: 'MT_0000000223' } },
  rules: {},
};

function healthClient(address: string) {
  const definition = protoLoader.loadSync(healthProtoPath, { keepCase: true, enums: String });
  const Health = (grpc.loadPackageDefinition(definition) as any).grpc.health.v1.Health;
  return new Health(address, grpc.credentials.createInsecure());
}

function healthStatus(client: any, service: string): Promise<string> {
  return new Promise((resolve, reject) =>
    client.Check({ service }, (error: Error | null, response: { status: string }) => (error ? reject(error) : resolve(response.status))),
  );
}

test('close: NOT_SERVING for watchers of health, open streams end UNAVAILABLE, accepted writes land', async (t) => {
  const first = await startTestServer(t);
  // Enough targets that a FindTargets stream with a large limit cannot finish while its
  // client does not read.
  for (let h = 0; h < 20; h++) {
    await first.client.syncHost({
      name: `hosts/net-${String(h).padStart(2, '0')}`,
      devices: Array.from({ length: 200 }, (_, d) => ({ device_id: `0000:3b:${String(d).padStart(3, '0')}.0`, descriptor: MLX5 })),
    });
  }
  const health = healthClient(first.server.address);
  t.teardown(() => health.close());
  t.is(await healthStatus(health, ''), 'SERVING');
  t.is(await healthStatus(health, 'devcompat.v1.CompatibilityService'), 'SERVING');

  // A health watcher sees NOT_SERVING when the server starts closing.
  const watch = health.Watch({ service: '' });
  const seen: string[] = [];
  const notServing = new Promise<void>((resolve) =>
    watch.on('data', (message: { status: string }) => {
      seen.push(message.status);
      if (message.status === 'NOT_SERVING') resolve();
    }),
  );
  const watchEnded = new Promise<number>((resolve) => watch.on('error', (error: grpc.ServiceError) => resolve(error.code)));

  const stream = first.client.findTargets(MLX5, { limit: 4000 });
  const firstItem = await stream.next();
  t.false(firstItem.done);
  t.is(first.server.openStreams(), 2, 'the health watch and the FindTargets stream');

  // A write the registry has queued (not yet committed) when close starts is committed by it.
  const lateWrite = first.server.registry.syncHost(
    validateSyncHost({ name: 'hosts/late', devices: [{ device_id: '0000:af:00.1', descriptor: MLX5 }] }),
    { actor: 'test', reason: '' },
  );
  const closing = first.server.close();
  await notServing;
  t.deepEqual(seen, ['SERVING', 'NOT_SERVING']);
  t.is(await watchEnded, grpc.status.UNAVAILABLE, 'then the watch ends, UNAVAILABLE, so the balancer looks elsewhere');

  const error = await t.throwsAsync(async () => {
    for (;;) {
      const item = await stream.next();
      if (item.done) break;
    }
  });
  t.true(error instanceof DevcompatError);
  t.is((error as DevcompatError).code, grpc.status.UNAVAILABLE);
  await closing;
  t.is(first.server.openStreams(), 0);
  t.true((await lateWrite).changed);

  // The database was closed cleanly and holds every acknowledged write.
  const second = await startTestServer(t, { dbPath: first.dbPath, dir: first.dir });
  t.is((await second.client.getHost('hosts/late')).device_count, 1);
  t.is((await second.client.getHost('hosts/net-19')).device_count, 200);
});

test('a storage failure before the server listens for it is still told: a listener added after the worker died is called at once', async (t) => {
  // The server asks to be told of a failure only once it is bound and its leases run; a worker
  // that dies before then must not leave it serving on a dead store.
  const file = path.join(tempDir(t), 'late.db');
  const store = await WorkerStore.open({ path: file, durability: 'full' });
  await (store as unknown as { worker: { terminate(): Promise<number> } }).worker.terminate();
  const told: string[] = [];
  store.onFailure((error) => told.push(error.message));
  t.deepEqual(told, ['the storage worker exited (code 1)']);
  // Closed on purpose, a store tells nobody.
  const closed = await WorkerStore.open({ path: path.join(tempDir(t), 'closed.db'), durability: 'full' });
  await closed.close();
  closed.onFailure((error) => told.push(error.message));
  t.is(told.length, 1);
});

test('if the storage worker dies, the server stops serving (so a supervisor restarts it) and loses nothing', async (t) => {
  // Fault injection: keep a handle on the real storage worker and terminate it, as a crash would.
  const open = WorkerStore.open;
  let store: WorkerStore | undefined;
  WorkerStore.open = async (options) => (store = await open.call(WorkerStore, options));
  t.teardown(() => {
    WorkerStore.open = open;
  });
  let onFatal!: (error: Error) => void;
  const fatal = new Promise<Error>((resolve) => (onFatal = resolve));
  const first = await startTestServer(t, { onFatal });
  WorkerStore.open = open;
  const acknowledged = await first.client.syncHost({ name: 'hosts/before', devices: [{ device_id: '0000:af:00.1', descriptor: MLX5 }] });

  await (store as unknown as { worker: { terminate(): Promise<number> } }).worker.terminate();
  t.regex((await fatal).message, /storage worker exited/);
  const refused = await t.throwsAsync(first.client.syncHost({ name: 'hosts/after', devices: [] }));
  t.is((refused as DevcompatError).code, grpc.status.UNAVAILABLE);

  const second = await startTestServer(t, { dbPath: first.dbPath, dir: first.dir });
  t.is((await second.client.getHost('hosts/before')).revision, acknowledged.revision);
});
