// client.close() while streams are open: a check stream or a lease keeper waiting to reconnect
// (here to a dead address, 127.0.0.1:1) ends with CANCELLED instead of opening a call on the
// closed channel from its reconnect timer, which grpc-js answers with a synchronous throw: an
// uncaught exception that ended the process. So does a check submitted, in the same tick as
// close(), to a check stream left idle by a server that went away (it reconnects from a
// microtask). A check stream asked for after close() fails as every other call then does.
// Each test watches for uncaught exceptions until the reconnect it provoked is long due.

import test, { type ExecutionContext } from 'ava';
import * as grpc from '@grpc/grpc-js';
import { DevcompatClient, DevcompatError, type LeaseKeeper } from '../client/client.ts';
import { gvt, sleep, waitUntil } from './helpers/integration.ts';
import { startTestServer } from './helpers/server.ts';

const DEAD_ADDRESS = '127.0.0.1:1';
/** A long budget and a short, fixed backoff: a stream keeps waiting to reconnect, and its timer is soon due. */
const RETRY = { budgetMs: 60_000, initialBackoffMs: 200, maxBackoffMs: 200 };
/** Well past every reconnect timer of RETRY. */
const PAST_RECONNECT_MS = 800;

/** Uncaught exceptions in this process while the test runs (none is the point). */
function uncaughtExceptions(t: ExecutionContext): Error[] {
  const seen: Error[] = [];
  const record = (error: Error) => seen.push(error);
  process.on('uncaughtException', record);
  t.teardown(() => process.off('uncaughtException', record));
  return seen;
}

/** How a promise settled: `resolved`, or the code name and message it rejected with; `pending` after `ms`. */
async function outcome(promise: Promise<unknown>, ms = 2000): Promise<string> {
  return Promise.race([
    promise.then(
      () => 'resolved',
      (error) => (error instanceof DevcompatError ? `${error.codeName}: ${error.message}` : `not a DevcompatError: ${(error as Error).message}`),
    ),
    sleep(ms).then(() => 'pending'),
  ]);
}

function deadClient(t: ExecutionContext): DevcompatClient {
  const client = new DevcompatClient({ address: DEAD_ADDRESS, retry: RETRY });
  t.teardown(() => client.close());
  return client;
}

test.serial('close() ends a check stream waiting to reconnect: its pending check rejects with CANCELLED, nothing is thrown later', async (t) => {
  const uncaught = uncaughtExceptions(t);
  const client = deadClient(t);
  const stream = client.checkStream();
  const reconnecting = new Promise<void>((resolve) => (stream.onReconnect = () => resolve()));
  const pending = stream.check('hosts/a/devices/0', 'hosts/b/devices/0');
  await reconnecting; // its reconnect timer is set

  client.close();
  t.is(await outcome(pending), 'CANCELLED: the client was closed');
  t.is(await outcome(stream.check('hosts/a/devices/0', 'hosts/c/devices/0')), 'CANCELLED: the client was closed', 'a later check too');
  await stream.close(); // settles at once
  await sleep(PAST_RECONNECT_MS);
  t.deepEqual(uncaught.map((error) => error.message), []);
});

test.serial('close() ends a lease keeper waiting to reconnect: it reports the failure (CANCELLED), renewals reject, hold() throws', async (t) => {
  const uncaught = uncaughtExceptions(t);
  const client = deadClient(t);
  const keeper: LeaseKeeper = client.keepAlive();
  const failures: string[] = [];
  keeper.on('failed', (error) => failures.push(`${error.codeName}: ${error.message}`));
  keeper.hold('held');
  const pending = keeper.renew('other');
  await new Promise((resolve) => keeper.once('disconnected', resolve)); // its reconnect timer is set

  client.close();
  t.deepEqual(failures, ['CANCELLED: the client was closed']);
  t.is(keeper.failure?.code, grpc.status.CANCELLED);
  t.is(await outcome(pending), 'CANCELLED: the client was closed');
  t.is(await outcome(keeper.renew('other')), 'CANCELLED: the client was closed');
  t.deepEqual(keeper.holding, [], 'no lease is held any more');
  t.throws(() => keeper.hold('held'), { instanceOf: DevcompatError, message: 'the client was closed' });
  await keeper.close();
  await sleep(PAST_RECONNECT_MS);
  t.deepEqual(uncaught.map((error) => error.message), []);
});

test.serial('a check submitted to an idle check stream in the tick the client closes rejects with CANCELLED; nothing is thrown', async (t) => {
  const uncaught = uncaughtExceptions(t);
  const { client: writer, server } = await startTestServer(t);
  await writer.syncHost({ name: 'hosts/a', devices: [{ device_id: 'gvt0', descriptor: gvt() }] });
  const client = new DevcompatClient({ address: server.address, retry: RETRY });
  t.teardown(() => client.close());
  const stream = client.checkStream();
  t.is((await stream.check('hosts/a/devices/gvt0', 'hosts/a/devices/gvt0')).verdict, 'VERDICT_COMPATIBLE');
  // The server goes away with nothing pending: the stream is idle, and its next check would
  // open a new call from a microtask.
  await server.close();
  await sleep(100);

  const submitted = stream.check('hosts/a/devices/gvt0', 'hosts/a/devices/gvt0');
  client.close();
  t.is(await outcome(submitted), 'CANCELLED: the client was closed');
  await sleep(PAST_RECONNECT_MS);
  t.deepEqual(uncaught.map((error) => error.message), []);
});

test.serial('checkStream() and keepAlive() after close() fail as every other call does, not with a throw', async (t) => {
  const uncaught = uncaughtExceptions(t);
  const { server } = await startTestServer(t);
  const client = new DevcompatClient({ address: server.address, retry: RETRY });
  await client.getHost('hosts/nowhere').catch(() => undefined); // the connection was up
  client.close();

  const unary = await outcome(client.getHost('hosts/a'));
  t.regex(unary, /^UNKNOWN: Channel has been shut down/);
  let checks: Promise<unknown> | undefined;
  t.notThrows(() => (checks = client.checkStream().check('hosts/a/devices/0', 'hosts/b/devices/0')));
  t.is(await outcome(checks!), unary);
  t.is(await outcome(client.checkMany([{ source: 'hosts/a/devices/0', target: 'hosts/b/devices/0' }])), unary);

  const keeper = client.keepAlive();
  const failed = new Promise<DevcompatError>((resolve) => keeper.once('failed', resolve));
  t.is(await outcome(keeper.renew('a')), unary);
  t.is(`${(await failed).codeName}: ${(await failed).message}`, unary);
  t.true(await waitUntil(() => keeper.failure !== undefined));
  await sleep(PAST_RECONNECT_MS);
  t.deepEqual(uncaught.map((error) => error.message), []);
});
