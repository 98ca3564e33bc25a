// Bad input through the client library against a real server: every invalid case gets
// INVALID_ARGUMENT (or NOT_FOUND, RESOURCE_EXHAUSTED) with a google.rpc.BadRequest naming
// the field, and nothing at all is stored.

import test from 'ava';
import type { ExecutionContext } from 'ava';
import * as grpc from '@grpc/grpc-js';
import type { DevcompatError, DeviceSpec, SyncHostRequest } from '../client/client.ts';
import { startTestServer, type TestServer } from './helpers/server.ts';
import {
  asDescriptor,
  collect,
  fieldSegments,
  gvt,
  historyOf,
  loadVectors,
  namesField,
  rejectsWith,
} from './helpers/integration.ts';

const fixtures = loadVectors(new URL('./fixtures/compat-vectors.json', import.meta.url));

/** What the registry holds, as a client sees it: must not move when a write is refused. */
async function state({ client }: TestServer) {
  return {
    hosts: await collect(client.listHosts()),
    devices: await collect(client.listDevices()),
    history: await historyOf(client),
    revision: (await client.listHostsPage({})).revision,
  };
}

/** Sends a SyncHost that must be refused as INVALID_ARGUMENT; checks that nothing changed. */
async function refused(t: ExecutionContext, testServer: TestServer, request: SyncHostRequest, label: string): Promise<DevcompatError> {
  const before = await state(testServer);
  const error = await rejectsWith(t, testServer.client.syncHost(request), grpc.status.INVALID_ARGUMENT, label);
  t.is(error.reason, 'INVALID_ARGUMENT', `${label}: reason`);
  t.true(error.fieldViolations.length > 0, `${label}: a BadRequest lists the fields`);
  t.deepEqual(await state(testServer), before, `${label}: nothing stored`);
  return error;
}

const fields = (error: DevcompatError) => error.fieldViolations.map((v) => v.field);
const violationsOf = (e: DevcompatError) => e.fieldViolations.map((v) => [v.field, v.description]);

// ---------------------------------------------------------------------------------------
// The invalid[] conformance cases, inside a SyncHost

test('every invalid descriptor case is refused in SyncHost, naming its field, with nothing stored', async (t) => {
  const testServer = await startTestServer(t);
  const { client, server } = testServer;
  t.true(fixtures.invalid.length >= 10, 'the fixture holds the invalid cases');
  const valid: DeviceSpec = { device_id: '0000:00:02.0', descriptor: gvt('1.2.0') };
  // An existing host, to prove a refused sync leaves it as it was.
  await client.syncHost({ name: 'existing', labels: { zone: 'a' }, devices: [valid] });

  for (const c of fixtures.invalid) {
    const bad: DeviceSpec = { device_id: '0000:00:03.0', descriptor: asDescriptor(c.descriptor) };
    for (const name of ['fresh', 'existing']) {
      const label = `${c.id} on ${name}`;
      const error = await refused(
        t,
        testServer,
        { name, labels: { zone: 'b' }, devices: [{ ...valid, descriptor: gvt('1.3.0') }, bad] },
        label,
      );
      t.true(
        namesField(error.fieldViolations, c.field),
        `${label}: no violation names ${c.field}: ${JSON.stringify(error.fieldViolations)}`,
      );
      t.true(
        fields(error).every((field) => field === 'devices[1].descriptor' || field.startsWith('devices[1].descriptor.')),
        `${label}: every violation is inside devices[1].descriptor: ${fields(error).join(', ')}`,
      );
    }
    await rejectsWith(t, client.getHost('fresh'), grpc.status.NOT_FOUND, `${c.id}: the new host was not created`);
  }
  t.is(server.registry.revision, 1);
  t.like(await client.getHost('existing'), { revision: '1', labels: { zone: 'a' }, device_count: 1 });
  t.is((await client.getDevice('hosts/existing/devices/0000:00:02.0')).descriptor.software_version, '1.2.0');
  t.is((await historyOf(client)).length, 2);
});

test('the invalid descriptor cases are refused inline too, by CheckCompatibility and FindTargets', async (t) => {
  const { client, server } = await startTestServer(t);
  for (const c of fixtures.invalid) {
    const error = await rejectsWith(t, client.check(gvt('1.2.0'), asDescriptor(c.descriptor)), grpc.status.INVALID_ARGUMENT, c.id);
    t.true(namesField(error.fieldViolations, c.field), `${c.id}: ${JSON.stringify(error.fieldViolations)}`);
    t.true(fields(error).every((field) => fieldSegments(field)[0] === 'target'), `${c.id}: ${fields(error).join(', ')}`);

    const find = await rejectsWith(
      t,
      collect(client.findTargets(asDescriptor(c.descriptor))),
      grpc.status.INVALID_ARGUMENT,
      `${c.id} as a FindTargets source`,
    );
    t.true(namesField(find.fieldViolations, c.field), `${c.id}: ${JSON.stringify(find.fieldViolations)}`);
    t.true(fields(find).every((field) => field.startsWith('source.descriptor')), `${c.id}: ${fields(find).join(', ')}`);
  }
  t.is(server.openStreams(), 0);
});

// ---------------------------------------------------------------------------------------
// Hosts, devices, labels, capacity

test('SyncHost refuses bad host and device ids, duplicates, bad labels and impossible capacity', async (t) => {
  const testServer = await startTestServer(t);
  const device = (id: string, extra: Partial<DeviceSpec> = {}): DeviceSpec => ({ device_id: id, descriptor: gvt('1.2.0'), ...extra });

  for (const name of ['Bad_Host', 'hosts/UPPER', 'host with spaces', '-leading-dash', '', 'hosts/a/b']) {
    const error = await refused(t, testServer, { name, devices: [device('gpu0')] }, `host id ${JSON.stringify(name)}`);
    t.deepEqual(fields(error), ['name']);
  }
  for (const id of ['bad id', 'slash/inside', '', ':leading']) {
    const error = await refused(t, testServer, { name: 'h1', devices: [device('gpu0'), device(id)] }, `device id ${JSON.stringify(id)}`);
    t.deepEqual(fields(error), ['devices[1].device_id']);
  }
  const duplicate = await refused(
    t,
    testServer,
    { name: 'h1', devices: [device('gpu0'), device('gpu1'), device('gpu0')] },
    'duplicate device ids',
  );
  t.deepEqual(fields(duplicate), ['devices[2].device_id']);
  t.regex(duplicate.fieldViolations[0].description, /duplicate/);

  const hostLabel = await refused(t, testServer, { name: 'h1', labels: { 'Bad Key': 'x' }, devices: [] }, 'host label key');
  t.is(fields(hostLabel).length, 1);
  t.true(fields(hostLabel)[0].startsWith('labels'), fields(hostLabel)[0]);
  t.true(fields(hostLabel)[0].includes('Bad Key'), 'the violation names the key');
  const deviceLabel = await refused(
    t,
    testServer,
    { name: 'h1', devices: [device('gpu0', { labels: { UPPER: 'x' } })] },
    'device label key',
  );
  t.true(fields(deviceLabel)[0].startsWith('devices[0].labels'), fields(deviceLabel)[0]);
  const longValue = await refused(
    t,
    testServer,
    { name: 'h1', labels: { ok: 'x'.repeat(257) }, devices: [] },
    'label value over 256 characters',
  );
  t.true(fields(longValue)[0].startsWith('labels'));
  const tooManyLabels = Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, 'v']));
  t.deepEqual(fields(await refused(t, testServer, { name: 'h1', labels: tooManyLabels, devices: [] }, '65 labels')), ['labels']);

  const capacity = await refused(
    t,
    testServer,
    { name: 'h1', devices: [device('gpu0', { capacity: { total: 2, available: 3 } })] },
    'available > total',
  );
  t.deepEqual(fields(capacity), ['devices[0].capacity.available']);

  const missingDescriptor = await refused(
    t,
    testServer,
    { name: 'h1', devices: [{ device_id: 'gpu0' } as DeviceSpec] },
    'no descriptor',
  );
  t.deepEqual(fields(missingDescriptor), ['devices[0].descriptor']);

  // Every violation at once, in one round trip.
  const many = await refused(
    t,
    testServer,
    {
      name: 'Bad_Host',
      devices: [device('bad id'), { device_id: 'gpu1', descriptor: { ...gvt('1.2'), vendor: '' } }],
    },
    'several mistakes',
  );
  t.deepEqual(fields(many).sort(), [
    'devices[0].device_id',
    'devices[1].descriptor.software_version',
    'devices[1].descriptor.vendor',
    'name',
  ]);
  await rejectsWith(t, testServer.client.getHost('h1'), grpc.status.NOT_FOUND);
});

test('SyncHost takes 4096 devices and refuses 4097', async (t) => {
  const testServer = await startTestServer(t);
  const devices = (n: number): DeviceSpec[] =>
    Array.from({ length: n }, (_, i) => ({ device_id: `vf${i}`, descriptor: gvt('1.2.0') }));
  const error = await refused(t, testServer, { name: 'big', devices: devices(4097) }, '4097 devices');
  t.deepEqual(fields(error), ['devices']);
  const accepted = await testServer.client.syncHost({ name: 'big', devices: devices(4096) });
  t.like(accepted, { revision: '1', devices_created: 4096 });
  t.like(await testServer.client.getHost('big'), { device_count: 4096 });
});

// ---------------------------------------------------------------------------------------
// Reads

test('Get and Check: unknown names are NOT_FOUND, malformed names INVALID_ARGUMENT naming the field', async (t) => {
  const { client } = await startTestServer(t);
  await client.syncHost({ name: 'h1', devices: [{ device_id: 'gpu0', descriptor: gvt('1.2.0') }] });

  const unknownDevice = await rejectsWith(t, client.getDevice('hosts/h1/devices/gpu9'), grpc.status.NOT_FOUND);
  t.is(unknownDevice.reason, 'NOT_FOUND');
  t.regex(unknownDevice.message, /hosts\/h1\/devices\/gpu9/);
  await rejectsWith(t, client.getDevice('hosts/h9/devices/gpu0'), grpc.status.NOT_FOUND, 'device of an unknown host');
  const unknownHost = await rejectsWith(t, client.getHost('hosts/h9'), grpc.status.NOT_FOUND);
  t.is(unknownHost.reason, 'NOT_FOUND');

  for (const name of ['hosts/h1/gpu0', 'h1/devices/gpu0', 'hosts/h1/devices/', 'hosts/H1/devices/gpu0', 'hosts/h1/devices/a/b', '']) {
    const error = await rejectsWith(t, client.getDevice(name), grpc.status.INVALID_ARGUMENT, `device name ${JSON.stringify(name)}`);
    t.deepEqual(fields(error), ['name']);
  }
  for (const name of ['hosts/', 'hosts/Bad_Host', 'hosts/h1/devices/gpu0']) {
    const error = await rejectsWith(t, client.getHost(name), grpc.status.INVALID_ARGUMENT, `host name ${JSON.stringify(name)}`);
    t.deepEqual(fields(error), ['name']);
  }

  await rejectsWith(t, client.check('hosts/h1/devices/gpu0', 'hosts/h1/devices/gpu9'), grpc.status.NOT_FOUND);
  const malformed = await rejectsWith(t, client.check('hosts/h1/gpu0', 'hosts/h1/devices/gpu0'), grpc.status.INVALID_ARGUMENT);
  t.deepEqual(fields(malformed), ['source.name']);
  const inline = await rejectsWith(
    t,
    client.check('hosts/h1/devices/gpu0', { ...gvt('1.2.0'), software_version: '1.2' }),
    grpc.status.INVALID_ARGUMENT,
  );
  t.deepEqual(fields(inline), ['target.descriptor.software_version']);

  await rejectsWith(t, collect(client.findTargets('hosts/h1/devices/gpu9')), grpc.status.NOT_FOUND, 'FindTargets from an unknown device');
  const limit = await rejectsWith(t, collect(client.findTargets(gvt('1.2.0'), { limit: 10_001 })), grpc.status.INVALID_ARGUMENT);
  t.deepEqual(fields(limit), ['limit']);
  const excluded = await rejectsWith(t, collect(client.findTargets(gvt('1.2.0'), { excludeHosts: ['ok', 'Not OK'] })), grpc.status.INVALID_ARGUMENT);
  t.deepEqual(fields(excluded), ['exclude_hosts[1]']);
  const selector = await rejectsWith(t, collect(client.findTargets(gvt('1.2.0'), { hostLabels: { 'Bad Key': 'x' } })), grpc.status.INVALID_ARGUMENT);
  t.true(fields(selector)[0].startsWith('host_labels'));
  const page = await rejectsWith(t, client.listDevicesPage({ pageSize: -1 }), grpc.status.INVALID_ARGUMENT);
  t.deepEqual(fields(page), ['page_size']);
  // At most 10,000 hosts excluded (a standing query holds them all its life).
  const many = Array.from({ length: 10_001 }, (_, i) => `h${i}`);
  const tooMany = await rejectsWith(t, collect(client.findTargets(gvt('1.2.0'), { excludeHosts: many })), grpc.status.INVALID_ARGUMENT);
  t.deepEqual(violationsOf(tooMany), [['exclude_hosts', 'at most 10000 hosts, got 10001']]);
  t.is((await collect(client.findTargets(gvt('1.2.0'), { excludeHosts: many.slice(1) }))).length > 0, true, '10,000 are taken');
  // Device filters hold what a descriptor may hold.
  const filter = await rejectsWith(t, client.listDevicesPage({ filter: { vendor: '8086', type: 'gvt\u0000', device_api: 'x'.repeat(257) } }), grpc.status.INVALID_ARGUMENT);
  t.deepEqual(violationsOf(filter), [
    ['filter.device_api', 'at most 256 characters'],
    ['filter.type', 'must not contain control characters (NUL, newline, escape, DEL, C1)'],
  ]);
});

// ---------------------------------------------------------------------------------------
// Message size

test('a message over the server\'s size limit is RESOURCE_EXHAUSTED, and the server goes on', async (t) => {
  const testServer = await startTestServer(t, { maxMessageBytes: 64 * 1024 });
  const { client } = testServer;
  await client.syncHost({ name: 'small', devices: [{ device_id: 'gpu0', descriptor: gvt('1.2.0') }] });
  const before = await state(testServer);

  // About 200 KiB: 400 devices with a 500-byte label each.
  const devices: DeviceSpec[] = Array.from({ length: 400 }, (_, i) => ({
    device_id: `vf${i}`,
    descriptor: gvt('1.2.0'),
    labels: { note: 'x'.repeat(250), more: 'y'.repeat(250) },
  }));
  const error = await rejectsWith(t, client.syncHost({ name: 'huge', devices }), grpc.status.RESOURCE_EXHAUSTED);
  t.is(error.codeName, 'RESOURCE_EXHAUSTED');

  // Still serving, and nothing of the big request was stored.
  t.deepEqual(await state(testServer), before);
  await rejectsWith(t, client.getHost('huge'), grpc.status.NOT_FOUND);
  const next = await client.syncHost({ name: 'small', devices: [{ device_id: 'gpu0', descriptor: gvt('1.3.0') }] });
  t.like(next, { revision: '2', changed: true });
  t.is((await client.check('hosts/small/devices/gpu0', gvt('1.3.0'))).verdict, 'VERDICT_COMPATIBLE');
});

test('a batch-check message with more than 1000 checks fails the stream, and every pending check with it', async (t) => {
  const { client, server } = await startTestServer(t);
  const stream = client.checkStream({ maxBatch: 1001 });
  const pending = Array.from({ length: 1001 }, (_, i) => stream.submit({ id: `c${i}`, source: gvt('1.2.0'), target: gvt('1.2.0') }));
  const results = await Promise.allSettled(pending);
  t.true(results.every((r) => r.status === 'rejected'));
  const first = (results[0] as PromiseRejectedResult).reason as DevcompatError;
  t.is(first.code, grpc.status.INVALID_ARGUMENT);
  t.deepEqual(fields(first), ['checks']);
  await stream.close();
  t.is(server.openStreams(), 0);
  // A well-sized batch on a new stream works.
  const ok = await client.checkMany(Array.from({ length: 1000 }, (_, i) => ({ id: `c${i}`, source: gvt('1.2.0'), target: gvt('1.2.0') })));
  t.is(ok.length, 1000);
  t.true(ok.every((r) => r.result?.verdict === 'VERDICT_COMPATIBLE'));
});
