// The client against a server that hangs or restarts, as a scheduler meets one: a server
// process stopped with SIGSTOP (streams must still end at their deadline, and an AbortSignal
// must cancel them and unary calls), a server killed and restarted on the same port and
// database in the middle of a CheckStream of many checks (every check must get its verdict,
// none rejected), and a unary call made while the server is down for a short restart (it must
// succeed within the default retry budget).

import test, { type ExecutionContext } from 'ava';
import * as grpc from '@grpc/grpc-js';
import path from 'node:path';
import { DevcompatClient, DevcompatError, type CheckItemResult, type SyncHostRequest } from '../client/client.ts';
import { startServer } from '../server/server.ts';
import { extraClient, gvt, waitUntil } from './helpers/integration.ts';
import { spawnServer, type ServerProcess } from './helpers/process.ts';
import { tempDir } from './helpers/server.ts';

const fleet = (hosts: number): SyncHostRequest[] =>
  Array.from({ length: hosts }, (_, i) => ({ name: `hosts/h${i}`, devices: [{ device_id: 'gvt0', descriptor: gvt('1.2.0') }] }));

async function serverProcess(t: ExecutionContext, db: string, address = '127.0.0.1:0'): Promise<ServerProcess> {
  const server = await spawnServer(['--db', db, '--address', address, '--lease-ttl', '1h'], {});
  t.teardown(() => {
    server.child.kill('SIGCONT');
    server.child.kill('SIGKILL');
  });
  return server;
}

/** The code a rejected call failed with. */
async function failure(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'resolved';
  } catch (error) {
    return (error as DevcompatError).codeName;
  }
}

test('a hung server (SIGSTOP): streams end at their deadline, and an AbortSignal cancels streams and unary calls', async (t) => {
  const server = await serverProcess(t, path.join(tempDir(t), 'registry.db'));
  const client = extraClient(t, server.address);
  for (const request of fleet(3)) await client.syncHost(request);
  server.child.kill('SIGSTOP');

  // A finite stream with a deadline fails with DEADLINE_EXCEEDED instead of blocking.
  const find = client.findTargets('hosts/h0/devices/gvt0', { deadlineMs: 1500 });
  t.is(await failure(find.next()), 'DEADLINE_EXCEEDED');
  // So does a standing query given one, and a check stream.
  const watch = client.watchTargets('hosts/h0/devices/gvt0', { deadlineMs: 1500 });
  t.is(await failure(watch.next()), 'DEADLINE_EXCEEDED');
  const stream = client.checkStream({ deadlineMs: 1500 });
  t.is(await failure(stream.check('hosts/h0/devices/gvt0', 'hosts/h1/devices/gvt0')), 'DEADLINE_EXCEEDED');

  // Aborting: a unary call and a finite stream reject with CANCELLED, a check stream's pending
  // checks too, and a standing query ends quietly. None of them has a deadline here.
  const controller = new AbortController();
  const unary = failure(client.getHost('h0', { signal: controller.signal, deadlineMs: 600_000 }));
  const finite = failure(client.findTargets('hosts/h0/devices/gvt0', { signal: controller.signal, deadlineMs: 600_000 }).next());
  const checks = client.checkStream({ signal: controller.signal });
  const pending = failure(checks.check('hosts/h0/devices/gvt0', 'hosts/h2/devices/gvt0'));
  const standing = client.watchTargets('hosts/h0/devices/gvt0', { signal: controller.signal }).next();
  const watchFeed = client.watch({ signal: controller.signal }).next();
  setImmediate(() => controller.abort());
  t.is(await unary, 'CANCELLED');
  t.is(await finite, 'CANCELLED');
  t.is(await pending, 'CANCELLED');
  t.deepEqual(await standing, { done: true, value: undefined });
  t.deepEqual(await watchFeed, { done: true, value: undefined });

  // The server, resumed, answers again on the same client.
  server.child.kill('SIGCONT');
  t.is((await client.getHost('h0')).name, 'hosts/h0');
});

test('a CheckStream of many checks rides out a server killed and restarted on its port and database: every check gets its verdict', async (t) => {
  const db = path.join(tempDir(t), 'registry.db');
  const first = await serverProcess(t, db);
  const address = first.address;
  // The default budget (10 s) covers a restart of a few seconds; starting a server process on
  // this shared, loaded machine can take longer, so the test gives the budget room.
  const client = extraClient(t, address, { retry: { budgetMs: 120_000 } });
  for (const request of fleet(20)) await client.syncHost(request);

  const stream = client.checkStream({ maxBatch: 100 });
  const reconnects: string[] = [];
  stream.onReconnect = (error) => reconnects.push(error.codeName);
  const total = 6000;
  let answered = 0;
  const results: Promise<CheckItemResult>[] = [];
  for (let i = 0; i < total; i++) {
    const outcome = stream.submit({ id: `k${i}`, source: `hosts/h${i % 20}/devices/gvt0`, target: `hosts/h${(i + 1) % 20}/devices/gvt0` });
    void outcome.then(() => answered++, () => undefined);
    results.push(outcome);
  }
  t.true(await waitUntil(() => answered > 0, 60_000), 'the first verdicts arrive');
  t.true(answered < total, `the kill comes while checks are pending (${answered} of ${total} answered)`);
  first.child.kill('SIGKILL');
  await first.exited;
  await serverProcess(t, db, address);

  const settled = await Promise.allSettled(results);
  const rejected = settled.filter((s) => s.status === 'rejected');
  t.is(rejected.length, 0, `rejected: ${rejected.slice(0, 3).map((s) => (s as PromiseRejectedResult).reason?.message).join('; ')}`);
  const verdicts = settled.map((s) => (s.status === 'fulfilled' ? (s.value.result?.verdict ?? s.value.error?.message) : 'rejected'));
  t.deepEqual(new Set(verdicts), new Set(['VERDICT_COMPATIBLE']), 'every check is answered with its verdict');
  t.deepEqual(
    settled.map((s) => (s.status === 'fulfilled' ? s.value.id : '')),
    results.map((_, i) => `k${i}`),
    'each result under its own id',
  );
  t.true(reconnects.length >= 1 && reconnects.every((code) => code === 'UNAVAILABLE'), JSON.stringify(reconnects));
  await stream.close();
});

test('a unary call made while the server restarts succeeds within the default retry budget', async (t) => {
  const dir = tempDir(t);
  const dbPath = path.join(dir, 'registry.db');
  let server = await startServer({ address: '127.0.0.1:0', dbPath, leaseTtlMs: 3_600_000 });
  t.teardown(() => server.close());
  const address = server.address;
  const client = new DevcompatClient({ address });
  t.teardown(() => client.close());
  await client.syncHost(fleet(1)[0]);

  await server.close();
  // The server is down: the call fails with UNAVAILABLE at first and is retried.
  const during = client.getHost('h0');
  let settledEarly = false;
  void during.then(
    () => (settledEarly = true),
    () => (settledEarly = true),
  );
  server = await startServer({ address, dbPath, leaseTtlMs: 3_600_000 });
  const host = await during;
  t.is(host.name, 'hosts/h0');
  t.false(settledEarly && host.name !== 'hosts/h0');

  // Past the budget, the error is UNAVAILABLE, not a hang.
  await server.close();
  const impatient = new DevcompatClient({ address, retry: { budgetMs: 300 } });
  t.teardown(() => impatient.close());
  const error = await t.throwsAsync(impatient.getHost('h0'), { instanceOf: DevcompatError });
  t.is(error!.code, grpc.status.UNAVAILABLE);
});
