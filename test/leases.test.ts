// Host leases and draining on a real server: a lapsed lease makes a host UNREACHABLE (in
// history, in the watch feed, out of FindTargets), a keepalive or a sync makes it READY again,
// draining is an operator's mark that a sync keeps, and expiry works across restarts.

import test from 'ava';
import * as grpc from '@grpc/grpc-js';
import type { SyncHostRequest } from '../client/client.ts';
import { startTestServer } from './helpers/server.ts';
import { eventually, rawClients, unaryCall, WatchRecorder } from './helpers/watch.ts';

const GPU = { vendor: 'nvidia', device_api: 'vfio-pci', type: 'nvidia-a10-4q', software_version: '1.0.0' };

function host(name: string): SyncHostRequest {
  return { name, devices: [{ device_id: 'gpu0', descriptor: GPU }] } as SyncHostRequest;
}

async function start(t: Parameters<typeof startTestServer>[0], options: Parameters<typeof startTestServer>[1] = {}) {
  const running = await startTestServer(t, options);
  const raw = rawClients(running.server.address);
  t.teardown(() => raw.close());
  return { ...running, raw };
}

async function targetsOf(client: { findTargets: Function }, source: string, options: object = {}): Promise<string[]> {
  const names: string[] = [];
  for await (const item of client.findTargets(source, options)) {
    if (item.target) names.push(item.target.name);
  }
  return names.sort();
}

function keepAliveStream(raw: ReturnType<typeof rawClients>) {
  const call = raw.registry.KeepAlive();
  const responses: any[] = [];
  call.on('data', (response: any) => responses.push(response));
  call.on('error', () => undefined);
  return { call, responses };
}

test('a lapsed lease makes the host UNREACHABLE, recorded and left out; a keepalive makes it READY', async (t) => {
  const server = await start(t, { leaseTtlMs: 400 });
  await server.client.syncHost(host('source'));
  await server.client.syncHost(host('alive'));
  await server.client.syncHost(host('lapsing'));
  const watcher = new WatchRecorder(server.raw.watch, { start_revision: 1 });
  const keeper = keepAliveStream(server.raw);
  const keep = setInterval(() => {
    keeper.call.write({ name: 'hosts/alive' });
    keeper.call.write({ name: 'hosts/source' });
  }, 100);
  t.teardown(() => clearInterval(keep));

  await eventually(async () => (await server.client.getHost('hosts/lapsing')).state === 'HOST_STATE_UNREACHABLE', 10_000, 'lapse');
  t.is((await server.client.getHost('hosts/alive')).state, 'HOST_STATE_READY', 'kept alive by keepalives');
  t.deepEqual(await targetsOf(server.client, 'hosts/source/devices/gpu0'), ['hosts/alive/devices/gpu0']);
  t.deepEqual(await targetsOf(server.client, 'hosts/source/devices/gpu0', { include_unreachable_hosts: true }), [
    'hosts/alive/devices/gpu0',
    'hosts/lapsing/devices/gpu0',
  ]);
  t.truthy(await server.client.getDevice('hosts/lapsing/devices/gpu0'), 'nothing is deleted by a lapse');

  const [lapse] = await collect(server.client.history({ resource: 'hosts/lapsing', order: 'HISTORY_ORDER_NEWEST_FIRST' }));
  t.is(lapse.kind, 'CHANGE_KIND_UPDATED');
  t.is(lapse.actor, 'devcompat');
  t.regex(lapse.reason, /lease expired/);
  t.is(lapse.before?.host?.state, 'HOST_STATE_READY');
  t.is(lapse.after?.host?.state, 'HOST_STATE_UNREACHABLE');
  await watcher.waitFor((w) => w.eventMessages.some((m) => m.revision === lapse.revision), 10_000, 'the lapse on the feed');

  // The agent comes back: its keepalive makes the host READY again, recorded as well.
  keeper.call.write({ name: 'hosts/lapsing' });
  await eventually(async () => (await server.client.getHost('hosts/lapsing')).state === 'HOST_STATE_READY', 10_000, 'ready');
  const [back] = await collect(server.client.history({ resource: 'hosts/lapsing', order: 'HISTORY_ORDER_NEWEST_FIRST' }));
  t.regex(back.reason, /keepalive/);
  t.is(back.after?.host?.state, 'HOST_STATE_READY');
  clearInterval(keep);
  keeper.call.end();
  watcher.cancel();
});

test('a sync of an UNREACHABLE host makes it READY; keepalives answer with the lease, unknown hosts with an error', async (t) => {
  const server = await start(t, { leaseTtlMs: 300 });
  await server.client.syncHost(host('h'));
  await eventually(async () => (await server.client.getHost('hosts/h')).state === 'HOST_STATE_UNREACHABLE', 10_000, 'lapse');
  const synced = await server.client.syncHost(host('h'));
  t.true(synced.changed, 'the state change is a change');
  t.is(synced.host.state, 'HOST_STATE_READY');

  const keeper = keepAliveStream(server.raw);
  keeper.call.write({ name: 'hosts/nope' });
  keeper.call.write({ name: 'h' });
  await eventually(() => keeper.responses.length === 2, 10_000, 'two responses');
  const [unknown, known] = keeper.responses;
  t.is(unknown.error?.code, grpc.status.NOT_FOUND, 'an unknown host: an error in its response, the stream goes on');
  t.is(known.name, 'hosts/h');
  t.is(known.ttl_ms, 300);
  t.is(known.state, 'HOST_STATE_READY');
  const expires = Number(known.lease_expire_time.seconds) * 1000 + known.lease_expire_time.nanos / 1e6;
  t.true(Math.abs(expires - (Date.now() + 300)) < 1000, 'the lease runs one TTL from the keepalive');
  keeper.call.end();
});

test('DRAINING: excluded as a target, still listed, kept by a sync, cleared by the operator; recorded with actor and reason', async (t) => {
  const server = await start(t);
  await server.client.syncHost(host('source'));
  await server.client.syncHost(host('target'));
  const metadata = new grpc.Metadata();
  metadata.set('x-devcompat-actor', 'alice');
  metadata.set('x-devcompat-reason', 'BIOS update, ticket OPS-7');
  const drained = await unaryCall(server.raw.registry, 'SetHostDraining', { name: 'hosts/target', draining: true }, metadata);
  t.true(drained.changed);
  t.is(drained.host.state, 'HOST_STATE_DRAINING');
  t.true(drained.host.draining);
  t.regex(drained.head_hash, /^[0-9a-f]{64}$/);
  t.deepEqual(await targetsOf(server.client, 'hosts/source/devices/gpu0'), []);
  t.deepEqual(await targetsOf(server.client, 'hosts/source/devices/gpu0', { include_draining_hosts: true }), ['hosts/target/devices/gpu0']);
  t.deepEqual((await collect(server.client.listHosts())).map((h) => [h.name, h.state]), [
    ['hosts/source', 'HOST_STATE_READY'],
    ['hosts/target', 'HOST_STATE_DRAINING'],
  ]);

  await server.client.syncHost(host('target'));
  t.is((await server.client.getHost('hosts/target')).state, 'HOST_STATE_DRAINING', 'a sync does not clear draining');
  const again = await unaryCall(server.raw.registry, 'SetHostDraining', { name: 'hosts/target', draining: true });
  t.false(again.changed, 'draining twice changes nothing');

  await unaryCall(server.raw.registry, 'SetHostDraining', { name: 'hosts/target', draining: false });
  t.deepEqual(await targetsOf(server.client, 'hosts/source/devices/gpu0'), ['hosts/target/devices/gpu0']);
  const entries = await collect(server.client.history({ resource: 'hosts/target', order: 'HISTORY_ORDER_OLDEST_FIRST' }));
  const drainEntry = entries.find((entry) => entry.after?.host?.draining && !entry.before?.host?.draining)!;
  t.is(drainEntry.actor, 'alice');
  t.is(drainEntry.reason, 'BIOS update, ticket OPS-7');
  t.is(entries.at(-1)!.after?.host?.state, 'HOST_STATE_READY');

  const missing = await t.throwsAsync(unaryCall(server.raw.registry, 'SetHostDraining', { name: 'hosts/ghost', draining: true }));
  t.is((missing as any).code, grpc.status.NOT_FOUND);
});

test('a lease that ran out while the server was down is expired at start-up, dated when it ran out', async (t) => {
  const first = await start(t, { leaseTtlMs: 1000 });
  const synced = await first.client.syncHost(host('h'));
  const syncTime = Number(synced.host.last_sync_time.seconds) * 1000 + synced.host.last_sync_time.nanos / 1e6;
  await first.server.close(); // close persists the lease
  await new Promise((resolve) => setTimeout(resolve, 1500)); // the server is down past the TTL
  const second = await start(t, { leaseTtlMs: 1000, dbPath: first.dbPath, dir: first.dir });
  const startedAt = Date.now();
  await eventually(async () => (await second.client.getHost('hosts/h')).state === 'HOST_STATE_UNREACHABLE', 10_000, 'expired at start-up');
  const [lapse] = await collect(second.client.history({ resource: 'hosts/h', order: 'HISTORY_ORDER_NEWEST_FIRST' }));
  const lapseTime = Number(lapse.time.seconds) * 1000 + lapse.time.nanos / 1e6;
  // Recorded at the lease's expiry (last sync + TTL), not at start-up.
  t.true(Math.abs(lapseTime - (syncTime + 1000)) <= 5, `lapse at ${lapseTime}, expected ${syncTime + 1000}`);
  t.true(lapseTime < startedAt);
});

test('a lease renewed by keepalives survives a restart within its TTL', async (t) => {
  const first = await start(t, { leaseTtlMs: 4000 });
  await first.client.syncHost(host('h'));
  await new Promise((resolve) => setTimeout(resolve, 1500));
  const keeper = keepAliveStream(first.raw);
  keeper.call.write({ name: 'h' });
  await eventually(() => keeper.responses.length === 1, 10_000, 'keepalive answered');
  const renewedUntil = Number(keeper.responses[0].lease_expire_time.seconds) * 1000;
  keeper.call.end();
  const second = await first.restart();
  const lease = (await second.client.getHost('hosts/h')).lease_expire_time!;
  t.true(Math.abs(Number(lease.seconds) * 1000 - renewedUntil) <= 1000, 'the renewed expiry was persisted (to the second)');
  t.is((await second.client.getHost('hosts/h')).state, 'HOST_STATE_READY');
});

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of iterable) items.push(item);
  return items;
}
