// The client library's change feed against real servers: `client.watch()` resumes by itself
// (a server restart, a crash, a consumer cut off as too slow) and then delivers every revision
// exactly once, in order; RegistryMirror converges to what the server lists, also when it
// starts in the middle of writes and when a compaction forces it to list again.

import test, { type ExecutionContext } from 'ava';
import * as grpc from '@grpc/grpc-js';
import { openDatabase } from '../server/store/open-database.ts';
import path from 'node:path';
import { rmSync } from 'node:fs';
import {
  DevcompatClient,
  DevcompatError,
  RegistryMirror,
  type Device,
  type Host,
  type SyncHostRequest,
  type WatchOptions,
  type WatchResponse,
} from '../client/client.ts';
import { startServer, type RunningServer, type ServerOptions } from '../server/server.ts';
import { spawnServer } from './helpers/process.ts';
import { collect, extraClient, rejectsWith, sleep, waitUntil } from './helpers/integration.ts';
import { tempDir } from './helpers/server.ts';

const GPU = (version: string, vendor = 'nvidia') => ({
  vendor,
  device_api: 'vfio-pci',
  type: vendor === 'nvidia' ? 'nvidia-a10-4q' : 'i915-GVTg_V5_4',
  software_version: version,
});

function host(name: string, version: string, devices = 2, extra: Partial<SyncHostRequest> = {}): SyncHostRequest {
  return {
    name,
    devices: Array.from({ length: devices }, (_, i) => ({ device_id: `gpu${i}`, descriptor: GPU(version) })),
    ...extra,
  } as SyncHostRequest;
}

/**
 * A server on `address` (127.0.0.1:0 for a new port) over `dbPath`, closed at teardown. No
 * agent sends keepalives here: a lease lapsing in a slow run would add revisions.
 */
async function serve(t: ExecutionContext, dbPath: string, address = '127.0.0.1:0', options: Partial<ServerOptions> = {}): Promise<RunningServer> {
  const server = await startServer({ leaseTtlMs: 3_600_000, ...options, dbPath, address });
  t.teardown(() => server.close());
  return server;
}

/** A client that retries quickly, as a test wants (the defaults are for production). */
function quickClient(t: ExecutionContext, address: string, actor = 'test'): DevcompatClient {
  return extraClient(t, address, { actor, retry: { maxAttempts: 4, initialBackoffMs: 20, maxBackoffMs: 200 } });
}

/** Collects what `client.watch()` yields, and every interruption it resumed from. */
function record(t: ExecutionContext, client: DevcompatClient, options: WatchOptions = {}, onMessage?: () => Promise<void>) {
  const controller = new AbortController();
  const messages: WatchResponse[] = [];
  const resumes: { code: string; reason: string | undefined; next: string | undefined }[] = [];
  let failure: unknown;
  const done = (async () => {
    try {
      const feed = client.watch({
        ...options,
        signal: controller.signal,
        onResume: (error, next) => resumes.push({ code: error.codeName, reason: error.reason, next }),
      });
      for await (const message of feed) {
        messages.push(message);
        await onMessage?.();
      }
    } catch (error) {
      failure = error;
    }
  })();
  const stop = async () => {
    controller.abort();
    await done;
  };
  t.teardown(stop);
  return {
    messages,
    resumes,
    get failure() {
      return failure;
    },
    /** Revisions of the messages that carried events, in the order they were yielded. */
    eventRevisions: () => messages.filter((m) => !m.created && !m.progress).map((m) => Number(m.revision)),
    /** (revision, resource, kind) of every event, in order. */
    events: () => messages.flatMap((m) => m.events.map((e) => [Number(m.revision), e.resource, e.kind])),
    stop,
  };
}

/** Calls `write` until the server is there to answer it. */
async function throughOutages<T>(write: () => Promise<T>): Promise<T> {
  for (;;) {
    try {
      return await write();
    } catch (error) {
      if ((error as DevcompatError).code !== grpc.status.UNAVAILABLE) throw error;
      await sleep(20);
    }
  }
}

/** Writes `count` syncs, retrying through outages; returns the revisions acknowledged. */
async function keepWriting(client: DevcompatClient, count: number, onWrite: (done: number) => Promise<void> = async () => {}): Promise<number[]> {
  const acknowledged: number[] = [];
  for (let i = 0; i < count; i++) {
    const response = await throughOutages(() => client.syncHost(host(`h${i % 5}`, `1.${i}.0`)));
    acknowledged.push(Number(response.revision));
    await onWrite(i + 1);
  }
  return acknowledged;
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** Every history entry as (revision, resource, kind), oldest first. */
async function historyEvents(client: DevcompatClient, startRevision = 1): Promise<unknown[][]> {
  const entries = await collect(client.history({ order: 'HISTORY_ORDER_OLDEST_FIRST', startRevision: startRevision }));
  return entries.map((e) => [Number(e.revision), e.resource, e.kind]);
}

test('a watch resumes across a server restart while writes go on: every revision once, in order', async (t) => {
  const dir = tempDir(t);
  const dbPath = path.join(dir, 'registry.db');
  let server = await serve(t, dbPath);
  const address = server.address;
  const writer = quickClient(t, address, 'writer');
  await keepWriting(writer, 3);

  const watcher = record(t, quickClient(t, address, 'watcher'));
  await waitUntil(() => watcher.messages.length > 0, 5000);
  const created = watcher.messages[0];
  t.true(created.created);
  t.is(created.revision, '3');

  const writes = keepWriting(writer, 60, async (done) => {
    if (done !== 20) return;
    // Mid-stream: the server goes away (its streams end with UNAVAILABLE) and comes back on
    // the same address and database; the writer keeps retrying meanwhile.
    await server.close();
    t.true(await waitUntil(() => watcher.resumes.length > 0, 5000), 'the watch saw the server go');
    server = await serve(t, dbPath, address);
  });
  const acknowledged = await writes;
  // One more write after the last: once the watch has yielded it, anything yielded twice
  // before it would have shown up (the feed is in revision order).
  const last = Number((await throughOutages(() => writer.syncHost(host('sentinel', '1.0.0')))).revision);
  t.is(last, acknowledged.at(-1)! + 1);
  t.true(await waitUntil(() => watcher.eventRevisions().at(-1) === last, 20_000), `the watch reaches revision ${last}`);
  await watcher.stop();

  t.is(watcher.failure, undefined);
  t.deepEqual(watcher.eventRevisions(), range(4, last), 'no gap, no duplicate');
  t.is(watcher.messages.filter((m) => m.created).length, 1, 'the created message of the resumed stream is not yielded again');
  t.true(watcher.resumes.length >= 1, 'the watch was interrupted');
  t.is(watcher.resumes[0].code, 'UNAVAILABLE');
  t.deepEqual(watcher.events(), await historyEvents(writer, 4), 'the events are history, entry for entry');
});

test('a watch resumes after the server process is killed (SIGKILL) and restarted on its address', async (t) => {
  const dir = tempDir(t);
  const db = path.join(dir, 'registry.db');
  const first = await spawnServer(['--db', db, '--address', '127.0.0.1:0', '--lease-ttl', '1h']);
  t.teardown(() => void first.child.kill('SIGKILL'));
  const address = first.address;
  const writer = quickClient(t, address, 'writer');
  const watcher = record(t, quickClient(t, address, 'watcher'), { startRevision: 1 });
  let second: Awaited<ReturnType<typeof spawnServer>> | undefined;
  const acknowledged = await keepWriting(writer, 40, async (done) => {
    if (done !== 15) return;
    first.child.kill('SIGKILL');
    await first.exited;
    second = await spawnServer(['--db', db, '--address', address, '--lease-ttl', '1h']);
    t.teardown(() => void second?.child.kill('SIGKILL'));
  });
  // A sync whose answer the crash swallowed was retried and found nothing to change, so the
  // registry's revisions are not only the acknowledged ones: the server's own count is the truth.
  const final = Number((await writer.listHostsPage({})).revision);
  t.true(final >= acknowledged.at(-1)!);
  t.true(await waitUntil(() => watcher.eventRevisions().at(-1) === final, 20_000), `the watch reaches revision ${final}`);
  await watcher.stop();
  t.is(watcher.failure, undefined);
  t.deepEqual(watcher.eventRevisions(), range(1, final), 'no gap, no duplicate');
  t.true(watcher.resumes.length >= 1 && watcher.resumes.every((r) => r.code === 'UNAVAILABLE'), JSON.stringify(watcher.resumes));
  t.deepEqual(watcher.events(), await historyEvents(writer));
});

test('a watch from now resumes after its created revision when the server restarts before any change', async (t) => {
  const dir = tempDir(t);
  const dbPath = path.join(dir, 'registry.db');
  let server = await serve(t, dbPath);
  const address = server.address;
  const writer = quickClient(t, address, 'writer');
  await keepWriting(writer, 4);
  const watcher = record(t, quickClient(t, address, 'watcher'));
  await waitUntil(() => watcher.messages.length > 0, 5000);
  t.like(watcher.messages[0], { created: true, revision: '4' });

  await server.close();
  server = await serve(t, dbPath, address);
  t.true(await waitUntil(() => watcher.resumes.length > 0, 5000));
  t.is(watcher.resumes[0].next, '5', 'created at 4, the watch resumes at 5');
  const fifth = await throughOutages(() => writer.syncHost(host('new', '1.0.0')));
  t.is(fifth.revision, '5');
  // A sixth write: once it is yielded, a repeated revision 4 or 5 would have shown up before it.
  const sixth = await writer.syncHost(host('newer', '1.0.0'));
  t.is(sixth.revision, '6');
  t.true(await waitUntil(() => watcher.eventRevisions().at(-1) === 6, 20_000));
  await watcher.stop();
  t.deepEqual(watcher.eventRevisions(), [5, 6]);
  t.deepEqual(
    watcher.messages.map((m) => (m.created ? 'created' : m.progress ? 'progress' : m.revision)).filter((m) => m !== 'progress'),
    ['created', '5', '6'],
  );
  t.true(await waitUntil(() => server.watches.size === 0, 2000), 'aborting the signal ended the watch on the server');
});

/**
 * A watch from revision 1 whose consumer takes its first message, then reads nothing while 400
 * syncs of large hosts (about 4 KB a revision) are written and for `idleAfterMs` more; then it
 * reads everything. Resolves once it has the last write, with what it saw.
 */
async function stalledConsumer(t: ExecutionContext, options: Partial<ServerOptions>, idleAfterMs: number) {
  const dir = tempDir(t);
  const server = await serve(t, path.join(dir, 'registry.db'), '127.0.0.1:0', { watchBufferBytes: 64 * 1024, ...options });
  const writer = quickClient(t, server.address, 'writer');
  let release!: () => void;
  const writesDone = new Promise<void>((resolve) => (release = resolve));
  const watcher = record(t, quickClient(t, server.address, 'watcher'), { startRevision: 1 }, () => writesDone);
  const writes = 400;
  const labels = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`label-${i}`, 'x'.repeat(60)]));
  for (let i = 0; i < writes; i++) await writer.syncHost(host(`h${i % 10}`, `1.${i}.0`, 2, { labels }));
  await new Promise((resolve) => setTimeout(resolve, idleAfterMs));
  release();
  t.true(await waitUntil(() => watcher.eventRevisions().at(-1) === writes, 30_000), 'the watch reaches the last write');
  await watcher.stop();
  return { watcher, writes };
}

test('a consumer that pauses while far more than the server buffer is written gets every revision, with no resume', async (t) => {
  const { watcher, writes } = await stalledConsumer(t, {}, 0);
  t.deepEqual(watcher.resumes, [], 'the server caught it up from history instead of cutting it off');
  t.deepEqual(watcher.eventRevisions(), range(1, writes));
});

test('a consumer that reads nothing for the server\'s --send-timeout is cut off and resumes without gap or duplicate', async (t) => {
  // It reads nothing for well past the send timeout and the second its status is given to be read.
  const { watcher, writes } = await stalledConsumer(t, { limits: { sendTimeoutMs: 300 } }, 2000);
  t.true(
    watcher.resumes.some((r) => r.code === 'RESOURCE_EXHAUSTED'),
    `cut off: ${JSON.stringify(watcher.resumes)}`,
  );
  t.deepEqual(watcher.eventRevisions(), range(1, writes));
});

test('a watch from a compacted revision fails with OUT_OF_RANGE naming the oldest revision', async (t) => {
  const dir = tempDir(t);
  const server = await serve(t, path.join(dir, 'registry.db'));
  const client = quickClient(t, server.address);
  await keepWriting(client, 6);
  const compacted = await client.compactHistory(4);
  t.is(compacted.oldest_revision, '5');
  const error = await rejectsWith(t, collect(client.watch({ startRevision: 2 })), grpc.status.OUT_OF_RANGE);
  t.is(error.reason, 'REVISION_COMPACTED');
  t.is(error.metadata.oldest_revision, '5');
  // From the oldest revision it works.
  const feed = client.watch({ startRevision: 5 });
  const seen: string[] = [];
  for await (const message of feed) {
    if (!message.created) seen.push(message.revision);
    if (seen.length === 2) break;
  }
  t.deepEqual(seen, ['5', '6']);
  t.true(await waitUntil(() => server.watches.size === 0, 2000), 'leaving the loop ended the watch on the server');
});

test('watchTargets gives the initial targets, then each change at its revision, until aborted', async (t) => {
  const dir = tempDir(t);
  const server = await serve(t, path.join(dir, 'registry.db'));
  const client = quickClient(t, server.address);
  await client.syncHost(host('source', '1.0.0', 1));
  await client.syncHost(host('old-target', '1.0.0', 1));
  const baseline = server.openStreams();
  const stop = new AbortController();
  const received: { revision: string; initial: boolean; complete: boolean; changes: string[] }[] = [];
  const done = (async () => {
    for await (const message of client.watchTargets('hosts/source/devices/gpu0', { signal: stop.signal })) {
      received.push({
        revision: message.revision,
        initial: message.initial,
        complete: message.initial_complete,
        changes: message.changes.map((c) => `${c.kind.replace('TARGET_CHANGE_KIND_', '')} ${c.name}`),
      });
    }
  })();
  t.true(await waitUntil(() => received.some((m) => m.complete), 5000));
  const drained = await client.setHostDraining('hosts/old-target', true);
  const added = await client.syncHost(host('new-target', '1.0.0', 1));
  t.true(await waitUntil(() => received.length >= 3, 5000));
  stop.abort();
  await done; // an aborted standing query ends quietly
  t.deepEqual(received, [
    { revision: '2', initial: true, complete: true, changes: ['ADDED hosts/old-target/devices/gpu0'] },
    { revision: drained.revision, initial: false, complete: false, changes: ['REMOVED hosts/old-target/devices/gpu0'] },
    { revision: added.revision, initial: false, complete: false, changes: ['ADDED hosts/new-target/devices/gpu0'] },
  ]);
  t.true(await waitUntil(() => server.openStreams() === baseline, 2000), 'nothing left open');
});

// ---------------------------------------------------------------------------------------
// RegistryMirror

/** Hosts as both sides can know them: sync times and lease expiries move without a revision. */
const hostView = ({ last_sync_time, lease_expire_time, ...rest }: Host) => rest;
// Free units are worked out live from claims and budgets by ListDevices; the watch feed's
// device snapshots do not carry them, so a mirror has them only as of its listing.
const deviceView = ({ free_units, ...rest }: Device) => rest;

async function listing(client: DevcompatClient): Promise<{ hosts: ReturnType<typeof hostView>[]; devices: ReturnType<typeof deviceView>[] }> {
  return {
    hosts: (await collect(client.listHosts())).map(hostView),
    devices: (await collect(client.listDevices())).map(deviceView),
  };
}

async function startMirror(t: ExecutionContext, client: DevcompatClient, options: ConstructorParameters<typeof RegistryMirror>[1] = {}) {
  const mirror = new RegistryMirror(client, { progressIntervalMs: 200, ...options });
  const errors: unknown[] = [];
  const resyncs: string[] = [];
  mirror.on('error', (error) => errors.push(error));
  mirror.on('resync', (revision) => resyncs.push(revision));
  t.teardown(() => mirror.close());
  await mirror.start();
  return { mirror, errors, resyncs };
}

/**
 * One writer's share of churn over its own four hosts: syncs that add, drop and change devices
 * (two vendors) and labels, draining marks, deletions and re-creations.
 */
async function churn(client: DevcompatClient, writer: number, steps: number): Promise<void> {
  const ignoreNotFound = (error: unknown) => {
    if ((error as DevcompatError).code !== grpc.status.NOT_FOUND) throw error;
  };
  for (let i = 0; i < steps; i++) {
    const name = `hosts/w${writer}-h${i % 4}`;
    const step = i % 7;
    if (step === 4) await client.setHostDraining(name, i % 2 === 0).catch(ignoreNotFound);
    else if (step === 5) await client.deleteHost(name).catch(ignoreNotFound);
    else {
      const vendor = step === 6 ? 'intel' : 'nvidia';
      await client.syncHost({
        name,
        labels: { step: String(i % 3) },
        devices: Array.from({ length: (i % 3) + 1 }, (_, d) => ({
          device_id: `dev${d}`,
          descriptor: GPU(`1.${i % 5}.0`, vendor),
          capacity: { total: 4, available: i % 4 },
        })),
      });
    }
  }
}

test('a mirror started in the middle of writes converges to what the server lists', async (t) => {
  const dir = tempDir(t);
  const server = await serve(t, path.join(dir, 'registry.db'));
  const client = quickClient(t, server.address);
  await Promise.all([churn(client, 0, 10), churn(client, 1, 10)]);
  // A small page size makes the listing span many pages while three writers go on.
  const committed = new Promise<void>((resolve) => {
    const stop = server.registry.subscribe(() => {
      stop();
      resolve();
    });
  });
  const writers = Promise.all([0, 1, 2].map((writer) => churn(quickClient(t, server.address, `writer-${writer}`), writer, 120)));
  await committed; // the writers are under way
  const { mirror, errors } = await startMirror(t, client, { pageSize: 3 });
  // Pages listed after the first may already reflect revisions the feed then replays: such an
  // event must not take a resource back in time, so each reported change is newer than what
  // the mirror held for that resource.
  const held = new Map<string, number>([
    ...mirror.hosts().map((h): [string, number] => [h.name, Number(h.revision)]),
    ...mirror.devices().map((d): [string, number] => [d.name, Number(d.revision)]),
  ]);
  const changes: string[] = [];
  const backwards: string[] = [];
  mirror.on('change', (change) => {
    changes.push(change.revision);
    for (const event of change.events) {
      if (Number(change.revision) <= (held.get(event.resource) ?? 0)) backwards.push(`${event.resource}@${change.revision}`);
      held.set(event.resource, Number(change.revision));
    }
  });
  await writers;

  const now = (await client.listHostsPage({})).revision;
  await mirror.waitForRevision(now, 10_000);
  t.is(mirror.revision, now);
  const expected = await listing(client);
  t.true(expected.devices.length > 0 && expected.hosts.some((h) => h.draining), 'the churn left devices and a draining host');
  t.deepEqual(mirror.hosts().map(hostView), expected.hosts);
  t.deepEqual(mirror.devices().map(deviceView), expected.devices);
  t.deepEqual(mirror.devices({ vendor: 'intel' }).map(deviceView), (await collect(client.listDevices({ vendor: 'intel' }))).map(deviceView));
  t.deepEqual(mirror.devices({ host: 'w1-h2' }).map(deviceView), (await collect(client.listDevices({ host: 'w1-h2' }))).map(deviceView));
  const some = expected.devices[0];
  t.deepEqual(deviceView(mirror.getDevice(some.name)!), some);
  t.deepEqual(hostView(mirror.getHost(expected.hosts[0].name)!), expected.hosts[0]);
  t.is(mirror.getDevice('hosts/nowhere/devices/x'), undefined);
  t.true(changes.length > 0, 'changes were reported');
  t.deepEqual(backwards, [], 'no change took a resource back to an older revision');
  t.deepEqual(changes, [...changes].sort((a, b) => Number(a) - Number(b)), 'in revision order');
  t.deepEqual(errors, []);
});

test('a mirror whose feed was compacted away while it was disconnected lists again and converges', async (t) => {
  const dir = tempDir(t);
  const dbPath = path.join(dir, 'registry.db');
  const first = await serve(t, dbPath);
  const address = first.address;
  const client = quickClient(t, address);
  for (let i = 0; i < 6; i++) await client.syncHost(host(`h${i}`, '1.0.0'));
  const { mirror, errors, resyncs } = await startMirror(t, client);
  t.is(mirror.revision, '6');
  t.deepEqual(mirror.hosts().map((h) => h.name), ['hosts/h0', 'hosts/h1', 'hosts/h2', 'hosts/h3', 'hosts/h4', 'hosts/h5']);

  // While the mirror cannot reach its address, the registry changes elsewhere and compacts
  // its history past what the mirror has seen.
  await first.close();
  const elsewhere = await serve(t, dbPath);
  const admin = quickClient(t, elsewhere.address, 'admin');
  await admin.deleteHost('hosts/h0');
  await admin.syncHost(host('h1', '2.0.0', 3));
  await admin.setHostDraining('hosts/h2', true);
  await admin.syncHost(host('h9', '1.0.0'));
  const compacted = await admin.compactHistory((await admin.listHostsPage({})).revision);
  t.is(compacted.checkpoint_revision, '10');
  await elsewhere.close();

  const back = await serve(t, dbPath, address);
  await mirror.waitForRevision(10, 20_000);
  t.deepEqual(resyncs, ['10'], 'one relist, at the compacted head');
  t.deepEqual(mirror.hosts().map((h) => h.name), ['hosts/h1', 'hosts/h2', 'hosts/h3', 'hosts/h4', 'hosts/h5', 'hosts/h9']);

  // And it follows the feed again afterwards.
  const after = await throughOutages(() => client.syncHost(host('h3', '3.0.0')));
  await mirror.waitForRevision(after.revision, 10_000);
  t.is(mirror.getDevice('hosts/h3/devices/gpu0')?.descriptor.software_version, '3.0.0');
  const expected = await listing(quickClient(t, back.address));
  t.deepEqual(mirror.hosts().map(hostView), expected.hosts);
  t.deepEqual(mirror.devices().map(deviceView), expected.devices);
  t.deepEqual(errors, []);
});

test('a mirror whose watch the server refuses for now (too many watches on the connection) waits it out and follows once it may', async (t) => {
  const dir = tempDir(t);
  const server = await serve(t, path.join(dir, 'registry.db'), '127.0.0.1:0', { limits: { maxWatchesPerConnection: 1 } });
  const client = quickClient(t, server.address);
  await client.syncHost(host('a', '1.0.0'));
  // Another watch on the mirror's connection takes the only place.
  const other = new AbortController();
  const taken = client.watch({ signal: other.signal });
  const first = await taken.next();
  t.true(first.value?.created);
  const { mirror, errors } = await startMirror(t, client);
  t.is(mirror.revision, '1');
  // The mirror's watch is refused (RESOURCE_EXHAUSTED, OVERLOADED): it is still there, waiting.
  const refused = await rejectsWith(t, collect(client.watch({})), grpc.status.RESOURCE_EXHAUSTED);
  t.is(refused.reason, 'OVERLOADED');
  await sleep(300);
  t.deepEqual(errors, [], 'a refusal for now does not stop the mirror');
  t.is(mirror.failure, undefined);
  other.abort();
  await taken.return(undefined);
  const next = await client.syncHost(host('b', '1.0.0'));
  await mirror.waitForRevision(next.revision, 20_000);
  t.is(mirror.getHost('b')?.device_count, 2);
  t.deepEqual(errors, []);
});

test('waitForRevision resolves through progress messages and times out with DEADLINE_EXCEEDED', async (t) => {
  const dir = tempDir(t);
  const dbPath = path.join(dir, 'registry.db');
  const server = await serve(t, dbPath);
  const client = quickClient(t, server.address);
  await client.syncHost(host('a', '1.0.0'));
  const { mirror } = await startMirror(t, client);
  await mirror.waitForRevision(1, 1000);
  const late = mirror.waitForRevision(3, 300);
  const error = await t.throwsAsync(late, { instanceOf: DevcompatError });
  t.is(error?.codeName, 'DEADLINE_EXCEEDED');
  t.regex(error!.message, /did not reach revision 3 within 300 ms \(it is at 1\)/);
  const pending = mirror.waitForRevision(3, 5000);
  await client.syncHost(host('a', '1.1.0'));
  await client.syncHost(host('b', '1.0.0'));
  await pending;
  t.is(mirror.getHost('b')?.device_count, 2);

  // Revisions the feed has no event for (their entries were removed from the file while the
  // server was down): only a progress message tells the mirror the registry reached them.
  const address = server.address;
  await server.close();
  const elsewhere = await serve(t, dbPath);
  const writer = quickClient(t, elsewhere.address);
  await writer.syncHost(host('c', '1.0.0'));
  const silent = await writer.syncHost(host('d', '1.0.0'));
  t.is(silent.revision, '5');
  await elsewhere.close();
  const db = openDatabase(dbPath);
  t.is((db.prepare('SELECT COUNT(*) AS entries FROM history_entries WHERE revision > 3').get() as { entries: number }).entries, 6);
  t.is(db.prepare('DELETE FROM history WHERE revision > 3').run().changes, 2, 'one row per revision (migration 0007)');
  db.close();
  // The head anchor beside the file would refuse this start (server/store/head-anchor.ts):
  // the same hand deletes it, and the operator re-anchors the file (recorded as revision 6,
  // which has no event either).
  rmSync(`${dbPath}.head`);
  await serve(t, dbPath, address, { reanchor: 'test: entries removed by hand' });
  await mirror.waitForRevision(6, 10_000);
  t.is(mirror.revision, '6');
  t.is(mirror.getHost('c'), undefined, 'no event reached the mirror: progress moved it');

  const waiting = mirror.waitForRevision(99, 10_000);
  await mirror.close();
  const closed = await t.throwsAsync(waiting, { instanceOf: DevcompatError });
  t.is(closed?.codeName, 'CANCELLED');
});
