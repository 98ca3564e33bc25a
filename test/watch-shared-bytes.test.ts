// The watch feed's shared encoding and fast write path, seen from a client reading the raw
// bytes: watchers with the same filter receive byte-identical messages for each revision (one
// encoding shared, server/grpc/watch-service.ts), a filtered watcher receives only its events,
// each revision once and in order, while a commit batch's messages go out as one write per
// stream (server/grpc/direct-send.ts, whose fast path this pins on the grpc-js in use).

import test from 'ava';
import * as grpc from '@grpc/grpc-js';
import type { SyncHostRequest } from '../client/client.ts';
import { protoRoot } from '../proto/load.ts';
import { directSender, messageCount } from '../server/grpc/direct-send.ts';
import { startTestServer } from './helpers/server.ts';
import { StreamRecorder } from './helpers/watch.ts';

const WatchRequest = () => protoRoot().lookupType('devcompat.v1.WatchRequest');
const WatchResponse = () => protoRoot().lookupType('devcompat.v1.WatchResponse');

/** A ResourceState as decoded: a device's carries its descriptor. */
interface State {
  device?: { descriptor?: { type: string } };
}

interface Decoded {
  revision: string;
  progress: boolean;
  created: boolean;
  events: { resource: string; kind: string; after?: State; before?: State }[];
}

function decode(bytes: Buffer): Decoded {
  const type = WatchResponse();
  return type.toObject(type.decode(bytes), { longs: String, defaults: true }) as Decoded;
}

/** A Watch stream whose messages are kept as the bytes the server sent. */
function rawWatch(client: grpc.Client, request: object): StreamRecorder<Buffer> {
  const type = WatchRequest();
  const call = client.makeServerStreamRequest(
    '/devcompat.v1.WatchService/Watch',
    (value: object) => Buffer.from(type.encode(type.fromObject(value)).finish()),
    (bytes: Buffer) => bytes,
    request,
  );
  return new StreamRecorder<Buffer>(call);
}

/** The messages that carry events, as bytes (created and progress messages left out). */
function eventBytes(recorder: StreamRecorder<Buffer>): Buffer[] {
  return recorder.messages.filter((bytes) => {
    const message = decode(bytes);
    return !message.created && !message.progress;
  });
}

/** The revision the watcher has seen everything up to: its last event or progress message's. */
const seenUpTo = (recorder: StreamRecorder<Buffer>) =>
  Math.max(0, ...recorder.messages.map(decode).filter((m) => !m.created).map((m) => Number(m.revision)));

function host(name: string, version: string, type: string): SyncHostRequest {
  return {
    name,
    devices: [
      { device_id: 'gpu0', descriptor: { vendor: 'nvidia', device_api: 'vfio-pci', type: 'nvidia-a10-4q', software_version: version } },
      { device_id: 'gpu1', descriptor: { vendor: 'nvidia', device_api: 'vfio-pci', type, software_version: version } },
    ],
  } as SyncHostRequest;
}

test('watchers with the same filter get byte-identical messages; filtered ones get only their events, once, in order', async (t) => {
  const { server, client } = await startTestServer(t);
  const raw = new grpc.Client(server.address, grpc.credentials.createInsecure());
  t.teardown(() => raw.close());
  const watchers = {
    all1: rawWatch(raw, { progress_interval_ms: 100 }),
    all2: rawWatch(raw, { progress_interval_ms: 100 }),
    h1a: rawWatch(raw, { filter: { host: 'hosts/h1' }, progress_interval_ms: 100 }),
    h1b: rawWatch(raw, { filter: { host: 'hosts/h1' }, progress_interval_ms: 100 }),
    type1: rawWatch(raw, { filter: { type: 'nvidia-a10-8q' }, progress_interval_ms: 100 }),
    type2: rawWatch(raw, { filter: { type: 'nvidia-a10-8q' }, progress_interval_ms: 100 }),
  };
  await Promise.all(Object.values(watchers).map((w) => w.waitFor((r) => r.messages.length > 0)));

  // Concurrent syncs, so that several revisions share a commit batch and a tick.
  const writes: Promise<unknown>[] = [];
  for (let round = 0; round < 6; round++) {
    for (const name of ['h0', 'h1', 'h2']) {
      writes.push(client.syncHost(host(name, `1.${round}.0`, round % 2 ? 'nvidia-a10-8q' : 'nvidia-a10-2q')));
    }
  }
  const revisions = (await Promise.all(writes)).map((response) => Number((response as { revision: string }).revision));
  const last = Math.max(...revisions);
  await Promise.all(Object.values(watchers).map((w) => w.waitFor((r) => seenUpTo(r) >= last || r.ended, 20_000, `revision ${last}`)));

  const all1 = eventBytes(watchers.all1);
  t.is(all1.length, 18, 'one message per revision');
  t.deepEqual(all1.map((bytes) => Number(decode(bytes).revision)), [...revisions].sort((a, b) => a - b));
  t.deepEqual(eventBytes(watchers.all2), all1, 'the same bytes for the same filter');
  t.deepEqual(eventBytes(watchers.h1b), eventBytes(watchers.h1a), 'the same bytes for the same host filter');
  t.deepEqual(eventBytes(watchers.type2), eventBytes(watchers.type1), 'the same bytes for the same type filter');

  // The host filter: exactly h1's revisions, each the whole revision as the unfiltered feed has it.
  const h1 = eventBytes(watchers.h1a);
  const h1Revisions = all1.filter((bytes) => decode(bytes).events.every((event) => event.resource.startsWith('hosts/h1')));
  t.is(h1.length, 6);
  t.deepEqual(h1.map((bytes) => decode(bytes)), h1Revisions.map((bytes) => decode(bytes)));
  // The type filter: of each revision, the host's own entry and the gpu1 changes that enter,
  // leave or stay in the type; gpu0 is never of it. Derived from the unfiltered feed.
  const ofType = (event: Decoded['events'][number]) =>
    !event.resource.includes('/devices/') ||
    [event.before?.device?.descriptor?.type, event.after?.device?.descriptor?.type].includes('nvidia-a10-8q');
  const expected = all1
    .map(decode)
    .map((message) => ({ revision: message.revision, resources: message.events.filter(ofType).map((event) => event.resource) }))
    .filter((message) => message.resources.length > 0);
  const typed = eventBytes(watchers.type1)
    .map(decode)
    .map((message) => ({ revision: message.revision, resources: message.events.map((event) => event.resource) }));
  t.true(typed.some((message) => message.resources.some((resource) => resource.endsWith('/devices/gpu1'))));
  t.false(typed.some((message) => message.resources.some((resource) => resource.endsWith('/devices/gpu0'))));
  t.deepEqual(typed, expected);
  for (const watcher of Object.values(watchers)) t.is(watcher.error, undefined);
});

test('a live stream on this grpc-js takes the fast path: a batch of messages is one pass through the interceptors, delivered whole and in order', async (t) => {
  const seenByInterceptor: number[] = [];
  const server = new grpc.Server({
    interceptors: [
      (_descriptor, call) =>
        new grpc.ServerInterceptingCall(call, {
          sendMessage: (message, next) => {
            seenByInterceptor.push(messageCount(message));
            next(message);
          },
        }),
    ],
  });
  let direct: boolean | undefined;
  server.addService(
    {
      Numbers: {
        path: '/test.Numbers/Numbers',
        requestStream: false,
        responseStream: true,
        requestSerialize: (value: Buffer) => value,
        requestDeserialize: (bytes: Buffer) => bytes,
        responseSerialize: (value: Buffer) => value,
        responseDeserialize: (bytes: Buffer) => bytes,
      },
    },
    {
      Numbers: (call: grpc.ServerWritableStream<Buffer, Buffer>) => {
        const sender = directSender(call as grpc.ServerWritableStream<unknown, unknown>);
        direct = sender.direct;
        // Three batches of 40, 40 and 20 messages, the empty message among them.
        const numbers = Array.from({ length: 100 }, (_, i) => (i === 50 ? Buffer.alloc(0) : Buffer.from([i, i, i].slice(0, 1 + (i % 3)))));
        let done = 0;
        for (const [from, to] of [[0, 40], [40, 80], [80, 100]]) {
          sender.send(numbers.slice(from, to), () => {
            if (++done === 3) call.end();
          });
        }
      },
    },
  );
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
  );
  t.teardown(() => server.forceShutdown());
  const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  t.teardown(() => client.close());
  const recorder = new StreamRecorder<Buffer>(
    client.makeServerStreamRequest('/test.Numbers/Numbers', (value: Buffer) => value, (bytes: Buffer) => bytes, Buffer.alloc(0)),
  );
  await recorder.waitFor((r) => r.ended);
  t.is(recorder.error, undefined);
  t.true(direct, 'the fast path was found in this grpc-js');
  t.deepEqual(
    recorder.messages.map((bytes) => [...bytes]),
    Array.from({ length: 100 }, (_, i) => (i === 50 ? [] : [i, i, i].slice(0, 1 + (i % 3)))),
  );
  t.deepEqual(seenByInterceptor, [40, 40, 20], 'one pass per batch, counted as its messages');
});
