// Interop with a third-party client that knows nothing of our .proto files: `buf curl` (Go,
// connect-go's gRPC) learns the schema through server reflection, speaks gRPC over plaintext
// HTTP/2, and reads and writes proto3 JSON (lowerCamelCase names, int64 as strings,
// Timestamps as RFC 3339).

import test from 'ava';
import protobuf from 'protobufjs';
import path from 'node:path';
import { BUF, REPO_ROOT, run, startSharedServer } from './helpers/cli.ts';

let shared: Awaited<ReturnType<typeof startSharedServer>>;

test.before(async () => {
  shared = await startSharedServer();
});

test.after.always(async () => {
  await shared?.close();
});

/** `buf curl` over gRPC with HTTP/2 prior knowledge (h2c), the schema from reflection. */
const bufCurl = (args: string[]) => run(BUF, ['curl', '--protocol', 'grpc', '--http2-prior-knowledge', ...args]);
const call = (method: string, body: unknown) => bufCurl([`http://${shared.address}/${method}`, '-d', JSON.stringify(body)]);

/** A server stream's messages: buf curl prints one indented JSON object after another. */
const messages = (stdout: string) =>
  stdout
    .trim()
    .replace(/^}\n{$/gm, '}\u0000{')
    .split('\u0000')
    .map((text) => JSON.parse(text));

const details = new protobuf.Root();
details.loadSync(path.join(REPO_ROOT, 'proto/google/rpc/error_details.proto'), { keepCase: true });
const decodeDetail = (type: string, base64: string) => {
  const message = details.lookupType(type);
  return message.toObject(message.decode(Buffer.from(base64, 'base64')));
};

// An NVIDIA vGPU host in proto3 JSON as any gRPC JSON client writes it.
const nvidia = (manager: string) => ({
  labels: { zone: 'b', gpu: 'nvidia' },
  devices: [
    {
      deviceId: '0000:3b:00.0',
      descriptor: {
        vendor: '10de',
        deviceApi: 'vfio-pci',
        type: 'nvidia-525',
        softwareVersion: '17.3.0',
        attributes: {
          ecc: { boolValue: true },
          framebuffer_mb: { intValue: '2048' },
          max_instance: { intValue: 24 },
          manager: { versionValue: manager },
        },
        rules: {
          ecc: { op: 'COMPARE_OP_EQUAL' },
          framebuffer_mb: { op: 'COMPARE_OP_EQUAL' },
          max_instance: { op: 'COMPARE_OP_IGNORE' },
          manager: { op: 'COMPARE_OP_VERSION_GE', warnOnly: true },
        },
      },
      capacity: { total: 24, available: 20 },
      labels: { board: 'a40' },
    },
  ],
});

test.serial('reflection lists every service, and every method resolves', async (t) => {
  const services = await bufCurl(['--list-services', `http://${shared.address}`]);
  t.is(services.code, 0, services.stderr);
  t.deepEqual(services.stdout.trim().split('\n').sort(), [
    'devcompat.v1.AdminService',
    'devcompat.v1.CompatibilityService',
    'devcompat.v1.HistoryService',
    'devcompat.v1.PlacementService',
    'devcompat.v1.RegistryService',
    'devcompat.v1.WatchService',
    'grpc.health.v1.Health',
  ]);
  // Listing methods builds the whole schema from the reflected descriptors.
  const methods = await bufCurl(['--list-methods', `http://${shared.address}`]);
  t.is(methods.code, 0, methods.stderr);
  const listed = methods.stdout.trim().split('\n');
  for (const method of [
    'devcompat.v1.RegistryService/SyncHost',
    'devcompat.v1.RegistryService/GetDevice',
    'devcompat.v1.RegistryService/ListDevices',
    'devcompat.v1.CompatibilityService/CheckCompatibility',
    'devcompat.v1.CompatibilityService/FindTargets',
    'devcompat.v1.CompatibilityService/CheckCompatibilityStream',
    'devcompat.v1.HistoryService/ListHistory',
    'devcompat.v1.PlacementService/FindPlacements',
    'devcompat.v1.AdminService/Backup',
    'grpc.health.v1.Health/Check',
  ]) {
    t.true(listed.includes(method), method);
  }
});

test.serial('grpc.health.v1.Health/Check answers SERVING for the server and each service', async (t) => {
  const overall = await call('grpc.health.v1.Health/Check', {});
  t.is(overall.code, 0, overall.stderr);
  t.deepEqual(JSON.parse(overall.stdout), { status: 'SERVING' });
  const registry = await call('grpc.health.v1.Health/Check', { service: 'devcompat.v1.RegistryService' });
  t.deepEqual(JSON.parse(registry.stdout), { status: 'SERVING' });
});

test.serial('SyncHost then GetDevice in proto3 JSON', async (t) => {
  const synced = await call('devcompat.v1.RegistryService/SyncHost', { name: 'hosts/nv-a', ...nvidia('535.104.05') });
  t.is(synced.code, 0, synced.stderr);
  const response = JSON.parse(synced.stdout);
  t.like(response, {
    revision: '1',
    changed: true,
    devicesCreated: 1,
    host: { name: 'hosts/nv-a', revision: '1', createRevision: '1', deviceCount: 1, labels: { zone: 'b', gpu: 'nvidia' } },
  });
  t.regex(response.host.createTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);

  // proto3 JSON: a resend of the same state changes nothing; `changed: false` is a default, so omitted.
  const again = await call('devcompat.v1.RegistryService/SyncHost', { name: 'nv-a', ...nvidia('535.104.05') });
  t.is(again.code, 0, again.stderr);
  t.deepEqual(Object.keys(JSON.parse(again.stdout)).sort(), ['headHash', 'host', 'revision']);

  const got = await call('devcompat.v1.RegistryService/GetDevice', { name: 'hosts/nv-a/devices/0000:3b:00.0' });
  t.is(got.code, 0, got.stderr);
  const { device, revision } = JSON.parse(got.stdout);
  t.is(revision, '1');
  t.like(device, {
    name: 'hosts/nv-a/devices/0000:3b:00.0',
    capacity: { total: 24, available: 20 },
    labels: { board: 'a40' },
    revision: '1',
  });
  t.deepEqual(device.descriptor, {
    vendor: '10de',
    deviceApi: 'vfio-pci',
    type: 'nvidia-525',
    softwareVersion: '17.3.0',
    attributes: {
      ecc: { boolValue: true },
      framebuffer_mb: { intValue: '2048' },
      manager: { versionValue: '535.104.5' },
      max_instance: { intValue: '24' },
    },
    rules: {
      ecc: { op: 'COMPARE_OP_EQUAL' },
      framebuffer_mb: { op: 'COMPARE_OP_EQUAL' },
      manager: { op: 'COMPARE_OP_VERSION_GE', warnOnly: true },
      max_instance: { op: 'COMPARE_OP_IGNORE' },
    },
  });
});

test.serial('CheckCompatibility and the FindTargets stream', async (t) => {
  const synced = await call('devcompat.v1.RegistryService/SyncHost', { name: 'nv-b', ...nvidia('525.85.05') });
  t.is(synced.code, 0, synced.stderr);

  const checked = await call('devcompat.v1.CompatibilityService/CheckCompatibility', {
    source: { name: 'hosts/nv-a/devices/0000:3b:00.0' },
    target: { name: 'hosts/nv-b/devices/0000:3b:00.0' },
  });
  t.is(checked.code, 0, checked.stderr);
  const { result } = JSON.parse(checked.stdout);
  t.is(result.verdict, 'VERDICT_COMPATIBLE_WITH_WARNINGS');
  t.is(result.source, 'hosts/nv-a/devices/0000:3b:00.0');
  t.is(result.engine.model, 'compat-model/1');
  t.deepEqual(
    result.checks.find((check: { attribute: string }) => check.attribute === 'manager'),
    {
      attribute: 'manager',
      op: 'COMPARE_OP_VERSION_GE',
      result: 'CHECK_RESULT_WARN',
      reason: 'VERSION_LOWER',
      sourceValue: { versionValue: '535.104.5' },
      targetValue: { versionValue: '525.85.5' },
    },
  );

  // An inline descriptor on one side: ECC off does not match.
  const inline = await call('devcompat.v1.CompatibilityService/CheckCompatibility', {
    source: { descriptor: { ...nvidia('535.104.05').devices[0].descriptor, attributes: { ...nvidia('535.104.05').devices[0].descriptor.attributes, ecc: { boolValue: false } } } },
    target: { name: 'hosts/nv-a/devices/0000:3b:00.0' },
  });
  t.is(inline.code, 0, inline.stderr);
  const incompatible = JSON.parse(inline.stdout).result;
  t.is(incompatible.verdict, 'VERDICT_INCOMPATIBLE');
  t.false('source' in incompatible); // empty for an inline descriptor, so omitted in proto3 JSON
  t.deepEqual(
    incompatible.checks.filter((check: { result: string }) => check.result === 'CHECK_RESULT_FAIL').map((check: { attribute: string; reason: string }) => [check.attribute, check.reason]),
    [['ecc', 'VALUE_MISMATCH']],
  );

  const stream = await call('devcompat.v1.CompatibilityService/FindTargets', {
    source: { name: 'hosts/nv-b/devices/0000:3b:00.0' },
    includeRejected: true,
  });
  t.is(stream.code, 0, stream.stderr);
  const items = messages(stream.stdout);
  t.deepEqual(
    items.map((item) => (item.target ? [item.target.name, item.target.rank ?? 0, item.target.result.verdict] : Object.keys(item))),
    [['hosts/nv-a/devices/0000:3b:00.0', 1, 'VERDICT_COMPATIBLE'], ['summary']],
  );
  t.like(items[1].summary, { revision: '2', candidates: 1, compatible: 1 });
});

test.serial('bad input is InvalidArgument with ErrorInfo and BadRequest details', async (t) => {
  const descriptor = nvidia('535.104.05').devices[0].descriptor;
  const result = await call('devcompat.v1.CompatibilityService/CheckCompatibility', {
    source: { name: 'hosts/nv-a/devices/0000:3b:00.0' },
    target: { descriptor: { ...descriptor, attributes: { ...descriptor.attributes, 'Bad Name': { intValue: '1' } } } },
  });
  t.not(result.code, 0);
  t.is(result.stdout, '');
  const error = JSON.parse(result.stderr);
  t.is(error.code, 'invalid_argument');
  t.is(error.message, 'target.descriptor.attributes["Bad Name"]: attribute names must match ^[a-z][a-z0-9_.-]{0,62}$');
  t.deepEqual(
    error.details.map((detail: { type: string }) => detail.type),
    ['google.rpc.ErrorInfo', 'google.rpc.BadRequest'],
  );
  t.like(decodeDetail('google.rpc.ErrorInfo', error.details[0].value), { reason: 'INVALID_ARGUMENT', domain: 'devcompat' });
  t.deepEqual(decodeDetail('google.rpc.BadRequest', error.details[1].value), {
    field_violations: [
      { field: 'target.descriptor.attributes["Bad Name"]', description: 'attribute names must match ^[a-z][a-z0-9_.-]{0,62}$' },
    ],
  });

  const missing = await call('devcompat.v1.RegistryService/GetDevice', { name: 'hosts/nowhere/devices/0' });
  t.not(missing.code, 0);
  const notFound = JSON.parse(missing.stderr);
  t.is(notFound.code, 'not_found');
  t.like(decodeDetail('google.rpc.ErrorInfo', notFound.details[0].value), { reason: 'NOT_FOUND', domain: 'devcompat' });
});
