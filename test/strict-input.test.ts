// Proto input is strict (issue 10): raw bytes over a real gRPC connection. A truncated message,
// or a string field holding invalid UTF-8, is refused with INVALID_ARGUMENT naming the field
// (protobufjs alone would decode the first as INTERNAL and the second into replacement
// characters, and store them); NUL and control characters are refused in labels and in a
// descriptor's strings. Nothing refused is stored, and the server goes on serving.

import test from 'ava';
import * as grpc from '@grpc/grpc-js';
import { DevcompatError } from '../client/client.ts';
import { protoRoot } from '../proto/load.ts';
import { startTestServer } from './helpers/server.ts';

const SYNC_HOST = '/devcompat.v1.RegistryService/SyncHost';
const identity = (bytes: Buffer) => bytes;

function encodeSync(request: object): Buffer {
  const type = protoRoot().lookupType('devcompat.v1.SyncHostRequest');
  return Buffer.from(type.encode(type.fromObject(request)).finish());
}

const descriptor = { vendor: '10de', device_api: 'vfio-pci', type: 'nvidia-525', software_version: '1.0.0' };

/** Replaces the UTF-8 bytes of `marker` (same length) with `bytes`. */
function corrupt(message: Buffer, marker: string, bytes: number[]): Buffer {
  const at = message.indexOf(Buffer.from(marker, 'utf8'));
  if (at < 0 || bytes.length !== Buffer.byteLength(marker)) throw new Error('marker not found');
  const copy = Buffer.from(message);
  Buffer.from(bytes).copy(copy, at);
  return copy;
}

function rawSync(client: grpc.Client, bytes: Buffer): Promise<DevcompatError | undefined> {
  return new Promise((resolve) =>
    client.makeUnaryRequest(SYNC_HOST, identity, identity, bytes, { deadline: Date.now() + 10_000 }, (error) =>
      resolve(error ? DevcompatError.from(error) : undefined),
    ),
  );
}

async function setup(t: Parameters<typeof startTestServer>[0]) {
  const server = await startTestServer(t);
  const raw = new grpc.Client(server.server.address, grpc.credentials.createInsecure());
  t.teardown(() => raw.close());
  const absent = async (name: string) =>
    t.is((await t.throwsAsync(server.client.getHost(name), { instanceOf: DevcompatError }))?.codeName, 'NOT_FOUND', `${name} was not stored`);
  return { ...server, raw, absent };
}

test('invalid UTF-8 in a string field is INVALID_ARGUMENT naming the field, and nothing is stored', async (t) => {
  const { raw, client, absent } = await setup(t);
  const cases: { request: object; marker: string; field: string; name: string }[] = [
    { name: 'hosts/u1', request: { name: 'hosts/u1', labels: { zone: 'ZZZZ' }, devices: [] }, marker: 'ZZZZ', field: 'labels["zone"]' },
    {
      name: 'hosts/u2',
      request: { name: 'hosts/u2', devices: [{ device_id: '0000:3b:00.2', descriptor: { ...descriptor, vendor: 'QQQQ' } }] },
      marker: 'QQQQ',
      field: 'devices[0].descriptor.vendor',
    },
    {
      name: 'hosts/u3',
      request: {
        name: 'hosts/u3',
        devices: [
          { device_id: '0000:3b:00.1', descriptor },
          { device_id: '0000:3b:00.2', descriptor: { ...descriptor, attributes: { fence: { string_value: 'WWWW' } } } },
        ],
      },
      marker: 'WWWW',
      field: 'devices[1].descriptor.attributes["fence"].string_value',
    },
  ];
  for (const { name, request, marker, field } of cases) {
    // 0xff is never UTF-8; 0xc3 0x28 is a lead byte without its continuation.
    const error = await rawSync(raw, corrupt(encodeSync(request), marker, [0x41, 0xff, 0xc3, 0x28]));
    t.is(error?.codeName, 'INVALID_ARGUMENT', field);
    t.deepEqual(error?.fieldViolations.map((v) => v.field), [field]);
    t.regex(error?.fieldViolations[0]?.description ?? '', /not valid UTF-8/);
    await absent(name);
  }
  // The same request with valid UTF-8 (not ASCII) is stored as sent.
  t.is(await rawSync(raw, encodeSync({ name: 'hosts/u1', labels: { zone: 'zürich-é' }, devices: [] })), undefined);
  t.is((await client.getHost('hosts/u1')).labels.zone, 'zürich-é');
});

test('a truncated message is INVALID_ARGUMENT, never INTERNAL, and nothing is stored', async (t) => {
  const { raw, client, absent } = await setup(t);
  const whole = encodeSync({ name: 'hosts/cut', labels: { zone: 'a' }, devices: [{ device_id: '0000:3b:00.2', descriptor }] });
  for (const cut of [1, 3, 7, whole.length - 20]) {
    const error = await rawSync(raw, whole.subarray(0, whole.length - cut));
    t.is(error?.codeName, 'INVALID_ARGUMENT', `cut ${cut} bytes`);
    t.regex(error?.fieldViolations[0]?.description ?? '', /truncated or malformed/);
  }
  await absent('hosts/cut');
  t.is(await rawSync(raw, whole), undefined);
  t.is((await client.getHost('hosts/cut')).device_count, 1);
});

test('NUL and control characters are refused in labels and descriptor strings, naming the field', async (t) => {
  const { client, absent } = await setup(t);
  const refusedWith = async (request: object) => {
    const error = await t.throwsAsync(client.syncHost(request as never), { instanceOf: DevcompatError });
    t.is(error?.codeName, 'INVALID_ARGUMENT');
    return error!.fieldViolations;
  };
  t.like((await refusedWith({ name: 'hosts/c1', labels: { zone: 'a\u0000b' }, devices: [] }))[0], {
    field: 'labels["zone"]',
    description: 'label value must not contain control characters (NUL, newline, escape, DEL, C1)',
  });
  const device = (patch: object) => ({ name: 'hosts/c2', devices: [{ device_id: '0000:3b:00.2', descriptor: { ...descriptor, ...patch } }] });
  t.is((await refusedWith(device({ vendor: '10de\u001b[31m' })))[0].field, 'devices[0].descriptor.vendor');
  t.is((await refusedWith(device({ type: 'nvidia\n525' })))[0].field, 'devices[0].descriptor.type');
  t.is((await refusedWith(device({ compatible_types: ['ok', 'bad\u007f'] })))[0].field, 'devices[0].descriptor.compatible_types[1]');
  t.is(
    (await refusedWith(device({ attributes: { fence: { string_value: 'x\u009b2J' } } })))[0].field,
    'devices[0].descriptor.attributes["fence"].string_value',
  );
  await absent('hosts/c1');
  await absent('hosts/c2');
  t.true((await client.syncHost({ name: 'hosts/c3', labels: { zone: 'tab-free' }, devices: [] })).changed, 'still serving');
});

test('a malformed message on a stream (KeepAlive) ends it with INVALID_ARGUMENT', async (t) => {
  const { raw, client } = await setup(t);
  const call = raw.makeBidiStreamRequest('/devcompat.v1.RegistryService/KeepAlive', identity, identity);
  const ended = new Promise<DevcompatError>((resolve) => call.on('error', (error) => resolve(DevcompatError.from(error))));
  call.on('data', () => undefined);
  // KeepAliveRequest.name (field 1) claims 50 bytes and carries 3.
  call.write(Buffer.from([0x0a, 50, 0x61, 0x62, 0x63]));
  const error = await ended;
  t.is(error.codeName, 'INVALID_ARGUMENT');
  t.regex(error.fieldViolations[0]?.description ?? '', /truncated or malformed/);
  t.true((await client.syncHost({ name: 'hosts/after-stream', devices: [] })).changed, 'still serving');
});
