// The bound on what one connection can make the server hold unread (issue 7): request streams
// (CheckCompatibilityStream, KeepAlive) past --max-request-streams-per-connection are refused
// with RESOURCE_EXHAUSTED naming the limit and its flag, the connection's other streams go on,
// a place freed is taken again; and a connection that opens many request streams and never
// reads their answers leaves the server holding at most the admitted streams' windows. Watches
// (Watch, WatchTargets) past --max-watches-per-connection are refused the same way, counted apart.

import test from 'ava';
import * as http2 from 'node:http2';
import * as grpc from '@grpc/grpc-js';
import { DevcompatError } from '../client/client.ts';
import { loadServices, protoRoot } from '../proto/load.ts';
import { SERVER_FLOW_CONTROL_WINDOW } from '../server/grpc/flow-control-window.ts';
import { frame, rawSession } from './helpers/raw-http2.ts';
import { startTestServer } from './helpers/server.ts';
import { eventually } from './helpers/watch.ts';

/** One connection of its own (a grpc-js channel that shares no subchannel with another). */
function connection(address: string): any {
  const services = loadServices();
  return new services.CompatibilityService(address, grpc.credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 });
}

/** A CheckCompatibilityStream whose answers are read only once `read()` is called. */
function checkStream(client: any) {
  const call: grpc.ClientDuplexStream<object, unknown> = client.CheckCompatibilityStream();
  const answers: unknown[] = [];
  let wake: (() => void) | undefined;
  let failed: grpc.ServiceError | undefined;
  const failure = new Promise<grpc.ServiceError>((resolve) =>
    call.on('error', (error: grpc.ServiceError) => {
      failed = error;
      resolve(error);
      wake?.();
    }),
  );
  const ended = new Promise<grpc.StatusObject>((resolve) => call.on('status', resolve));
  return {
    call,
    failure,
    ended,
    send: () => call.write({ checks: [] }),
    /** Starts reading the answers (until then they wait, unread). */
    read() {
      call.on('data', (answer: unknown) => {
        answers.push(answer);
        wake?.();
      });
    },
    /** Resolves once `count` answers have been read; rejects if the call failed. */
    async answered(count: number): Promise<void> {
      while (answers.length < count) {
        if (failed) throw failed;
        await new Promise<void>((resolve) => (wake = resolve));
      }
    },
  };
}

test('request streams past the per-connection limit are refused by name; the others go on, and a freed place is taken again', async (t) => {
  const { server } = await startTestServer(t, { limits: { maxRequestStreamsPerConnection: 3 } });
  const hostile = connection(server.address);
  t.teardown(() => hostile.close());

  // Three streams that send a request each and never read their answers.
  const held = [0, 1, 2].map(() => checkStream(hostile));
  for (const stream of held) stream.send();
  await eventually(() => server.requestStreams.openStreams === 3, 10_000, 'the three streams to be open');

  // A fourth on the same connection: refused at once, naming the limit and its flag.
  const extra = checkStream(hostile);
  extra.send();
  const refusal = DevcompatError.from(await extra.failure);
  t.is(refusal.code, grpc.status.RESOURCE_EXHAUSTED);
  t.is(refusal.reason, 'OVERLOADED');
  t.regex(refusal.message, /this connection already has 3 request streams open .*\(--max-request-streams-per-connection\)/);
  t.is(server.requestStreams.refused, 1);
  t.is(server.openStreams(), 3, 'the refused stream never reached its handler');

  // Another connection is not held to this one's count.
  const other = connection(server.address);
  t.teardown(() => other.close());
  const elsewhere = checkStream(other);
  elsewhere.read();
  elsewhere.send();
  await elsewhere.answered(1);
  elsewhere.call.end();
  t.is((await elsewhere.ended).code, grpc.status.OK);

  // The three earlier streams still work: their waiting answers, then new ones.
  for (const stream of held) {
    stream.read();
    await stream.answered(1);
    stream.send();
    await stream.answered(2);
  }

  // One ends; its place is taken by a new stream on the same connection.
  held[0].call.end();
  t.is((await held[0].ended).code, grpc.status.OK);
  await eventually(() => server.requestStreams.openStreams === 2, 10_000, 'the ended stream to release its place');
  const next = checkStream(hostile);
  next.read();
  next.send();
  await next.answered(1);
  t.is(server.requestStreams.refused, 1);
  t.is(server.requestStreams.openStreams, 3);
  for (const stream of [held[1], held[2], next]) stream.call.end();
  await Promise.all([held[1], held[2], next].map((stream) => stream.ended));
});

test('watches past the per-connection limit are refused by name; another connection is not held to it, and a cancelled watch frees its place', async (t) => {
  const { server, client } = await startTestServer(t, { limits: { maxWatchesPerConnection: 3 } });
  await client.syncHost({ name: 'hosts/h', devices: [] });
  const services = loadServices();
  const connect = () => new services.WatchService(server.address, grpc.credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 });
  const watch = (on: any) => {
    const call: grpc.ClientReadableStream<{ created?: boolean }> = on.Watch({ start_revision: 1 });
    const created = new Promise<void>((resolve) => call.on('data', (message: { created?: boolean }) => message.created && resolve()));
    const failure = new Promise<grpc.ServiceError>((resolve) => call.on('error', resolve));
    return { call, created, failure };
  };
  const one = connect();
  t.teardown(() => one.close());
  const held = [0, 1, 2].map(() => watch(one));
  await Promise.all(held.map((w) => w.created));

  const extra = watch(one);
  const refusal = DevcompatError.from(await extra.failure);
  t.is(refusal.code, grpc.status.RESOURCE_EXHAUSTED);
  t.is(refusal.reason, 'OVERLOADED');
  t.regex(refusal.message, /this connection already has 3 watches open \(Watch, WatchTargets\), the server's limit per connection \(--max-watches-per-connection\)/);
  t.is(server.watchStreams.refused, 1);
  t.is(server.requestStreams.refused, 0, 'counted apart from request streams');

  const two = connect();
  t.teardown(() => two.close());
  await watch(two).created;

  held[0].call.cancel();
  await held[0].failure;
  let again = watch(one);
  // The cancelled stream's place is freed when its stream closes on the server: retry until then.
  for (let attempt = 0; attempt < 50; attempt++) {
    const outcome = await Promise.race([again.created.then(() => 'created'), again.failure.then(() => 'refused')]);
    if (outcome === 'created') break;
    await new Promise((resolve) => setTimeout(resolve, 100));
    again = watch(one);
  }
  await again.created;
});

test('one connection that opens many request streams and never reads holds the server to the admitted streams\' windows', async (t) => {
  const limit = 3;
  const { server } = await startTestServer(t, { limits: { maxRequestStreamsPerConnection: limit } });
  // Room to queue 12 MB and more, which Node's default (10 MB) would refuse on the client's side.
  const raw = rawSession(server.address, {}, { maxSessionMemory: 64 });
  t.teardown(() => raw.session.destroy());
  // 1 MB of empty CheckCompatibilityStream requests (each is 5 zero bytes: no compression, no
  // length) on each of 12 streams whose answers are never read: the server answers until the
  // client's window for answers is full, then stops reading, and each stream's window fills.
  const empty = frame(protoRoot().lookupType('devcompat.v1.CheckCompatibilityStreamRequest').encode({}).finish());
  t.deepEqual([...empty], [0, 0, 0, 0, 0]);
  const requests = Buffer.alloc(1024 * 1024);
  const calls = Array.from({ length: 12 }, () => raw.open('/devcompat.v1.CompatibilityService/CheckCompatibilityStream', false));
  for (const call of calls) call.stream.write(requests);

  // Every stream past the limit is refused and reset.
  for (const outcome of await Promise.all(calls.slice(limit).map((call) => call.ended))) {
    t.is(outcome.status, grpc.status.RESOURCE_EXHAUSTED);
    t.regex(outcome.message ?? '', /--max-request-streams-per-connection/);
    t.is(outcome.rstCode, http2.constants.NGHTTP2_CANCEL);
  }
  t.is(server.requestStreams.refused, 12 - limit);

  // The admitted streams stop being read: their windows fill (at least half of each: the
  // server returns window in halves as it reads).
  await eventually(
    () => server.requestStreams.unreadBytes() >= (limit * SERVER_FLOW_CONTROL_WINDOW) / 2,
    30_000,
    'the admitted streams to stop being read',
  );
  // More requests, then a ping: the server has taken in whatever flow control let through
  // before it answers the ping.
  for (const call of calls.slice(0, limit)) call.stream.write(requests);
  await new Promise<void>((resolve, reject) => raw.session.ping((error) => (error ? reject(error) : resolve())));

  // What the server holds: each admitted stream's window, plus what Node's HTTP/2 stream had
  // buffered (its high-water mark, 64 KB at most) and one frame (16 KB) before it stopped
  // granting window. The refused streams hold nothing: they never reached a handler.
  const perStream = SERVER_FLOW_CONTROL_WINDOW + 64 * 1024 + 16 * 1024;
  const unread = server.requestStreams.unreadBytes();
  t.true(unread <= limit * perStream, `${unread} bytes unread, bound ${limit * perStream}`);
  t.is(server.requestStreams.openStreams, limit);
  t.is(server.openStreams(), limit);
  t.log(`${unread} bytes unread on ${limit} streams (window ${SERVER_FLOW_CONTROL_WINDOW})`);
});

test('a reflection stream whose answers are never read stops being read, instead of the server buffering its answers', async (t) => {
  const { server } = await startTestServer(t);
  const raw = rawSession(server.address, {}, { maxSessionMemory: 64 });
  t.teardown(() => raw.session.destroy());
  // grpc.reflection.v1.ServerReflectionRequest { list_services: "" }: field 7, empty string.
  const listServices = frame(Uint8Array.from([0x3a, 0x00]));
  const requests = Buffer.concat(Array.from({ length: (2 * 1024 * 1024) / listServices.length }, () => listServices));
  const call = raw.open('/grpc.reflection.v1.ServerReflection/ServerReflectionInfo', false);
  call.stream.write(requests);
  // Each of ~300,000 requests asks for the list of services (a few hundred bytes). Unpaced, the
  // server read them all and queued every answer; paced, it stops reading once the client's
  // window for answers is full, and the requests wait in the stream's own window.
  await eventually(
    () => server.requestStreams.unreadBytes() >= SERVER_FLOW_CONTROL_WINDOW / 2,
    30_000,
    'the reflection stream to stop being read',
  );
  await new Promise<void>((resolve, reject) => raw.session.ping((error) => (error ? reject(error) : resolve())));
  t.true(server.requestStreams.unreadBytes() <= SERVER_FLOW_CONTROL_WINDOW + 64 * 1024 + 16 * 1024);
  t.is(server.requestStreams.openStreams, 1);
});
