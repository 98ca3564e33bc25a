// Host leases and draining on a real server: a lapsed lease makes a host UNREACHABLE (in
// history, in the watch feed, out of FindTargets), a keepalive or a sync makes it READY again,
// draining is an operator's mark that a sync keeps, and expiry works across restarts. The
// server runs on a manual clock: time moves when the test moves it, so expiry is checked to
// the millisecond without waiting (test/core-leases.test.ts covers the core's edge cases).

import test from 'ava';
import * as grpc from '@grpc/grpc-js';
import type { SyncHostRequest } from '../client/client.ts';
import { ManualClock } from '../server/core/clock.ts';
import type { Registry, RevisionChange } from '../server/core/registry.ts';
import { startTestServer } from './helpers/server.ts';
import { rawClients, StreamRecorder, unaryCall, WatchRecorder } from './helpers/watch.ts';

const GPU = { vendor: 'nvidia', device_api: 'vfio-pci', type: 'nvidia-a10-4q', software_version: '1.0.0' };
const T0 = 1_800_000_000_000;

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

/** A time in ms: the client returns Dates, the core Timestamp objects. */
function ms(timestamp: Date | { seconds: string | number; nanos: number }): number {
  if (timestamp instanceof Date) return timestamp.getTime();
  return Number(timestamp.seconds) * 1000 + timestamp.nanos / 1e6;
}

/** A KeepAlive stream whose responses are recorded; `send` resolves with the response. */
function keepAliveStream(raw: ReturnType<typeof rawClients>) {
  const recorder = new StreamRecorder<any>(raw.registry.KeepAlive());
  return {
    responses: recorder.messages,
    async send(name: string): Promise<any> {
      const count = recorder.messages.length;
      (recorder.call as unknown as grpc.ClientDuplexStream<object, object>).write({ name });
      await recorder.waitFor((r) => r.messages.length > count, 20_000, `the keepalive response for ${name}`);
      return recorder.messages[count];
    },
    end: () => (recorder.call as unknown as grpc.ClientDuplexStream<object, object>).end(),
  };
}

/** Resolves with the next revision the registry commits that touches `hostId` (fails after 20 s). */
function nextChangeOf(registry: Registry, hostId: string): Promise<RevisionChange> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      stop();
      reject(new Error(`no revision touched hosts/${hostId}`));
    }, 20_000);
    const stop = registry.subscribe((change) => {
      if (change.entries[0]?.hostId !== hostId) return;
      stop();
      clearTimeout(timer);
      resolve(change);
    });
  });
}

/**
 * Resolves once every write to the host queued before it is committed: a SetHostDraining that
 * changes nothing is queued after them (so a lapse that is due has been written by then).
 */
async function writesSettled(raw: ReturnType<typeof rawClients>, name: string, draining = false): Promise<void> {
  await unaryCall(raw.registry, 'SetHostDraining', { name, draining });
}

test('a lapsed lease makes the host UNREACHABLE, recorded and left out; a keepalive makes it READY', async (t) => {
  const clock = new ManualClock(T0);
  const server = await start(t, { leaseTtlMs: 400, clock });
  await server.client.syncHost(host('source'));
  await server.client.syncHost(host('alive'));
  await server.client.syncHost(host('lapsing'));
  const watcher = new WatchRecorder(server.raw.watch, { start_revision: 1 });
  t.teardown(() => watcher.cancel());
  const keeper = keepAliveStream(server.raw);
  clock.advance(200);
  await keeper.send('hosts/alive');
  await keeper.send('hosts/source');

  const lapsed = nextChangeOf(server.server.registry, 'lapsing');
  clock.advance(200); // exactly the TTL since the sync of `lapsing`; half of it since the keepalives
  const change = await lapsed;
  t.is(change.time, T0 + 400, 'dated at the expiry, to the millisecond');
  t.is((await server.client.getHost('hosts/lapsing')).state, 'HOST_STATE_UNREACHABLE');
  t.is((await server.client.getHost('hosts/alive')).state, 'HOST_STATE_READY', 'kept alive by keepalives');
  t.deepEqual(await targetsOf(server.client, 'hosts/source/devices/gpu0'), ['hosts/alive/devices/gpu0']);
  t.deepEqual(await targetsOf(server.client, 'hosts/source/devices/gpu0', { includeUnreachableHosts: true }), [
    'hosts/alive/devices/gpu0',
    'hosts/lapsing/devices/gpu0',
  ]);
  t.truthy(await server.client.getDevice('hosts/lapsing/devices/gpu0'), 'nothing is deleted by a lapse');

  const [lapse] = await collect(server.client.history({ resource: 'hosts/lapsing', order: 'HISTORY_ORDER_NEWEST_FIRST' }));
  t.is(lapse.kind, 'CHANGE_KIND_UPDATED');
  t.is(lapse.actor, 'devcompat');
  t.regex(lapse.reason, /lease expired/);
  t.is(ms(lapse.time), T0 + 400);
  t.is(lapse.before?.host?.state, 'HOST_STATE_READY');
  t.is(lapse.after?.host?.state, 'HOST_STATE_UNREACHABLE');
  await watcher.waitFor((w) => w.eventMessages.some((m) => m.revision === lapse.revision), 20_000, 'the lapse on the feed');
  const onFeed = watcher.eventMessages.find((m) => m.revision === lapse.revision)!;
  t.is(onFeed.events[0].after.host.state, 'HOST_STATE_UNREACHABLE');

  // The agent comes back: its keepalive makes the host READY again, recorded as well.
  const back = nextChangeOf(server.server.registry, 'lapsing');
  const answer = await keeper.send('hosts/lapsing');
  t.is(answer.state, 'HOST_STATE_READY', 'the keepalive answers READY at once');
  await back;
  t.is((await server.client.getHost('hosts/lapsing')).state, 'HOST_STATE_READY');
  const [ready] = await collect(server.client.history({ resource: 'hosts/lapsing', order: 'HISTORY_ORDER_NEWEST_FIRST' }));
  t.regex(ready.reason, /keepalive/);
  t.is(ready.after?.host?.state, 'HOST_STATE_READY');
  keeper.end();
});

test('a sync of an UNREACHABLE host makes it READY; keepalives answer with the lease, unknown hosts with an error', async (t) => {
  const clock = new ManualClock(T0);
  const server = await start(t, { leaseTtlMs: 300, clock });
  await server.client.syncHost(host('h'));
  const lapsed = nextChangeOf(server.server.registry, 'h');
  clock.advance(299);
  await writesSettled(server.raw, 'hosts/h');
  t.is((await server.client.getHost('hosts/h')).state, 'HOST_STATE_READY', 'a millisecond before the TTL');
  clock.advance(1);
  await lapsed;
  t.is((await server.client.getHost('hosts/h')).state, 'HOST_STATE_UNREACHABLE');
  const synced = await server.client.syncHost(host('h'));
  t.true(synced.changed, 'the state change is a change');
  t.is(synced.host.state, 'HOST_STATE_READY');

  const keeper = keepAliveStream(server.raw);
  const unknown = await keeper.send('hosts/nope');
  clock.advance(50);
  const known = await keeper.send('h');
  t.is(unknown.error?.code, grpc.status.NOT_FOUND, 'an unknown host: an error in its response, the stream goes on');
  t.is(known.name, 'hosts/h');
  t.is(known.ttl_ms, 300);
  t.is(known.state, 'HOST_STATE_READY');
  t.is(ms(known.lease_expire_time), T0 + 350 + 300, 'the lease runs one TTL from the keepalive');
  keeper.end();
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
  t.deepEqual(await targetsOf(server.client, 'hosts/source/devices/gpu0', { includeDrainingHosts: true }), ['hosts/target/devices/gpu0']);
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
  const clock = new ManualClock(T0);
  const first = await start(t, { leaseTtlMs: 1000, clock });
  const synced = await first.client.syncHost(host('h'));
  t.is(ms(synced.host.last_sync_time), T0);
  await first.server.close(); // close persists the lease
  clock.advance(1500); // the server is down past the TTL
  const second = await start(t, { leaseTtlMs: 1000, clock, dbPath: first.dbPath, dir: first.dir });
  // Expired as the server starts: the lapse may already be committed, or about to be.
  if (second.server.registry.revision === 1) await nextChangeOf(second.server.registry, 'h');
  t.is((await second.client.getHost('hosts/h')).state, 'HOST_STATE_UNREACHABLE');
  const [lapse] = await collect(second.client.history({ resource: 'hosts/h', order: 'HISTORY_ORDER_NEWEST_FIRST' }));
  // Recorded at the lease's expiry (last sync + TTL), not at start-up.
  t.is(ms(lapse.time), T0 + 1000);
  t.regex(lapse.reason, /lease expired/);
});

test('a lease renewed by keepalives survives a restart within its TTL', async (t) => {
  const clock = new ManualClock(T0);
  const first = await start(t, { leaseTtlMs: 4000, clock });
  await first.client.syncHost(host('h'));
  clock.advance(1500);
  const keeper = keepAliveStream(first.raw);
  const renewed = await keeper.send('h');
  const renewedUntil = ms(renewed.lease_expire_time);
  t.is(renewedUntil, T0 + 1500 + 4000);
  keeper.end();
  const second = await first.restart();
  const raw = rawClients(second.server.address);
  t.teardown(() => raw.close());
  const after = await second.client.getHost('hosts/h');
  t.is(ms(after.lease_expire_time!), renewedUntil, 'the renewed expiry was persisted');
  t.is(after.state, 'HOST_STATE_READY');
  clock.advance(4000 - 1); // one millisecond short of the renewed expiry: a lease from the sync would have lapsed
  await writesSettled(raw, 'hosts/h');
  t.is((await second.client.getHost('hosts/h')).state, 'HOST_STATE_READY');
  const lapsed = nextChangeOf(second.server.registry, 'h');
  clock.advance(1);
  t.is((await lapsed).time, renewedUntil, 'and lapses at it');
});

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of iterable) items.push(item);
  return items;
}
