// Tracing through a real server: with a tracer (here the SDK's in-memory exporter), each call is
// one server span with the gRPC attributes and status code, the child of the caller's W3C
// traceparent when it sent one; and tracing is off unless the OTEL_* environment asks for it.

import test from 'ava';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { tracesExporters, tracingFromEnv } from '../server/tracing.ts';
import { spawnServer } from './helpers/process.ts';
import { startTestServer, tempDir } from './helpers/server.ts';
import { rawClients, unaryCall } from './helpers/watch.ts';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT_SPAN_ID = '00f067aa0ba902b7';

/** An in-memory exporter, and a wait for the span of a given name to end. */
function recordingTracer() {
  const exporter = new InMemorySpanExporter();
  const waiters = new Set<() => void>();
  const provider = new BasicTracerProvider({
    spanProcessors: [
      new SimpleSpanProcessor(exporter),
      { onStart() {}, onEnd: () => [...waiters].forEach((wake) => wake()), forceFlush: async () => {}, shutdown: async () => {} },
    ],
  });
  const spanNamed = (name: string): Promise<ReadableSpan> =>
    new Promise((resolve, reject) => {
      const check = () => {
        const span = exporter.getFinishedSpans().find((candidate) => candidate.name === name);
        if (!span) return;
        waiters.delete(check);
        clearTimeout(timer);
        resolve(span);
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(new Error(`no span ${name}; got ${exporter.getFinishedSpans().map((span) => span.name).join(', ')}`));
      }, 20_000);
      waiters.add(check);
      check();
    });
  return { tracer: provider.getTracer('test'), exporter, spanNamed, shutdown: () => provider.shutdown() };
}

test('a call is one server span with the gRPC attributes, the child of the traceparent it carried', async (t) => {
  const recording = recordingTracer();
  t.teardown(() => recording.shutdown());
  const { server } = await startTestServer(t, { tracer: recording.tracer });
  const raw = rawClients(server.address);
  t.teardown(() => raw.close());

  const metadata = new grpc.Metadata();
  metadata.set('traceparent', `00-${TRACE_ID}-${PARENT_SPAN_ID}-01`);
  const missing = await unaryCall(raw.registry, 'GetHost', { name: 'hosts/nowhere' }, metadata).catch((error) => error);
  t.is(missing.code, grpc.status.NOT_FOUND);
  const span = await recording.spanNamed('devcompat.v1.RegistryService/GetHost');
  t.is(span.kind, SpanKind.SERVER);
  t.deepEqual(span.attributes, {
    'rpc.system': 'grpc',
    'rpc.service': 'devcompat.v1.RegistryService',
    'rpc.method': 'GetHost',
    'rpc.grpc.status_code': grpc.status.NOT_FOUND,
  });
  t.is(span.spanContext().traceId, TRACE_ID, 'in the caller’s trace');
  t.is(span.parentSpanContext?.spanId, PARENT_SPAN_ID, 'the child of the caller’s span');
  t.true(span.parentSpanContext?.isRemote);
  t.is(span.status.code, SpanStatusCode.UNSET, 'NOT_FOUND is the caller’s error, not the server’s');

  // Without a traceparent: a root span of a new trace; a write's span says OK.
  await unaryCall(raw.registry, 'SyncHost', {
    name: 'hosts/a',
    devices: [{ device_id: 'gpu0', descriptor: { vendor: 'nvidia', device_api: 'vfio-pci', type: 'nvidia-a10-4q', software_version: '1.0.0' } }],
  });
  const sync = await recording.spanNamed('devcompat.v1.RegistryService/SyncHost');
  t.is(sync.parentSpanContext, undefined);
  t.not(sync.spanContext().traceId, TRACE_ID);
  t.is(sync.attributes['rpc.grpc.status_code'], grpc.status.OK);
  t.true(sync.duration[0] > 0 || sync.duration[1] > 0);
});

test('tracing is off unless the OTEL_* environment turns it on', async (t) => {
  t.deepEqual(tracesExporters({}), [], 'off by default');
  t.is(await tracingFromEnv({}), undefined);
  t.deepEqual(tracesExporters({ OTEL_TRACES_EXPORTER: 'none' }), []);
  t.deepEqual(tracesExporters({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' }), ['otlp'], 'an endpoint alone turns OTLP on');
  t.deepEqual(tracesExporters({ OTEL_TRACES_EXPORTER: 'otlp, console' }), ['otlp', 'console']);
  t.deepEqual(tracesExporters({ OTEL_TRACES_EXPORTER: 'console', OTEL_SDK_DISABLED: 'true' }), [], 'the SDK switch wins');
  t.throws(() => tracesExporters({ OTEL_TRACES_EXPORTER: 'jaeger' }), { message: /OTEL_TRACES_EXPORTER: unsupported exporter jaeger/ });
});

test('`npm start` with an OTLP endpoint sends its spans there; without one, it traces nothing', async (t) => {
  // A collector on loopback: records the OTLP/HTTP exports it receives.
  const exports: { path: string; contentType: string; body: Buffer }[] = [];
  const waiters = new Set<() => void>();
  const collector = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      exports.push({ path: request.url ?? '', contentType: String(request.headers['content-type']), body: Buffer.concat(chunks) });
      response.writeHead(200, { 'Content-Type': 'application/x-protobuf' }).end();
      for (const wake of [...waiters]) wake();
    });
  });
  await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
  t.teardown(() => collector.close());
  const { port } = collector.address() as AddressInfo;

  const dir = tempDir(t);
  const traced = await spawnServer(['--db', path.join(dir, 'traced.db'), '--address', '127.0.0.1:0'], {
    OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}`,
    OTEL_SERVICE_NAME: 'devcompat-test',
    OTEL_BSP_SCHEDULE_DELAY: '50',
  });
  t.teardown(() => traced.child.kill('SIGKILL'));
  t.truthy(traced.stdout.find((line) => line.includes('"msg":"tracing on (OTEL_* environment)"')));
  const raw = rawClients(traced.address);
  t.teardown(() => raw.close());
  const metadata = new grpc.Metadata();
  metadata.set('traceparent', `00-${TRACE_ID}-${PARENT_SPAN_ID}-01`);
  await unaryCall(raw.registry, 'GetHost', { name: 'hosts/nowhere' }, metadata).catch(() => undefined);
  const spanName = 'devcompat.v1.RegistryService/GetHost';
  await new Promise<void>((resolve, reject) => {
    const check = () => {
      if (!exports.some((request) => request.body.includes(spanName))) return;
      waiters.delete(check);
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => reject(new Error(`no export of ${spanName}; got ${exports.length} requests`)), 20_000);
    waiters.add(check);
    check();
  });
  const exported = exports.find((request) => request.body.includes(spanName))!;
  t.is(exported.path, '/v1/traces');
  t.is(exported.contentType, 'application/x-protobuf');
  t.true(exported.body.includes(Buffer.from(TRACE_ID, 'hex')), 'in the caller’s trace');
  t.true(exported.body.includes('devcompat-test'), 'OTEL_SERVICE_NAME names the service');

  const plain = await spawnServer(['--db', path.join(dir, 'plain.db'), '--address', '127.0.0.1:0']);
  t.teardown(() => plain.child.kill('SIGKILL'));
  t.truthy(plain.stdout.find((line) => line.includes('"tracing":"off"')));
});
