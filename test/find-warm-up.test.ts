// FindTargets' warm-up after start-up (server/grpc/find-warm-up.ts): once its first call is
// answered, a restarted server answers a few searches of its own in the background. What a
// user notices: nothing but speed. The
// searches a client makes right after the restart answer exactly as a server without the
// warm-up answers them, the warm-up writes nothing (same revision, same history), an empty
// registry has nothing to warm, and a server closed while it warms closes cleanly.

import test from 'ava';
import { WARM_UP_SEARCHES } from '../server/grpc/find-warm-up.ts';
import { gvt } from './helpers/integration.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';

const VERSIONS = ['1.2.0', '1.3.0', '1.4.0', '1.1.0'];

async function seeded(t: Parameters<typeof startTestServer>[0]): Promise<TestServer> {
  const first = await startTestServer(t, { warmUpSearches: 0 });
  for (let i = 0; i < 12; i++) {
    await first.client.syncHost({
      name: `h${String(i).padStart(2, '0')}`,
      devices: [
        { device_id: 'gpu0', descriptor: gvt(VERSIONS[i % 4]) },
        { device_id: 'gpu1', descriptor: gvt(VERSIONS[(i + 1) % 4], { type: 'i915-GVTg_V5_8' }) },
      ],
    });
  }
  return first;
}

async function searches(server: TestServer) {
  const answers: unknown[] = [];
  for (const source of ['hosts/h00/devices/gpu0', 'hosts/h03/devices/gpu1', 'hosts/h07/devices/gpu0']) {
    const items: unknown[] = [];
    for await (const item of server.client.findTargets(source, { includeRejected: true })) items.push(item);
    answers.push(items);
  }
  return answers;
}

test('after a restart the warm-up answers its searches, writes nothing, and clients get the answers a cold server gives', async (t) => {
  const first = await seeded(t);
  // The same database restarted without the warm-up: what a client gets from a cold server.
  const cold = await first.restart();
  const expected = await searches(cold);
  t.deepEqual(await cold.server.warmUp, { searches: 0 }, 'warmUpSearches 0: none');
  const revision = cold.server.registry.revision;
  const history = await cold.client.listHistoryPage({}, { pageSize: 1000 });

  const warm = await cold.restartWith({ warmUpSearches: undefined });
  // The warm-up starts once the first call is answered, not before: a restart's first answer waits for none of it.
  t.is(warm.server.registry.gauges.verdictCache.size, 0);
  await warm.client.getHost('hosts/h05');
  t.deepEqual(await warm.server.warmUp, { searches: WARM_UP_SEARCHES });
  t.true(warm.server.registry.gauges.verdictCache.size > 0, 'the warm-up evaluated verdicts');
  t.is(warm.server.registry.revision, revision, 'the warm-up wrote nothing');
  t.deepEqual(await searches(warm), expected);
  t.deepEqual(await warm.client.listHistoryPage({}, { pageSize: 1000 }), history);
});

test('an empty registry has nothing to warm', async (t) => {
  const { server, client } = await startTestServer(t);
  t.deepEqual(await client.listHosts().next(), { done: true, value: undefined });
  t.deepEqual(await server.warmUp, { searches: 0 });
});

test('a server closed while it warms up closes cleanly, and the warm-up ends', async (t) => {
  const first = await seeded(t);
  await first.server.close();
  const { server, client } = await startTestServer(t, { dbPath: first.dbPath, dir: first.dir, warmUpSearches: 1000 });
  await client.getHost('hosts/h00');
  await server.close();
  const { searches: answered } = await server.warmUp;
  t.true(answered < 1000, `stopped after ${answered} searches`);
});
