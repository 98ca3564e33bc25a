// Limits as a careless or hostile client meets them, over real connections to a real server: a
// request that never finishes arriving is cut off (and its buffered part released) while other
// clients are served; over the memory budget new calls are shed with RESOURCE_EXHAUSTED but
// health checks and lease keepalives are not; the server advertises its per-connection stream
// limit; FindTargets streams beyond the server-wide limit are shed at once, and those whose
// clients read nothing are cut off (their answers released) while other clients are served.

import test from 'ava';
import * as http2 from 'node:http2';
import * as grpc from '@grpc/grpc-js';
import { generateFleet } from '../bench/fleet.ts';
import { findSources } from '../bench/find-sources.ts';
import { syncRequest } from '../bench/load.ts';
import { DevcompatError } from '../client/client.ts';
import { startTestServer } from './helpers/server.ts';
import { cachedRss, RSS_READING_MS } from '../server/grpc/limits.ts';
import { eventually, rawClients } from './helpers/watch.ts';
import { protoRoot } from '../proto/load.ts';
import { MessageFraming } from '../server/grpc/message-framing.ts';
import { frame, rawSession, type RawOutcome } from './helpers/raw-http2.ts';

test('a request that never arrives in full is cut off at the receive timeout while other clients are served', async (t) => {
  const { server, client } = await startTestServer(t, { limits: { receiveTimeoutMs: 1500 } });
  const raw = rawSession(server.address);
  t.teardown(() => raw.session.destroy());

  // Announce an 8 MiB SyncHost, send 1 MiB of it, and stall.
  const stalled = raw.open('/devcompat.v1.RegistryService/SyncHost');
  const prefix = Buffer.alloc(5);
  prefix.writeUInt32BE(8 * 1024 * 1024, 1);
  stalled.stream.write(prefix);
  stalled.stream.write(Buffer.alloc(1024 * 1024, 0x0a));

  // Another client is served while the stalled request is held.
  await client.syncHost({ name: 'hosts/a', devices: [] });
  t.is((await client.getHost('hosts/a')).name, 'hosts/a');

  const outcome = await stalled.ended;
  t.is(outcome.status, grpc.status.DEADLINE_EXCEEDED);
  t.regex(outcome.message ?? '', /not received in full within 1500 ms \(--receive-timeout\)/);
  t.is(outcome.rstCode, http2.constants.NGHTTP2_CANCEL, 'the stream was reset, so its buffered part is released');
  t.is(server.limitStats.receiveTimeouts, 1);
  const hosts: string[] = [];
  for await (const host of client.listHosts()) hosts.push(host.name);
  t.deepEqual(hosts, ['hosts/a'], 'the stalled sync stored nothing');
});

test('a request sent in parts that arrives whole within the receive timeout is answered', async (t) => {
  const { server, client } = await startTestServer(t, { limits: { receiveTimeoutMs: 1500 } });
  await client.syncHost({ name: 'hosts/a', devices: [] });
  // A unary request sent in two parts, the second before the timeout: answered normally.
  const raw = rawSession(server.address);
  t.teardown(() => raw.session.destroy());
  const type = protoRoot().lookupType('devcompat.v1.GetHostRequest');
  const bytes = frame(type.encode(type.fromObject({ name: 'hosts/a' })).finish());
  const call = raw.open('/devcompat.v1.RegistryService/GetHost');
  call.stream.write(bytes.subarray(0, 3));
  call.stream.end(bytes.subarray(3));
  t.is((await call.ended).status, grpc.status.OK);
  t.is(server.limitStats.receiveTimeouts, 0);
});

test('a unary request whose message came but whose end did not is cut off at the receive timeout', async (t) => {
  const { server, client } = await startTestServer(t, { limits: { receiveTimeoutMs: 1500 } });
  await client.syncHost({ name: 'hosts/a', devices: [] });
  // The whole GetHost request, but never its end: grpc-js holds the message until the end
  // comes, and runs the handler only then.
  const raw = rawSession(server.address);
  t.teardown(() => raw.session.destroy());
  const type = protoRoot().lookupType('devcompat.v1.GetHostRequest');
  const call = raw.open('/devcompat.v1.RegistryService/GetHost');
  call.stream.write(frame(type.encode(type.fromObject({ name: 'hosts/a' })).finish()));
  const outcome = await call.ended;
  t.is(outcome.status, grpc.status.DEADLINE_EXCEEDED);
  t.regex(outcome.message ?? '', /not received in full within 1500 ms \(--receive-timeout\)/);
  t.is(outcome.rstCode, http2.constants.NGHTTP2_CANCEL, 'the stream was reset, so its message is released');
  t.is(server.limitStats.receiveTimeouts, 1);
});

test('a read held for its min_revision longer than the receive timeout is not cut off: its request arrived in full', async (t) => {
  const { server, client } = await startTestServer(t, { limits: { receiveTimeoutMs: 300 } });
  const { revision } = await client.syncHost({ name: 'hosts/a', devices: [] });
  // Held until the next write (up to the min_revision wait of 5 s).
  const read = client.getHost('hosts/a', { minRevision: Number(revision) + 1 });
  // A call started after it that never sends its request: once it is cut off, the held read's
  // own receive timeout (armed first, as long) has passed too.
  const raw = rawSession(server.address);
  t.teardown(() => raw.session.destroy());
  const stalled = raw.open('/devcompat.v1.RegistryService/GetHost');
  t.is((await stalled.ended).status, grpc.status.DEADLINE_EXCEEDED);
  await client.syncHost({ name: 'hosts/b', devices: [] });
  t.is((await read).name, 'hosts/a');
  t.is(server.limitStats.receiveTimeouts, 1, 'only the call that never sent its request');
});

test('a request stream whose client stops mid-message is cut off at the receive timeout; one idle between messages is not', async (t) => {
  const { server, client } = await startTestServer(t, { limits: { receiveTimeoutMs: 1500 } });
  const raw = rawSession(server.address);
  t.teardown(() => raw.session.destroy());
  const type = protoRoot().lookupType('devcompat.v1.CheckCompatibilityStreamRequest');
  const checks = frame(type.encode(type.fromObject({ checks: [] })).finish());
  const answers = (call: ReturnType<typeof raw.open>) => {
    let received = 0;
    const waiters: (() => void)[] = [];
    call.stream.on('data', () => {
      received++;
      waiters.splice(0).forEach((wake) => wake());
    });
    return { count: () => received, next: () => new Promise<void>((resolve) => waiters.push(resolve)) };
  };

  // A bidi stream that sent one whole message, was answered, and stays open saying nothing.
  const idle = raw.open('/devcompat.v1.CompatibilityService/CheckCompatibilityStream', false);
  const idleAnswers = answers(idle);
  const first = idleAnswers.next();
  idle.stream.write(checks);
  await first;
  const baseline = server.openStreams();

  // Two request streams that stop part-way through a message: 8 MiB announced, 1 MiB sent,
  // after one whole message on the bidi stream; and a KeepAlive stopped inside its prefix.
  const stalled = raw.open('/devcompat.v1.CompatibilityService/CheckCompatibilityStream', false);
  answers(stalled);
  const prefix = Buffer.alloc(5);
  prefix.writeUInt32BE(8 * 1024 * 1024, 1);
  stalled.stream.write(Buffer.concat([checks, prefix, Buffer.alloc(1024 * 1024, 0x0a)]));
  const keepAlive = raw.open('/devcompat.v1.RegistryService/KeepAlive');
  keepAlive.stream.write(Buffer.from([0, 0, 0]));

  // Other clients are served meanwhile.
  await client.syncHost({ name: 'hosts/a', devices: [] });
  t.is((await client.getHost('hosts/a')).name, 'hosts/a');

  for (const cut of [await stalled.ended, await keepAlive.ended]) {
    t.is(cut.status, grpc.status.DEADLINE_EXCEEDED);
    t.regex(cut.message ?? '', /a message of the request stream was not received in full within 1500 ms \(--receive-timeout\) of its first byte/);
    t.is(cut.rstCode, http2.constants.NGHTTP2_CANCEL, 'the stream was reset, so its partial message is released');
  }
  t.is(server.limitStats.receiveTimeouts, 2);
  await eventually(() => server.openStreams() === baseline, 10_000, 'the cut-off stream to be released by its handler');

  // The idle stream has now been silent for longer than the receive timeout (the stalled one
  // was cut off after it), and is still served.
  t.is(idleAnswers.count(), 1);
  const second = idleAnswers.next();
  idle.stream.write(checks);
  await second;
  t.is(idleAnswers.count(), 2);
  idle.stream.end();
  t.is((await idle.ended).status, grpc.status.OK);
  t.is(server.limitStats.receiveTimeouts, 2);
});

test('message framing: a message is part-way from its first prefix byte to its last byte, in any chunking', (t) => {
  const messages = [Buffer.alloc(0), Buffer.from('abc'), Buffer.alloc(70_000, 1)].map(frame);
  const bytes = Buffer.concat(messages);
  for (const size of [1, 2, 5, 7, 16_384, bytes.length]) {
    const framing = new MessageFraming();
    let completed = 0;
    const partWay: boolean[] = [];
    for (let at = 0; at < bytes.length; at += size) {
      completed += framing.feed(bytes.subarray(at, at + size));
      partWay.push(framing.midMessage);
    }
    t.is(completed, 3, `chunks of ${size}`);
    t.false(framing.midMessage, `chunks of ${size}`);
    if (size === 1) t.deepEqual([partWay[0], partWay[4], partWay[5], partWay[7]], [true, false, true, true]);
  }
});

test('over the memory budget new calls are shed with RESOURCE_EXHAUSTED; health and keepalives are not', async (t) => {
  // A budget of one byte: the process is always over it.
  const { server, client } = await startTestServer(t, { limits: { memoryBudgetBytes: 1 } });
  const error = await t.throwsAsync(client.syncHost({ name: 'hosts/a', devices: [] }));
  t.true(error instanceof DevcompatError);
  t.is((error as DevcompatError).code, grpc.status.RESOURCE_EXHAUSTED);
  t.regex(error!.message, /over its memory budget .*--memory-budget/);
  const find = await t.throwsAsync(async () => {
    for await (const _ of client.findTargets('hosts/a/devices/x')) {
      // shed before any message
    }
  });
  t.is((find as DevcompatError).code, grpc.status.RESOURCE_EXHAUSTED);
  t.true(server.limitStats.shed >= 2);

  const raw = rawClients(server.address);
  t.teardown(() => raw.close());
  const health = new (grpc.makeGenericClientConstructor({}, ''))(server.address, grpc.credentials.createInsecure());
  t.teardown(() => health.close());
  const status = await new Promise<number>((resolve, reject) =>
    health.makeUnaryRequest(
      '/grpc.health.v1.Health/Check',
      () => Buffer.alloc(0),
      (bytes: Buffer) => (bytes.length >= 2 ? bytes[1] : 0),
      {},
      (err: grpc.ServiceError | null, value?: number) => (err ? reject(err) : resolve(value!)),
    ),
  );
  t.is(status, 1, 'health answers SERVING');
  // A keepalive for an unknown host is answered (with its per-item error), not shed.
  const stream = raw.registry.KeepAlive();
  const answer = await new Promise<any>((resolve, reject) => {
    stream.once('data', resolve);
    stream.once('error', reject);
    stream.write({ name: 'hosts/unknown' });
  });
  stream.end();
  t.truthy(answer.error, 'the keepalive was answered');
});

test('the server advertises its per-connection concurrent stream limit', async (t) => {
  const { server } = await startTestServer(t, { limits: { maxConcurrentStreams: 7 } });
  const raw = rawSession(server.address);
  t.teardown(() => raw.session.destroy());
  const settings = await new Promise<http2.Settings>((resolve) => raw.session.once('remoteSettings', resolve));
  t.is(settings.maxConcurrentStreams, 7);
});

async function seededFind(t: import('ava').ExecutionContext, limits: object) {
  const rig = await startTestServer(t, { limits });
  const spec = { hosts: 200, seed: 5 };
  for (const host of generateFleet(spec)) await rig.client.syncHost(syncRequest(host));
  const source = findSources(spec).gvtg.name;
  const type = protoRoot().lookupType('devcompat.v1.FindTargetsRequest');
  const request = frame(type.encode(type.fromObject({ source: { name: source }, limit: 10_000, include_rejected: true, rejected_limit: 10_000 })).finish());
  /** Opens FindTargets streams on sessions whose flow-control window is zero: they can receive nothing. */
  const openUnread = (count: number) => {
    const raw = rawSession(rig.server.address, { initialWindowSize: 0 });
    t.teardown(() => raw.session.destroy());
    const calls = Array.from({ length: count }, () => {
      const call = raw.open('/devcompat.v1.CompatibilityService/FindTargets', false);
      call.stream.end(request);
      return call;
    });
    return { raw, calls };
  };
  /** A client that reads: the whole answer, retried while the server says it is overloaded. */
  const readingSearch = async () => {
    for (let attempt = 0; attempt < 100; attempt++) {
      try {
        let targets = 0;
        let summaries = 0;
        for await (const item of rig.client.findTargets(source, { limit: 10_000 })) {
          if ('summary' in item) summaries++;
          else targets++;
        }
        return { targets, summaries, attempts: attempt + 1 };
      } catch (error) {
        if ((error as DevcompatError).code !== grpc.status.RESOURCE_EXHAUSTED) throw error;
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
    throw new Error('never served');
  };
  return { ...rig, openUnread, readingSearch };
}

test('FindTargets streams that read nothing cannot keep a reading client out: the longest stalled is evicted', async (t) => {
  const { server, client, openUnread, readingSearch } = await seededFind(t, { maxFiniteStreams: 20, maxFiniteStreamsPerClient: 20, sendTimeoutMs: 0, evictUnreadAfterMs: 0 });
  const baseline = server.openStreams();
  const unread = openUnread(20);
  await eventually(() => server.openStreams() === baseline + 20, 30_000, 'every unread stream to be open');

  // Other clients are served: unary calls, and a search that needs one of the 20 places.
  await client.syncHost({ name: 'hosts/probe', devices: [] });
  t.is((await client.getHost('hosts/probe')).name, 'hosts/probe');
  const search = await readingSearch();
  t.is(search.summaries, 1);
  t.true(search.targets > 0);
  t.is(server.openStreams(), baseline + 19, 'one unread stream was evicted to make room');

  // Ten more unread streams: never more than the limit in progress.
  const more = openUnread(10);
  const ended: RawOutcome[] = [];
  for (const call of more.calls) void call.ended.then((outcome) => ended.push(outcome));
  await eventually(() => server.openStreams() <= baseline + 20 && server.openStreams() >= baseline + 19, 30_000, 'the new streams to be admitted');
  t.true(server.openStreams() <= baseline + 20);
  t.true(ended.every((o) => o.status === grpc.status.RESOURCE_EXHAUSTED), 'any refused stream was told RESOURCE_EXHAUSTED');

  // Their clients go: every place is released.
  unread.raw.session.destroy();
  more.raw.session.destroy();
  await eventually(() => server.openStreams() === baseline, 30_000, 'the unread streams to be released');
  t.is((await readingSearch()).attempts, 1, 'a search is then served at once');
});

test('a client with many unread FindTargets streams can neither take every place nor make another client wait: its stalled searches give way at once and are cut off', async (t) => {
  // Eviction by age is put out of reach (an hour) and the send timeout is off: only the
  // per-client cap and the immediate eviction can keep the probe served.
  const { server, client, openUnread } = await seededFind(t, {
    maxFiniteStreams: 6,
    maxFiniteStreamsPerClient: 2,
    sendTimeoutMs: 0,
    evictUnreadAfterMs: 3_600_000,
  });
  await client.syncHost({ name: 'hosts/probe', devices: [] });
  const baseline = server.openStreams();
  // The careless client: three connections of 20 unread searches each, every place taken.
  const abusers = [openUnread(20), openUnread(20), openUnread(20)];
  const outcomes: RawOutcome[] = [];
  for (const { calls } of abusers) for (const call of calls) void call.ended.then((outcome) => outcomes.push(outcome));
  await eventually(
    () => server.finiteStreams().stalled === 6 && outcomes.length === 54,
    60_000,
    'two searches per connection to hold their places unread, and the rest to be refused',
  );
  t.true(
    outcomes.every((o) => o.status === grpc.status.RESOURCE_EXHAUSTED && /per client \(--max-finite-streams-per-client\)/.test(o.message ?? '')),
    'each search past the per-connection cap is refused with RESOURCE_EXHAUSTED naming the flag',
  );
  t.is(server.finiteStreams().clients, 3);

  // Another client is served at once, searches and unary calls alike (its client does not
  // retry RESOURCE_EXHAUSTED: a refusal would fail the test).
  const before = server.finiteStreams();
  for (let round = 0; round < 3; round++) {
    t.is((await client.getHost('hosts/probe', { deadlineMs: 10_000 })).name, 'hosts/probe');
    let summaries = 0;
    for await (const item of client.findTargets(findSources({ hosts: 200, seed: 5 }).gvtg.name, { limit: 10, deadlineMs: 10_000 })) {
      if ('summary' in item) summaries++;
    }
    t.is(summaries, 1, `search ${round + 1} answered in full`);
  }
  const after = server.finiteStreams();
  t.is(after.refusedServerWide, before.refusedServerWide, 'no search of the reading client was refused');
  t.true(after.evictions >= 1, 'an unread search gave way to the first one');

  // The evicted search is cut off: its client, which reads nothing, cannot receive the status
  // behind the answer it left unread, so its HTTP/2 stream is reset with ENHANCE_YOUR_CALM
  // (RESOURCE_EXHAUSTED to gRPC clients) and the answer queued for it is released, while its
  // connection stays open.
  await eventually(() => outcomes.length === 54 + after.evictions, 30_000, 'the evicted streams to be reset');
  const cut = outcomes.slice(54);
  t.true(cut.every((o) => o.rstCode === http2.constants.NGHTTP2_ENHANCE_YOUR_CALM || o.status === grpc.status.RESOURCE_EXHAUSTED));
  t.true(abusers.every(({ raw }) => !raw.session.destroyed && !raw.session.closed));
  t.is(server.finiteStreams().inProgress, 6 - after.evictions, 'the evicted places were freed, not counted twice');

  // The careless client leaves: every place and stream is released.
  for (const { raw } of abusers) raw.session.destroy();
  await eventually(() => server.finiteStreams().inProgress === 0 && server.openStreams() === baseline, 30_000, 'the unread streams to be released');
});

test('a FindTargets stream whose client reads nothing is cut off after the send timeout', async (t) => {
  const { server, openUnread, readingSearch } = await seededFind(t, { maxFiniteStreams: 5, maxFiniteStreamsPerClient: 5, sendTimeoutMs: 1500 });
  const baseline = server.openStreams();
  openUnread(5);
  await eventually(() => server.openStreams() === baseline + 5, 30_000, 'every unread stream to be open');
  await eventually(() => server.openStreams() === baseline, 60_000, 'the unread streams to be cut off');
  t.is((await readingSearch()).attempts, 1, 'every place is free again');
});

test('with one search allowed at a time, searches one after the other are all served (the slot is released)', async (t) => {
  const { server, client } = await startTestServer(t, { limits: { maxFiniteStreams: 1 } });
  const spec = { hosts: 100, seed: 6 };
  for (const host of generateFleet(spec)) await client.syncHost(syncRequest(host));
  const source = findSources(spec).gvtg.name;
  // Two searches one after the other with a limit of one in progress: the slot is released.
  for (let round = 0; round < 2; round++) {
    let summaries = 0;
    for await (const item of client.findTargets(source, { limit: 10_000 })) if ('summary' in item) summaries++;
    t.is(summaries, 1);
  }
  t.is(server.openStreams(), 0);
});

test('the resident set size is read at most once per 10 ms, and again after', (t) => {
  let reads = 0;
  let now = 0;
  const rss = cachedRss(
    () => ++reads * 1000,
    () => now,
  );
  t.is(rss(), 1000);
  now = RSS_READING_MS - 1;
  t.is(rss(), 1000, 'within 10 ms: the same reading');
  now = RSS_READING_MS;
  t.is(rss(), 2000, 'after 10 ms: read again');
  t.is(reads, 2);
});
