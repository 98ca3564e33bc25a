// The client library's LeaseKeeper against a real server with a short lease TTL: a held host
// stays READY, a released one lapses to UNREACHABLE, an unknown host is NOT_FOUND, the keeper
// rides out a server restart, close() leaves no stream open, and a keeper refused for good
// says so when asked to hold a lease.

import test, { type ExecutionContext } from 'ava';
import * as grpc from '@grpc/grpc-js';
import path from 'node:path';
import { DevcompatClient, DevcompatError, type KeepAliveResponse, type SyncHostRequest } from '../client/client.ts';
import { startServer, type RunningServer } from '../server/server.ts';
import { extraClient, rejectsWith, waitUntil } from './helpers/integration.ts';
import { startTestServer, tempDir } from './helpers/server.ts';

const GPU = { vendor: 'nvidia', device_api: 'vfio-pci', type: 'nvidia-a10-4q', software_version: '1.0.0' };

const host = (name: string) => ({ name, devices: [{ device_id: 'gpu0', descriptor: GPU }] }) as SyncHostRequest;

async function serve(t: ExecutionContext, dbPath: string, leaseTtlMs: number, address = '127.0.0.1:0'): Promise<RunningServer> {
  const server = await startServer({ dbPath, address, leaseTtlMs });
  t.teardown(() => server.close());
  return server;
}

function quickClient(t: ExecutionContext, address: string): DevcompatClient {
  return extraClient(t, address, { actor: 'agent', retry: { maxAttempts: 10, initialBackoffMs: 20, maxBackoffMs: 200 } });
}

const stateOf = async (client: DevcompatClient, name: string) => (await client.getHost(name)).state;

/**
 * Every change of a host's reachability the server commits ("idle lapsed", "held ready"), in
 * order, as it is committed: tests wait for these events rather than for a span of time.
 */
function reachability(server: RunningServer) {
  const events: string[] = [];
  server.registry.subscribe((change) => {
    for (const entry of change.entries) {
      if (entry.deviceId !== '' || entry.before?.kind !== 'host' || entry.after?.kind !== 'host') continue;
      if (entry.before.host.reachable === entry.after.host.reachable) continue;
      events.push(`${entry.hostId} ${entry.after.host.reachable ? 'ready' : 'lapsed'}`);
    }
  });
  /** The last reachability change committed for `hostId`, if any. */
  const last = (hostId: string) => events.filter((event) => event.startsWith(`${hostId} `)).at(-1);
  /** Waits for `event` among the changes from index `from` on. */
  const waitFor = (event: string, from = 0) => waitUntil(() => events.slice(from).includes(event), 10_000);
  return { events, last, waitFor };
}

test('a held lease keeps its host READY; a released one lapses; renew answers with the lease', async (t) => {
  const dir = tempDir(t);
  const server = await serve(t, path.join(dir, 'registry.db'), 600);
  const leases = reachability(server);
  const client = quickClient(t, server.address);
  await client.syncHost(host('held'));
  await client.syncHost(host('idle'));
  const baseline = server.openStreams();

  const keeper = client.keepAlive();
  t.teardown(() => keeper.close());
  const renewed: KeepAliveResponse[] = [];
  keeper.on('renewed', (response) => renewed.push(response));
  const before = Date.now();
  const response = await keeper.renew('held');
  t.is(response.name, 'hosts/held');
  t.is(response.ttl_ms, 600);
  t.is(response.state, 'HOST_STATE_READY');
  const expiry = response.lease_expire_time!.getTime();
  t.true(expiry >= before + 600 - 5 && expiry <= Date.now() + 600 + 5, `expiry ${expiry} is one TTL from now`);
  t.is(keeper.ttlMs, 600);

  keeper.hold('hosts/held');
  t.deepEqual(keeper.holding, ['hosts/held']);
  // Five renewals, every ttl/3, span more than a TTL: without them the held host, synced
  // before the idle one, would lapse no later than it.
  t.true(await waitUntil(() => renewed.length >= 5, 5000), `renewed every ttl/3 (${renewed.length} renewals)`);
  t.true(await leases.waitFor('idle lapsed'), 'an idle host lapses');
  t.is(await stateOf(client, 'hosts/idle'), 'HOST_STATE_UNREACHABLE');
  // (On a machine too loaded to renew within the TTL the held host may lapse; the next
  // renewal makes it READY again. The sequence is then longer, but ends READY.)
  t.true(await waitUntil(() => leases.last('held') !== 'held lapsed', 10_000));
  t.is(await stateOf(client, 'hosts/held'), 'HOST_STATE_READY', 'a held host does not');

  const released = leases.events.length;
  keeper.release('held');
  t.deepEqual(keeper.holding, []);
  t.true(await leases.waitFor('held lapsed', released));
  t.is(await stateOf(client, 'hosts/held'), 'HOST_STATE_UNREACHABLE', 'released, it lapses');

  // A keepalive brings it back at once.
  const lapsed = leases.events.length;
  t.is((await keeper.renew('hosts/held')).state, 'HOST_STATE_READY');
  t.true(await leases.waitFor('held ready', lapsed));
  t.is(await stateOf(client, 'hosts/held'), 'HOST_STATE_READY');

  await keeper.close();
  t.true(await waitUntil(() => server.openStreams() === baseline, 2000), 'the keepalive stream is gone');
  const closed = await t.throwsAsync(keeper.renew('held'), { instanceOf: DevcompatError });
  t.is(closed?.codeName, 'CANCELLED');
});

test('renewing an unknown host rejects with NOT_FOUND and the stream goes on', async (t) => {
  const dir = tempDir(t);
  const server = await serve(t, path.join(dir, 'registry.db'), 600);
  const client = quickClient(t, server.address);
  await client.syncHost(host('known'));
  const keeper = client.keepAlive();
  t.teardown(() => keeper.close());
  const failures: string[] = [];
  keeper.on('renewFailed', (name, error) => failures.push(`${name} ${error.codeName}`));
  const [unknown, known] = await Promise.allSettled([keeper.renew('nowhere'), keeper.renew('known')]);
  t.is(unknown.status, 'rejected');
  const error = (unknown as PromiseRejectedResult).reason as DevcompatError;
  t.true(error instanceof DevcompatError);
  t.is(error.code, grpc.status.NOT_FOUND);
  t.regex(error.message, /nowhere/);
  t.is(known.status, 'fulfilled', 'answers stay matched to their requests');
  t.is((known as PromiseFulfilledResult<KeepAliveResponse>).value.name, 'hosts/known');
  keeper.hold('nowhere');
  t.true(await waitUntil(() => failures.length > 0, 2000));
  t.is(failures[0], 'hosts/nowhere NOT_FOUND');
  t.is(keeper.failure, undefined, 'an unknown host does not stop the keeper');
});

test('a held lease survives a server restart: the keeper reconnects and renews on the new server', async (t) => {
  const dir = tempDir(t);
  const dbPath = path.join(dir, 'registry.db');
  let server = await serve(t, dbPath, 1500);
  const address = server.address;
  const client = quickClient(t, address);
  await client.syncHost(host('agent'));
  await client.syncHost(host('idle'));
  const keeper = client.keepAlive();
  t.teardown(() => keeper.close());
  const disconnects: string[] = [];
  keeper.on('disconnected', (error) => disconnects.push(error.codeName));
  const renewals: KeepAliveResponse[] = [];
  keeper.on('renewed', (response) => renewals.push(response));
  keeper.hold('agent');
  t.true(await waitUntil(() => renewals.length > 0, 2000), 'the keeper renews the held lease');

  await server.close();
  const expiryAtShutdown = Math.max(...renewals.map((r) => millis(r.lease_expire_time!)));
  const renewedBefore = renewals.length;
  server = await serve(t, dbPath, 1500, address);
  const leases = reachability(server);
  t.true(await waitUntil(() => disconnects.length > 0, 2000));
  t.is(disconnects[0], 'UNAVAILABLE');
  // Wait until the new server has renewed the lease past the point where the lease granted
  // before the restart ran out (plus the 100 ms lapse check): without the keeper the host
  // would have lapsed by then.
  t.true(
    await waitUntil(() => renewals.slice(renewedBefore).some((r) => millis(r.lease_expire_time!) - 1500 > expiryAtShutdown + 100), 10_000),
    'renewed on the new server past the old lease',
  );
  t.true(await leases.waitFor('idle lapsed'));
  t.is(await stateOf(client, 'hosts/idle'), 'HOST_STATE_UNREACHABLE');
  // (A slow restart may outlast the lease, and the lease found expired at start-up is
  // recorded as it is renewed: then the next renewal on the new server makes it READY again.)
  t.true(await waitUntil(() => leases.last('agent') !== 'agent lapsed', 10_000));
  t.is(await stateOf(client, 'hosts/agent'), 'HOST_STATE_READY', 'renewed on the new server');
  t.is(keeper.failure, undefined);
});

test('hold() on a keeper whose stream was refused for good throws that failure instead of seeming to hold', async (t) => {
  // One request stream per connection: a second keeper on the same client is refused.
  const { server } = await startTestServer(t, { limits: { maxRequestStreamsPerConnection: 1 } });
  const client = quickClient(t, server.address);
  await client.syncHost(host('agent'));
  const first = client.keepAlive();
  t.teardown(() => first.close());
  await first.renew('agent');

  const refused = client.keepAlive();
  t.teardown(() => refused.close());
  const events: string[] = [];
  refused.on('failed', (error) => events.push(`failed ${error.codeName}`));
  refused.on('renewed', (response) => events.push(`renewed ${response.name}`));
  refused.on('renewFailed', (name, error) => events.push(`renewFailed ${name} ${error.codeName}`));
  await rejectsWith(t, refused.renew('agent'), grpc.status.RESOURCE_EXHAUSTED);
  t.deepEqual(events, ['failed RESOURCE_EXHAUSTED']);
  t.is(refused.failure?.code, grpc.status.RESOURCE_EXHAUSTED);

  const error = t.throws(() => refused.hold('agent'), { instanceOf: DevcompatError });
  t.is(error?.code, grpc.status.RESOURCE_EXHAUSTED);
  t.true(error === refused.failure, 'the failure the keeper reported');
  t.deepEqual(refused.holding, [], 'the host is not shown as held');
  t.deepEqual(events, ['failed RESOURCE_EXHAUSTED'], 'no renewal was attempted');
});

const millis = (time: Date) => time.getTime();
