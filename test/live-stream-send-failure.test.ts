// A live stream whose send throws ends alone. The live streams' gathered messages are flushed
// together in one callback (server/grpc/streams.ts, flushGathered); a throw from one stream's
// send path (here a server interceptor, grpc-js's extension point, that throws on one call's
// messages) must end that stream alone: its client gets INTERNAL (the stream is reset, since
// grpc-js holds a status back while the thrown message is still in progress), and neither the
// other streams' deliveries stop nor does the throw escape the callback, where it would stop the
// whole process.

import test from 'ava';
import * as grpc from '@grpc/grpc-js';
import pino from 'pino';
import { StreamTracker, liveStream, type LiveStream } from '../server/grpc/streams.ts';

const PATH = '/test.LiveStreams/Follow';
const THROW_KEY = 'x-test-throw-on-send';

interface Started {
  readonly address: string;
  /** Writes `bytes` to every open live stream, in one turn of the loop. */
  publish(bytes: Buffer): void;
  /** Ends every open live stream with `error` (LiveStream.fail), in one turn of the loop. */
  failAll(error: Error): void;
  readonly open: () => number;
  /** What the server logged (pino's JSON lines, warn and above). */
  readonly logged: Record<string, any>[];
  close(): Promise<void>;
}

async function startLiveStreamServer(bufferBytes = 1 << 20): Promise<Started> {
  const throwing: grpc.ServerInterceptor = (_method, call) => {
    let fails = false;
    return new grpc.ServerInterceptingCall(call, {
      start: (next) =>
        next({
          onReceiveMetadata: (metadata, nextMetadata) => {
            fails = metadata.get(THROW_KEY).length > 0;
            nextMetadata(metadata);
          },
        }),
      sendMessage: (message, next) => {
        if (fails) throw new Error('send failed in an interceptor');
        next(message);
      },
    });
  };
  const server = new grpc.Server({ interceptors: [throwing] });
  const streams: LiveStream[] = [];
  const logged: Record<string, any>[] = [];
  const log = pino({ level: 'warn' }, { write: (line: string) => void logged.push(JSON.parse(line)) });
  const handler = liveStream(new StreamTracker(), log, { bufferBytes, tooSlowMessage: 'too slow' }, (_request: Buffer, stream) => {
    streams.push(stream);
    stream.onEnd(() => streams.includes(stream) && streams.splice(streams.indexOf(stream), 1));
  });
  server.register(PATH, handler, (value: Buffer) => value, (bytes: Buffer) => bytes, 'serverStream');
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
  );
  return {
    address: `127.0.0.1:${port}`,
    publish: (bytes) => {
      for (const stream of [...streams]) stream.write(bytes);
    },
    failAll: (error) => {
      for (const stream of [...streams]) stream.fail(error);
    },
    open: () => streams.length,
    logged,
    close: async () => server.forceShutdown(),
  };
}

interface Followed {
  readonly received: string[];
  readonly ended: Promise<grpc.StatusObject>;
  cancel(): void;
}

function follow(client: grpc.Client, metadata: grpc.Metadata): Followed {
  const call = client.makeServerStreamRequest(PATH, (value: Buffer) => value, (bytes: Buffer) => bytes, Buffer.alloc(0), metadata);
  const received: string[] = [];
  call.on('data', (bytes: Buffer) => received.push(bytes.toString()));
  const ended = new Promise<grpc.StatusObject>((resolve) => call.on('status', resolve));
  call.on('error', () => {}); // reported through 'status'
  return { received, ended, cancel: () => call.cancel() };
}

const waitFor = async (what: () => boolean, ms = 5000) => {
  const until = Date.now() + ms;
  while (!what()) {
    if (Date.now() > until) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
};

test('a live stream whose send throws ends with INTERNAL, the server keeps running, and the streams flushed with it still receive every message', async (t) => {
  const server = await startLiveStreamServer();
  t.teardown(() => server.close());
  const client = new grpc.Client(server.address, grpc.credentials.createInsecure());
  t.teardown(() => client.close());

  const failing = new grpc.Metadata();
  failing.set(THROW_KEY, '1');
  // The failing stream opens between two healthy ones, so it is flushed between them.
  const first = follow(client, new grpc.Metadata());
  await waitFor(() => server.open() === 1);
  const broken = follow(client, failing);
  await waitFor(() => server.open() === 2);
  const last = follow(client, new grpc.Metadata());
  t.teardown(() => [first, broken, last].forEach((followed) => followed.cancel()));
  await waitFor(() => server.open() === 3);

  server.publish(Buffer.from('one'));
  server.publish(Buffer.from('two'));
  t.is((await broken.ended).code, grpc.status.INTERNAL);
  // Its listeners are removed: the server no longer writes to it.
  await waitFor(() => server.open() === 2);

  // The healthy streams got the turn's messages, and go on receiving.
  server.publish(Buffer.from('three'));
  await waitFor(() => first.received.length === 3 && last.received.length === 3);
  t.deepEqual(first.received, ['one', 'two', 'three']);
  t.deepEqual(last.received, ['one', 'two', 'three']);
  t.deepEqual(broken.received, []);
  first.cancel();
  last.cancel();
});

// The two other paths that send gathered messages right away, before a status: a stream cut off
// as too slow (its gathered messages go first), and a stream ended with an error. A throw from
// their send must end that stream alone too, not reach whoever wrote to it or ended it (a commit's
// publication to the watchers, a handler's listener).
for (const { name, bufferBytes, act, logs } of [
  {
    name: 'cut off as too slow',
    bufferBytes: 1024,
    act: (server: Started) => {
      server.publish(Buffer.alloc(600, 'a'));
      server.publish(Buffer.alloc(600, 'b')); // past the bound in the same turn: overflow
    },
  },
  {
    name: 'ended with an error',
    bufferBytes: 1 << 20,
    act: (server: Started) => {
      server.publish(Buffer.from('one'));
      server.failAll(new Error('the handler gives up'));
    },
    // No status carries the error the stream was to end with: the log does.
    logs: 'the handler gives up',
  },
]) {
  test(`a live stream ${name} whose send of its gathered messages throws ends with INTERNAL, and the throw does not reach the writer`, async (t) => {
    const server = await startLiveStreamServer(bufferBytes);
    t.teardown(() => server.close());
    const client = new grpc.Client(server.address, grpc.credentials.createInsecure());
    t.teardown(() => client.close());
    const failing = new grpc.Metadata();
    failing.set(THROW_KEY, '1');
    const broken = follow(client, failing);
    t.teardown(() => broken.cancel());
    await waitFor(() => server.open() === 1);

    t.notThrows(() => act(server));
    t.is((await broken.ended).code, grpc.status.INTERNAL);
    await waitFor(() => server.open() === 0);
    t.deepEqual(broken.received, []);
    if (logs) t.true(server.logged.some((line) => line.err?.message === logs), JSON.stringify(server.logged));
  });
}
