// Health counts lag (issue 13): a replica that falls behind the database beyond --max-lag turns
// NOT_SERVING, as a load balancer sees it through gRPC health, while the replica that keeps
// writing stays SERVING; once it can read the database again it catches up and turns SERVING
// by itself, holding every write the other acknowledged meanwhile. The lag shows in metrics.

import test from 'ava';
import { type SyncHostRequest } from '../../client/client.ts';
import { postgresStore } from '../../server/store/postgres-store.ts';
import { HealthWatch } from '../helpers/health.ts';
import { scrape } from '../helpers/metrics.ts';
import { testDatabase } from '../helpers/postgres.ts';
import { startTestServer } from '../helpers/server.ts';
import { throughProxy } from '../helpers/tcp-proxy.ts';

const GPU = (version: string) => ({ vendor: 'nvidia', device_api: 'vfio-pci', type: 'nvidia-a10-4q', software_version: version });
const host = (name: string, version: string) => ({ name, devices: [{ device_id: 'gpu0', descriptor: GPU(version) }] }) as SyncHostRequest;

test('a replica whose database connections stall goes NOT_SERVING past --max-lag while the other writes on, and SERVING again once caught up', async (t) => {
  const url = await testDatabase(t);
  const writer = await startTestServer(t, { store: postgresStore({ url }) });
  // The lagging replica reaches PostgreSQL through a proxy that can stall its connections.
  const { proxy, url: viaProxy } = await throughProxy(t, url);
  const laggard = await startTestServer(t, {
    store: postgresStore({ url: viaProxy }),
    maxLagMs: 3_000,
    metricsAddress: '127.0.0.1:0',
  });
  const laggardHealth = new HealthWatch(t, laggard.server.address);
  const writerHealth = new HealthWatch(t, writer.server.address);
  await laggardHealth.until('SERVING');
  await writerHealth.until('SERVING');

  // Following works: a write through the writer reaches the laggard.
  const first = Number((await writer.client.syncHost(host('h0', '1.0.0'))).revision);
  t.true(await laggard.server.registry.reachRevision(first, 10_000));
  const caughtUp = await scrape(laggard.server.metricsAddress!);
  t.true(caughtUp.value('devcompat_replica_lag_seconds') < 3, `lag while following: ${caughtUp.value('devcompat_replica_lag_seconds')} s`);
  t.is(caughtUp.value('devcompat_replica_revisions_behind'), 0);

  // Its connections stall: nothing fails, nothing arrives. The writer goes on.
  proxy.stall();
  const seenBefore = laggardHealth.seen.length;
  let last = first;
  for (let i = 1; i <= 5; i++) last = Number((await writer.client.syncHost(host(`h${i}`, `1.${i}.0`))).revision);
  await laggardHealth.until('NOT_SERVING', seenBefore);
  t.true(laggard.server.registry.revision < last, 'the laggard missed the writes made while stalled');
  const lagging = await scrape(laggard.server.metricsAddress!);
  t.true(lagging.value('devcompat_replica_lag_seconds') > 3, `lag reported: ${lagging.value('devcompat_replica_lag_seconds')} s`);
  t.is(writerHealth.current, 'SERVING', 'the replica that reaches the database stays SERVING');
  t.false(writerHealth.seen.includes('NOT_SERVING'));

  // The path recovers: the laggard catches up by itself and serves again, with every write.
  const seenLagging = laggardHealth.seen.length;
  proxy.resume();
  await laggardHealth.until('SERVING', seenLagging);
  t.is(laggard.server.registry.revision, last, 'SERVING again only once it holds the head');
  t.is(laggard.server.registry.headHash, writer.server.registry.headHash);
  const host5 = await laggard.client.getHost('hosts/h5');
  t.is(host5.name, 'hosts/h5');
  const recovered = await scrape(laggard.server.metricsAddress!);
  t.true(recovered.value('devcompat_replica_lag_seconds') <= 3);
  t.is(recovered.value('devcompat_replica_revisions_behind'), 0);
});
