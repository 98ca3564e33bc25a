// WatchService.Watch against a real server: every change exactly once, in revision order,
// one message per revision; resume without gap or duplicate; filters (a device leaving the
// filter is a removal); progress; the compacted case; the slow-consumer cut-off; many
// watchers; nothing left behind.

import test from 'ava';
import * as grpc from '@grpc/grpc-js';
import type { SyncHostRequest } from '../client/client.ts';
import { capturedLog } from './helpers/log.ts';
import { scrape } from './helpers/metrics.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';
import { eventually, rawClients, unaryCall, WatchRecorder, type RawClients } from './helpers/watch.ts';
import { frame, rawSession } from './helpers/raw-http2.ts';
import { protoRoot } from '../proto/load.ts';

const GPU = (version: string, type = 'nvidia-a10-4q') => ({
  vendor: 'nvidia',
  device_api: 'vfio-pci',
  type,
  software_version: version,
});

function host(name: string, version: string, extra: Partial<SyncHostRequest> = {}): SyncHostRequest {
  return {
    name,
    devices: [
      { device_id: 'gpu0', descriptor: GPU(version) },
      { device_id: 'gpu1', descriptor: GPU(version) },
    ],
    ...extra,
  } as SyncHostRequest;
}

async function start(t: Parameters<typeof startTestServer>[0], options: Parameters<typeof startTestServer>[1] = {}) {
  const running = await startTestServer(t, options);
  const raw = rawClients(running.server.address);
  t.teardown(() => raw.close());
  return { ...running, raw };
}

function watch(raw: RawClients, request: object): WatchRecorder {
  return new WatchRecorder(raw.watch, request);
}

/** Writes `count` syncs over `hosts` hosts, `parallel` at a time; returns the revisions acknowledged. */
async function writeLoad(server: TestServer, count: number, hosts: number, parallel = 8): Promise<number[]> {
  const revisions: number[] = [];
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      const response = await server.client.syncHost(host(`load-${i % hosts}`, `1.${i}.0`));
      revisions.push(Number(response.revision));
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
  return revisions.sort((a, b) => a - b);
}

test('a watch from now delivers every revision once, in order, each revision whole in one message', async (t) => {
  const server = await start(t);
  const watcher = watch(server.raw, {});
  await watcher.waitFor((w) => w.messages.length > 0, 10_000, 'created');
  t.true(watcher.messages[0].created);
  t.is(watcher.messages[0].revision, '0');

  const acknowledged = await writeLoad(server, 120, 30);
  await watcher.waitFor((w) => w.revisions.length === 120, 20_000, '120 revisions');
  t.deepEqual(watcher.revisions, acknowledged, 'every acknowledged revision, in order, once');
  for (const message of watcher.eventMessages) {
    const revision = Number(message.revision);
    const kinds = message.events.map((event) => `${event.kind} ${event.resource}`);
    const hostName = message.events[0].resource.split('/devices/')[0];
    t.true(message.events.every((event) => event.resource.startsWith(hostName)), `revision ${revision} is one host's write`);
    if (revision <= 30) {
      // The first write of each host creates it and both its devices: three events, one message.
      t.deepEqual(kinds, [`CHANGE_KIND_CREATED ${hostName}`, `CHANGE_KIND_CREATED ${hostName}/devices/gpu0`, `CHANGE_KIND_CREATED ${hostName}/devices/gpu1`]);
    } else {
      t.deepEqual(kinds, [`CHANGE_KIND_UPDATED ${hostName}/devices/gpu0`, `CHANGE_KIND_UPDATED ${hostName}/devices/gpu1`]);
      t.truthy(message.events[0].before.device, 'an update carries the device before');
      t.truthy(message.events[0].after.device, 'and after');
    }
    t.regex(message.head_hash, /^[0-9a-f]{64}$/);
  }
  watcher.cancel();
});

test('resuming at the last revision + 1 misses nothing and repeats nothing while writes continue', async (t) => {
  const server = await start(t);
  const seen: number[] = [];
  const total = 300;
  const writing = writeLoad(server, total, 20, 4);
  let next: number | undefined;
  // Up to five reconnects while the writers go on, each cut at an arbitrary point. A round
  // also ends at the last revision: a slow watcher may find the writers already done, with
  // fewer than 25 revisions left (it would otherwise wait for revisions nobody writes).
  for (let round = 0; round < 5 && (next ?? 1) <= total; round++) {
    const watcher = watch(server.raw, next === undefined ? { start_revision: 1 } : { start_revision: next });
    await watcher.waitFor(
      (w) => w.revisions.length >= 25 || (w.revisions.at(-1) ?? 0) >= total || (w.revisions.length > 0 && round === 4),
      20_000,
      `some events from revision ${next ?? 1}`,
    );
    watcher.cancel();
    const got = watcher.revisions;
    seen.push(...got);
    next = got.at(-1)! + 1;
  }
  await writing;
  const last = watch(server.raw, { start_revision: next });
  await last.waitFor((w) => (w.revisions.at(-1) ?? next! - 1) >= total || next! > total, 20_000, 'the rest');
  last.cancel();
  seen.push(...last.revisions);
  t.deepEqual(seen, Array.from({ length: total }, (_, i) => i + 1));
});

test('a host filter sees only its host; a type filter turns a device leaving it into a removal', async (t) => {
  const server = await start(t);
  await server.client.syncHost(host('a', '1.0.0'));
  await server.client.syncHost(host('b', '1.0.0'));
  const onlyB = watch(server.raw, { start_revision: 1, filter: { host: 'hosts/b' } });
  const a10 = watch(server.raw, { filter: { type: 'nvidia-a10-4q' } });
  await a10.waitFor((w) => w.messages.length > 0);

  // gpu1 of host a becomes another type: it leaves the a10 filter, then comes back.
  const changed = {
    name: 'a',
    devices: [
      { device_id: 'gpu0', descriptor: GPU('1.0.0') },
      { device_id: 'gpu1', descriptor: GPU('1.0.0', 'nvidia-a16-2q') },
    ],
  } as SyncHostRequest;
  await server.client.syncHost(changed);
  await server.client.syncHost(host('a', '1.0.0'));
  await server.client.syncHost(host('b', '2.0.0'));
  await onlyB.waitFor((w) => w.revisions.includes(5));
  await a10.waitFor((w) => w.revisions.includes(5));

  t.deepEqual(onlyB.revisions, [2, 5], 'host b: its creation (caught up from history) and its update');
  const [left, back, bUpdate] = a10.eventMessages;
  t.is(left.revision, '3');
  t.deepEqual(
    left.events.map((e) => [e.kind, e.resource, e.left_filter]),
    [['CHANGE_KIND_DELETED', 'hosts/a/devices/gpu1', true]],
  );
  t.is(left.events[0].after.device.descriptor.type, 'nvidia-a16-2q', 'the removal shows where the device went');
  t.is(back.revision, '4');
  t.deepEqual(back.events.map((e) => [e.kind, e.resource, e.entered_filter]), [['CHANGE_KIND_CREATED', 'hosts/a/devices/gpu1', true]]);
  t.is(bUpdate.revision, '5');
  onlyB.cancel();
  a10.cancel();
});

test('a quiet watch receives progress with the current revision, a filtered one included', async (t) => {
  const server = await start(t);
  await server.client.syncHost(host('a', '1.0.0'));
  const filtered = watch(server.raw, { filter: { host: 'hosts/elsewhere' }, progress_interval_ms: 100 });
  await filtered.waitFor((w) => w.messages.some((m) => m.progress));
  await server.client.syncHost(host('a', '2.0.0'));
  await filtered.waitFor((w) => w.messages.some((m) => m.progress && m.revision === '2'), 10_000, 'progress at 2');
  t.deepEqual(filtered.eventMessages, [], 'no events for another host');
  const progress = filtered.messages.find((m) => m.progress && m.revision === '2')!;
  const verify = await unaryCall(server.raw.history, 'VerifyHistory', {});
  t.is(progress.head_hash, verify.head_hash, 'progress carries the chain head');
  filtered.cancel();
});

test('a start revision older than history holds is OUT_OF_RANGE naming the oldest available', async (t) => {
  const server = await start(t);
  for (let i = 0; i < 6; i++) await server.client.syncHost(host('a', `1.${i}.0`));
  await unaryCall(server.raw.history, 'CompactHistory', { revision: 4 });
  const old = watch(server.raw, { start_revision: 3 });
  await old.waitFor((w) => w.ended);
  t.is(old.error?.code, grpc.status.OUT_OF_RANGE);
  t.is(old.error?.reason, 'REVISION_COMPACTED');
  t.is(old.error?.metadata.oldest_revision, '5');
  t.regex(old.error!.message, /oldest revision available is 5/);

  const fine = watch(server.raw, { start_revision: 5 });
  await fine.waitFor((w) => w.revisions.length === 2);
  t.deepEqual(fine.revisions, [5, 6]);
  t.is(fine.messages[0].oldest_revision, '5');
  fine.cancel();
});

const BIG_LABELS = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`label-${i}`, 'x'.repeat(60)]));

test('a consumer that stops reading falls behind, is not cut off, and once it reads again gets every revision from history; writers and other watchers go on', async (t) => {
  const server = await start(t, { watchBufferBytes: 64 * 1024, metricsAddress: '127.0.0.1:0' });
  const slow = watch(server.raw, {});
  const healthy = watch(server.raw, {});
  await slow.waitFor((w) => w.messages.length > 0);
  await healthy.waitFor((w) => w.messages.length > 0);
  slow.call.pause(); // stops reading: HTTP/2 flow control backs up into the server
  const writes = 400; // about 1.7 MB of revisions: many times the 64 KiB buffer
  for (let i = 0; i < writes; i++) await server.client.syncHost(host(`h${i % 10}`, `1.${i}.0`, { labels: BIG_LABELS }));
  await healthy.waitFor((w) => w.revisions.length === writes, 20_000, 'the healthy watcher gets everything');
  let metrics = await scrape(server.server.metricsAddress!);
  t.is(metrics.value('devcompat_watchers', { phase: 'catching_up' }), 1, 'the slow watcher is behind, waiting for its consumer');
  t.is(metrics.value('devcompat_watch_fell_behind_total'), 1);
  t.is(server.server.watches.size, 2, 'still watching');

  slow.call.resume();
  await slow.waitFor((w) => w.revisions.length === writes, 20_000, 'the slow watcher gets everything');
  t.deepEqual(slow.revisions, Array.from({ length: writes }, (_, i) => i + 1), 'every revision once, in order');
  t.false(slow.ended, 'not cut off');
  // Caught up, it is live again: the next write reaches it at once.
  await server.client.syncHost(host('h0', '2.0.0'));
  await slow.waitFor((w) => w.revisions.at(-1) === writes + 1, 10_000, 'a live revision after the catch-up');
  metrics = await scrape(server.server.metricsAddress!);
  t.is(metrics.value('devcompat_watchers', { phase: 'live' }), 2);
  t.is(metrics.value('devcompat_watchers', { phase: 'catching_up' }), 0);
  t.is(metrics.value('devcompat_stream_cutoffs_total', { grpc_service: 'devcompat.v1.WatchService', grpc_method: 'Watch' }) ?? 0, 0);
  slow.cancel();
  healthy.cancel();
});

test('a consumer that reads nothing for --send-timeout is cut off with RESOURCE_EXHAUSTED and its stream reset; logged, counted; resuming from its last revision + 1 gives the rest', async (t) => {
  const log = capturedLog();
  const server = await start(t, {
    watchBufferBytes: 64 * 1024,
    metricsAddress: '127.0.0.1:0',
    logger: log.logger,
    limits: { sendTimeoutMs: 500 },
  });
  const baseline = server.server.openStreams();
  const slow = watch(server.raw, {});
  const healthy = watch(server.raw, {});
  await slow.waitFor((w) => w.messages.length > 0);
  await healthy.waitFor((w) => w.messages.length > 0);
  slow.call.pause();
  const writes = 400;
  for (let i = 0; i < writes; i++) await server.client.syncHost(host(`h${i % 10}`, `1.${i}.0`, { labels: BIG_LABELS }));
  await healthy.waitFor((w) => w.revisions.length === writes, 20_000, 'the healthy watcher gets everything');
  const cutOff = await log.waitFor('stream cut off: its consumer read nothing');
  t.is(cutOff.method, '/devcompat.v1.WatchService/Watch');
  t.regex(cutOff.reason, /read nothing for 500 ms \(--send-timeout\)/);
  // Its stream is reset even though its client never reads again: what the server held for it
  // goes, and the client learns it while still reading nothing.
  await eventually(() => slow.ended, 10_000, 'the slow watch reset');
  await eventually(() => server.server.watches.size === 1 && server.server.openStreams() === baseline + 1, 10_000, 'the slow watch released');
  const metrics = await scrape(server.server.metricsAddress!);
  t.is(metrics.value('devcompat_stream_cutoffs_total', { grpc_service: 'devcompat.v1.WatchService', grpc_method: 'Watch' }), 1);
  slow.call.resume();
  // It reads what it had received before the reset (the status may be reported before).
  await eventually(() => slow.ended && slow.call.readableLength === 0, 20_000, 'the slow watch to end');
  t.is(slow.error?.code, grpc.status.RESOURCE_EXHAUSTED);
  t.true(slow.revisions.length < writes, 'it was cut before the end');
  const resumed = watch(server.raw, { start_revision: (slow.revisions.at(-1) ?? 0) + 1 });
  await resumed.waitFor((w) => w.revisions.at(-1) === writes);
  t.deepEqual([...slow.revisions, ...resumed.revisions], Array.from({ length: writes }, (_, i) => i + 1));
  healthy.cancel();
  resumed.cancel();
});

test('revisions larger than the whole buffer, one right behind another, reach a watcher that reads after a pause, whole', async (t) => {
  const server = await start(t, { watchBufferBytes: 64 * 1024, metricsAddress: '127.0.0.1:0' });
  const watcher = watch(server.raw, {});
  await watcher.waitFor((w) => w.messages.length > 0);
  // A moment without reading (a pause of its process): the first large revision is still
  // unsent when the next comes, and two of them pass the buffer's bound.
  watcher.call.pause();
  // 300 devices, each with its own labelled descriptor: one revision of well over 64 KiB.
  const big = (name: string, version: string) =>
    ({
      name,
      labels: BIG_LABELS,
      devices: Array.from({ length: 300 }, (_, i) => ({ device_id: `gpu${i}`, descriptor: GPU(version) })),
    }) as SyncHostRequest;
  const acknowledged = await Promise.all([
    server.client.syncHost(big('big-a', '1.0.0')),
    server.client.syncHost(big('big-b', '1.0.0')),
    server.client.syncHost(big('big-c', '1.0.0')),
  ]);
  const revisions = acknowledged.map((response) => Number(response.revision)).sort((a, b) => a - b);
  const metrics = await scrape(server.server.metricsAddress!);
  t.true((metrics.value('devcompat_watch_fell_behind_total') ?? 0) >= 1, 'a revision did not fit behind the one unsent');
  watcher.call.resume();
  await watcher.waitFor((w) => w.revisions.length === 3, 20_000, 'three large revisions');
  t.deepEqual(watcher.revisions, revisions);
  for (const message of watcher.eventMessages) t.is(message.events.length, 301, 'the host and its 300 devices, in one message');
  t.false(watcher.ended, 'not cut off');
  watcher.cancel();
});

test('200 concurrent watchers all receive the same sequence; cancelled watches leave nothing behind', async (t) => {
  // All 200 on one connection: past the default --max-watches-per-connection, raised for this.
  const server = await start(t, { limits: { maxWatchesPerConnection: 200 } });
  const baseline = server.server.openStreams();
  const watchers = Array.from({ length: 200 }, (_, i) => watch(server.raw, i % 2 ? {} : { start_revision: 1 }));
  await Promise.all(watchers.map((w) => w.waitFor((r) => r.messages.length > 0)));
  const acknowledged = await writeLoad(server, 60, 15);
  await Promise.all(watchers.map((w) => w.waitFor((r) => r.revisions.length === 60, 20_000, '60 revisions')));
  for (const watcher of watchers) t.deepEqual(watcher.revisions, acknowledged);
  t.is(server.server.watches.size, 200);
  for (const watcher of watchers) watcher.cancel();
  await eventually(() => server.server.watches.size === 0 && server.server.openStreams() === baseline, 10_000, 'cleanup');
  t.pass();
});

test('a watch from revision 1 catches up from history, then continues live without a seam', async (t) => {
  const server = await start(t);
  await writeLoad(server, 2500, 50); // more than one catch-up page of history entries
  const watcher = watch(server.raw, { start_revision: 1 });
  const more = writeLoad(server, 100, 10, 2);
  await more;
  await watcher.waitFor((w) => w.revisions.length === 2600, 30_000, '2600 revisions');
  t.deepEqual(watcher.revisions, Array.from({ length: 2600 }, (_, i) => i + 1));
  watcher.cancel();
});

test('bad watch requests are INVALID_ARGUMENT naming the field', async (t) => {
  const server = await start(t);
  const tooFast = watch(server.raw, { progress_interval_ms: 10 });
  await tooFast.waitFor((w) => w.ended);
  t.is(tooFast.error?.code, grpc.status.INVALID_ARGUMENT);
  t.deepEqual(tooFast.error?.fieldViolations.map((v) => v.field), ['progress_interval_ms']);
  const badHost = watch(server.raw, { filter: { host: 'hosts/not a host' } });
  await badHost.waitFor((w) => w.ended);
  t.is(badHost.error?.code, grpc.status.INVALID_ARGUMENT);
  t.deepEqual(badHost.error?.fieldViolations.map((v) => v.field), ['filter.host']);
  // Filter strings are what a descriptor may hold: a watch would keep a longer one all its life.
  const badStrings = watch(server.raw, { filter: { vendor: 'v'.repeat(4 << 20), device_api: 'vfio\n', type: 'ok' } });
  await badStrings.waitFor((w) => w.ended);
  t.is(badStrings.error?.code, grpc.status.INVALID_ARGUMENT);
  t.deepEqual(badStrings.error?.fieldViolations.map((v) => [v.field, v.description]), [
    ['filter.vendor', 'at most 256 characters'],
    ['filter.device_api', 'must not contain control characters (NUL, newline, escape, DEL, C1)'],
  ]);
  t.is(server.server.watches.size, 0);
});

test('a watch catches up through one revision larger than its page: a 4,096-device sync arrives whole', async (t) => {
  const server = await start(t);
  const first = await server.client.syncHost(host('small', '1.0.0'));
  const devices = Array.from({ length: 4096 }, (_, i) => ({ device_id: `vf${i}`, descriptor: GPU('1.0.0') }));
  const big = await server.client.syncHost({ name: 'big', devices } as SyncHostRequest);
  const last = await server.client.syncHost(host('small', '1.1.0'));
  t.deepEqual([first.revision, big.revision, last.revision], ['1', '2', '3']);

  // From revision 1 (its first page ends inside revision 2) and from revision 2 (a page that
  // holds nothing but part of revision 2).
  for (const start_revision of [1, 2]) {
    const watcher = watch(server.raw, { start_revision });
    await watcher.waitFor((w) => w.revisions.at(-1) === 3, 30_000, 'revision 3');
    t.deepEqual(watcher.revisions, [1, 2, 3].filter((r) => r >= start_revision), 'each revision once, in order');
    const whole = watcher.eventMessages.find((m) => m.revision === '2')!;
    t.is(whole.events.length, 4097, 'the host and its 4,096 devices, in one message');
    t.is(new Set(whole.events.map((e) => e.resource)).size, 4097);
    t.true(whole.events.every((e) => e.kind === 'CHANGE_KIND_CREATED'));
    t.is(whole.events.at(-1)!.resource.startsWith('hosts/big/devices/vf'), true);
    t.is(whole.head_hash, big.head_hash, 'the message ends at the chain head the write returned');
    watcher.cancel();
  }
});

test('a consumer reading slowly but steadily is neither cut off nor sent a revision twice while the server waits for it', async (t) => {
  // --send-timeout 4 s; each revision about 180 KB; the consumer takes about 32 KB a second, so
  // one revision takes it six seconds: longer than the timeout, though it never stops.
  const server = await start(t, { watchBufferBytes: 64 * 1024, metricsAddress: '127.0.0.1:0', limits: { sendTimeoutMs: 4_000 } });
  const raw = rawSession(server.server.address);
  t.teardown(() => raw.session.destroy());
  const { stream, ended } = raw.open('/devcompat.v1.WatchService/Watch', false);
  stream.end(frame(protoRoot().lookupType('devcompat.v1.WatchRequest').encode({ progress_interval_ms: 3_600_000 }).finish()));
  // Takes one chunk (at most 8 KiB), then nothing for a quarter of a second.
  let received = Buffer.alloc(0);
  const pace = setInterval(() => {
    const chunk = stream.read(8 * 1024) ?? stream.read();
    if (chunk) received = Buffer.concat([received, chunk]);
  }, 250);
  t.teardown(() => clearInterval(pace));
  const messageSizes = () => {
    const sizes: number[] = [];
    for (let at = 0; at + 5 <= received.length; ) {
      const length = received.readUInt32BE(at + 1);
      if (at + 5 + length > received.length) break;
      sizes.push(length);
      at += 5 + length;
    }
    return sizes;
  };
  await eventually(() => messageSizes().length >= 1, 10_000, 'the created message');
  const big = (name: string) =>
    ({
      name,
      labels: BIG_LABELS,
      devices: Array.from({ length: 1200 }, (_, i) => ({ device_id: `gpu${String(i).padStart(4, '0')}`, descriptor: GPU('1.0.0') })),
    }) as SyncHostRequest;
  await server.client.syncHost(big('big-a'));
  await server.client.syncHost(big('big-b'));
  await eventually(() => messageSizes().length === 3, 60_000, 'both large revisions, read at the consumer\'s pace');
  const sizes = messageSizes();
  t.true(sizes[1] > 150_000 && sizes[2] > 150_000, `two large revisions: ${sizes.join(', ')} bytes`);
  const metrics = await scrape(server.server.metricsAddress!);
  t.is(metrics.value('devcompat_stream_cutoffs_total', { grpc_service: 'devcompat.v1.WatchService', grpc_method: 'Watch' }) ?? 0, 0, 'not cut off');
  t.true((metrics.value('devcompat_watch_fell_behind_total') ?? 0) >= 1, 'the second did not fit behind the first: the server waited for the consumer');
  clearInterval(pace);
  stream.close();
  await ended;
});
