// The server's grpc.health.v1 service (server/grpc/health-service.ts) as a load balancer or a
// probe sees it, asked through the protocol's own definition (the grpc project's health.proto,
// as the grpc-health-check package ships it), not the copy in proto/: Check, Watch and List,
// and a watcher that reads slowly.

import test from 'ava';
import { EventEmitter } from 'node:events';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { protoPath as canonicalHealthProto } from 'grpc-health-check';
import { SERVICE_NAMES } from '../proto/load.ts';
import { HealthService, MAX_SERVICE_NAME_BYTES } from '../server/grpc/health-service.ts';
import { startTestServer } from './helpers/server.ts';

function healthClient(t: { teardown(fn: () => void): void }, address: string): any {
  const definition = protoLoader.loadSync(canonicalHealthProto, { keepCase: true, enums: String, defaults: true });
  const Health = (grpc.loadPackageDefinition(definition) as any).grpc.health.v1.Health;
  const client = new Health(address, grpc.credentials.createInsecure());
  t.teardown(() => client.close());
  return client;
}

function unary<T>(client: any, method: string, request: object): Promise<T> {
  return new Promise((resolve, reject) => client[method](request, (error: Error | null, response: T) => (error ? reject(error) : resolve(response))));
}

test('Check: SERVING for the whole server and each service; NOT_FOUND naming a service it does not know', async (t) => {
  const { server } = await startTestServer(t);
  const health = healthClient(t, server.address);
  t.deepEqual(await unary(health, 'Check', { service: '' }), { status: 'SERVING' });
  for (const name of SERVICE_NAMES) t.deepEqual(await unary(health, 'Check', { service: name }), { status: 'SERVING' }, name);
  const error = await t.throwsAsync(unary(health, 'Check', { service: 'no.such.Service' }));
  t.is((error as grpc.ServiceError).code, grpc.status.NOT_FOUND);
  t.regex((error as grpc.ServiceError).details, /no\.such\.Service/);
});

test('List: every service the server knows, with its status', async (t) => {
  const { server } = await startTestServer(t);
  const health = healthClient(t, server.address);
  const answer = await unary<{ statuses: Record<string, { status: string }> }>(health, 'List', {});
  t.deepEqual(Object.keys(answer.statuses).sort(), ['', ...SERVICE_NAMES].sort());
  for (const [name, entry] of Object.entries(answer.statuses)) t.is(entry.status, 'SERVING', name);
});

test('Watch: SERVICE_UNKNOWN for a service not known, and the stream stays open until the client cancels', async (t) => {
  const { server } = await startTestServer(t);
  const health = healthClient(t, server.address);
  const call = health.Watch({ service: 'no.such.Service' });
  const seen: string[] = [];
  const first = new Promise<void>((resolve) => call.on('data', (message: { status: string }) => (seen.push(message.status), resolve())));
  const ended = new Promise<number>((resolve) => call.on('error', (error: grpc.ServiceError) => resolve(error.code)).on('status', (status: grpc.StatusObject) => resolve(status.code)));
  await first;
  t.deepEqual(seen, ['SERVICE_UNKNOWN']);
  // Still open after a while: a server that ended the stream would have sent its status.
  const early = await Promise.race([ended, new Promise<'open'>((resolve) => setTimeout(() => resolve('open'), 300))]);
  t.is(early, 'open');
  call.cancel();
  t.is(await ended, grpc.status.CANCELLED);
});

/** A stand-in for grpc-js's writable call: records writes and holds them back when told to. */
class SlowCall extends EventEmitter {
  readonly written: string[] = [];
  full = false;
  destroyed = false;
  writableEnded = false;
  constructor(readonly request: { service: string }) {
    super();
  }
  write(message: { status: string }): boolean {
    this.written.push(message.status);
    return !this.full;
  }
}

function watchedBy(health: HealthService, call: SlowCall, tracked = true): void {
  let watch: ((call: SlowCall) => void) | undefined;
  health.addToServer({ addService: (_definition: unknown, handlers: Record<string, any>) => (watch = handlers.Watch) } as any, () => tracked);
  watch!(call);
}

test('a service name over 1 KiB is INVALID_ARGUMENT for Check and Watch: no stream holds it (the health service needs no certificate)', async (t) => {
  const { server } = await startTestServer(t);
  const health = healthClient(t, server.address);
  const long = 'x'.repeat(MAX_SERVICE_NAME_BYTES + 1);
  const error = (await t.throwsAsync(unary(health, 'Check', { service: long }))) as grpc.ServiceError;
  t.is(error.code, grpc.status.INVALID_ARGUMENT);
  t.is(error.details, `service: at most ${MAX_SERVICE_NAME_BYTES} bytes, got ${MAX_SERVICE_NAME_BYTES + 1}`);
  const call = health.Watch({ service: 'é'.repeat(MAX_SERVICE_NAME_BYTES / 2 + 1) });
  const seen: string[] = [];
  call.on('data', (message: { status: string }) => seen.push(message.status));
  const ended = await new Promise<grpc.ServiceError>((resolve) => call.on('error', resolve));
  t.is(ended.code, grpc.status.INVALID_ARGUMENT);
  t.regex(ended.details, /^service: at most 1024 bytes, got 1026$/);
  t.deepEqual(seen, [], 'no status sent');
  // At the limit, Watch is served as the protocol says.
  const atLimit = health.Watch({ service: 'x'.repeat(MAX_SERVICE_NAME_BYTES) });
  const first = await new Promise<{ status: string }>((resolve) => atLimit.on('data', resolve));
  t.is(first.status, 'SERVICE_UNKNOWN');
  atLimit.on('error', () => undefined);
  atLimit.cancel();
});

test('a watcher is sent a status only when it changes; while its stream is full it is sent only the latest, once drained', (t) => {
  const health = new HealthService({ '': 'SERVING' });
  const call = new SlowCall({ service: '' });
  watchedBy(health, call);
  t.deepEqual(call.written, ['SERVING']);
  health.setStatus('', 'SERVING');
  t.deepEqual(call.written, ['SERVING'], 'the same status again sends nothing');

  call.full = true;
  health.setStatus('', 'NOT_SERVING');
  t.deepEqual(call.written, ['SERVING', 'NOT_SERVING']);
  health.setStatus('', 'SERVING');
  health.setStatus('', 'NOT_SERVING');
  health.setStatus('', 'SERVING');
  t.deepEqual(call.written, ['SERVING', 'NOT_SERVING'], 'nothing more is written while the stream is full');
  call.full = false;
  call.emit('drain');
  t.deepEqual(call.written, ['SERVING', 'NOT_SERVING', 'SERVING'], 'the latest status, once');

  call.full = true;
  health.setStatus('', 'NOT_SERVING');
  health.setStatus('', 'SERVING');
  health.setStatus('', 'NOT_SERVING');
  call.emit('drain');
  t.deepEqual(call.written, ['SERVING', 'NOT_SERVING', 'SERVING', 'NOT_SERVING'], 'a status back to the one last sent sends nothing');
});

test('a watcher of a service that becomes known is sent its status; a cancelled watcher is sent nothing more', (t) => {
  const health = new HealthService({});
  const call = new SlowCall({ service: 'later.Service' });
  watchedBy(health, call);
  t.deepEqual(call.written, ['SERVICE_UNKNOWN']);
  health.setStatus('later.Service', 'SERVING');
  t.deepEqual(call.written, ['SERVICE_UNKNOWN', 'SERVING']);
  call.emit('cancelled');
  health.setStatus('later.Service', 'NOT_SERVING');
  t.deepEqual(call.written, ['SERVICE_UNKNOWN', 'SERVING']);
  t.is(health.watching, 0, 'the cancelled watcher is forgotten');
});

test('a watch that fails or ends is forgotten; one the server refuses as it shuts down is sent nothing', (t) => {
  const health = new HealthService({ '': 'SERVING' });
  const failing = new SlowCall({ service: '' });
  const ending = new SlowCall({ service: '' });
  watchedBy(health, failing);
  watchedBy(health, ending);
  t.is(health.watching, 2);
  failing.emit('error', new Error('reset'));
  ending.emit('finish');
  t.is(health.watching, 0);

  const refused = new SlowCall({ service: '' });
  watchedBy(health, refused, false);
  t.deepEqual(refused.written, []);
  t.is(health.watching, 0);
});

test('the closing status reaches a watcher whose stream is full: its stream ends next and would never drain', (t) => {
  const health = new HealthService({ '': 'SERVING' });
  const call = new SlowCall({ service: '' });
  watchedBy(health, call);
  call.full = true;
  health.setStatus('', 'NOT_SERVING');
  health.setStatus('', 'SERVING');
  t.deepEqual(call.written, ['SERVING', 'NOT_SERVING']);
  health.setStatus('', 'NOT_SERVING', { final: true });
  t.deepEqual(call.written, ['SERVING', 'NOT_SERVING'], 'the status it was last sent is not sent again');

  const other = new SlowCall({ service: '' });
  watchedBy(health, other);
  other.full = true;
  health.setStatus('', 'SERVING');
  t.deepEqual(other.written, ['NOT_SERVING', 'SERVING']);
  health.setStatus('', 'NOT_SERVING', { final: true });
  t.deepEqual(other.written, ['NOT_SERVING', 'SERVING', 'NOT_SERVING'], 'written although the stream has not drained');
});
