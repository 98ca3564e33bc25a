// How client.watch() retries against servers the real one does not imitate: a fake WatchService
// (grpc-js, a hand-written Watch handler on 127.0.0.1:0) that ends every stream at once, or
// answers `created` and then fails every stream. A watch never created fails once the retry
// budget is spent, as a unary call does, instead of reconnecting for ever; one that was created
// backs off further at each failure until the server delivers an event or a progress message
// (the CLI prints one line per outage, on attempt 1: a flapping server is one outage).

import test, { type ExecutionContext } from 'ava';
import * as grpc from '@grpc/grpc-js';
import { serviceDefinition } from '../proto/load.ts';
import { DevcompatClient, DevcompatError, type WatchResponse } from '../client/client.ts';
import { sleep } from './helpers/integration.ts';

type WatchCall = grpc.ServerWritableStream<unknown, Record<string, unknown>>;

/** A server whose only service is a WatchService answering every stream with `handle`; resolves to its address. */
async function fakeWatchServer(t: ExecutionContext, handle: (call: WatchCall, stream: number) => void): Promise<{ address: string; streams: () => number }> {
  const server = new grpc.Server();
  let streams = 0;
  server.addService(serviceDefinition('devcompat.v1.WatchService'), { Watch: (call: WatchCall) => handle(call, ++streams) });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
  );
  t.teardown(() => server.forceShutdown());
  return { address: `127.0.0.1:${port}`, streams: () => streams };
}

function watcher(t: ExecutionContext, address: string, retry: { budgetMs: number; initialBackoffMs: number; maxBackoffMs: number }) {
  const client = new DevcompatClient({ address, retry });
  const stop = new AbortController();
  // Stopped before the client closes: a watch still looping (the defect) ends quietly.
  t.teardown(() => {
    stop.abort();
    client.close();
  });
  return { client, signal: stop.signal, stop: () => stop.abort() };
}

const unavailable = (call: WatchCall) => call.emit('error', { code: grpc.status.UNAVAILABLE, details: 'going away' });

test('a watch whose every stream the server ends before `created` fails with UNAVAILABLE once the retry budget is spent', async (t) => {
  const server = await fakeWatchServer(t, (call) => call.end());
  const { client, signal } = watcher(t, server.address, { budgetMs: 1000, initialBackoffMs: 20, maxBackoffMs: 100 });
  const started = Date.now();
  const first = client.watch({ signal }).next();
  const outcome = await Promise.race([
    first.then(
      () => 'yielded',
      (error) => error,
    ),
    sleep(10_000).then(() => 'still retrying after 10 s'),
  ]);
  t.true(outcome instanceof DevcompatError, String(outcome));
  t.is((outcome as DevcompatError).code, grpc.status.UNAVAILABLE);
  t.regex((outcome as DevcompatError).message, /ended the watch before creating it/);
  const elapsed = Date.now() - started;
  t.true(elapsed >= 1000 && elapsed < 5000, `gave up after the 1 s budget (${elapsed} ms)`);
  t.true(server.streams() < 60, `${server.streams()} streams: the backoff was honoured`);
});

test('a watch the server answers with `created` and then fails every time backs off further at each attempt', async (t) => {
  const server = await fakeWatchServer(t, (call) => {
    call.write({ revision: '7', created: true });
    setImmediate(() => unavailable(call));
  });
  const { client, signal, stop } = watcher(t, server.address, { budgetMs: 1000, initialBackoffMs: 10, maxBackoffMs: 10_000 });
  const attempts: number[] = [];
  const messages: WatchResponse[] = [];
  const watch = client.watch({
    signal,
    onResume: (error, next, attempt) => {
      t.is(error.code, grpc.status.UNAVAILABLE);
      t.is(next, '8', 'resumes after the created revision');
      attempts.push(attempt);
      if (attempts.length === 5) stop();
    },
  });
  const consumed = (async () => {
    for await (const message of watch) messages.push(message);
  })();
  await Promise.race([consumed, sleep(10_000)]);
  // Before: the count went back to 0 at every `created`, so every resume was attempt 1 at the first backoff step.
  t.deepEqual(attempts, [1, 2, 3, 4, 5]);
  t.is(messages.length, 1, 'the created message, once; it is not yielded again on resuming');
  t.true(messages[0].created);
});

test('an event or a progress message ends the count: each later failure is attempt 1 again', async (t) => {
  for (const served of ['event', 'progress'] as const) {
    const server = await fakeWatchServer(t, (call, stream) => {
      call.write({ revision: '7', created: true });
      const revision = String(7 + stream);
      call.write(
        served === 'event'
          ? { revision, events: [{ kind: 'CHANGE_KIND_CREATED', resource: `hosts/h${stream}`, actor: 'test' }] }
          : { revision, progress: true },
      );
      setImmediate(() => unavailable(call));
    });
    const { client, signal, stop } = watcher(t, server.address, { budgetMs: 1000, initialBackoffMs: 10, maxBackoffMs: 10_000 });
    const attempts: number[] = [];
    const watch = client.watch({
      signal,
      onResume: (_error, _next, attempt) => {
        attempts.push(attempt);
        if (attempts.length === 3) stop();
      },
    });
    const consumed = (async () => {
      for await (const _message of watch);
    })();
    await Promise.race([consumed, sleep(10_000)]);
    t.deepEqual(attempts, [1, 1, 1], served);
  }
});
