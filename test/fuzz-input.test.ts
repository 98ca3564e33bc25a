// No input crashes the server. Random bytes reach every method's decoder, and random
// structured requests reach validation; each gets a clean status (never INTERNAL for a
// request that decodes), bad ones store nothing, and the server keeps answering.

import test from 'ava';
import * as grpc from '@grpc/grpc-js';
import fc from 'fast-check';
import { DevcompatError } from '../client/client.ts';
import { loadServices } from '../proto/load.ts';
import { COMPARE_OPS } from '../server/core/model.ts';
import { startTestServer } from './helpers/server.ts';

const UNARY_METHODS = [
  '/devcompat.v1.RegistryService/SyncHost',
  '/devcompat.v1.RegistryService/DeleteHost',
  '/devcompat.v1.RegistryService/GetHost',
  '/devcompat.v1.RegistryService/ListHosts',
  '/devcompat.v1.RegistryService/GetDevice',
  '/devcompat.v1.RegistryService/ListDevices',
  '/devcompat.v1.CompatibilityService/CheckCompatibility',
  '/devcompat.v1.HistoryService/ListHistory',
];

const identity = (bytes: Buffer) => bytes;

/** Whether the method's own decoder accepts these bytes (what the server does first). */
function decodes(method: string, bytes: Buffer): boolean {
  const [, serviceName, methodName] = method.split('/');
  const services = loadServices() as unknown as Record<string, grpc.ServiceClientConstructor>;
  const definition = services[serviceName.replace('devcompat.v1.', '')].service[methodName];
  try {
    definition.requestDeserialize(bytes);
    return true;
  } catch {
    return false;
  }
}

function rawCall(client: grpc.Client, method: string, bytes: Buffer): Promise<grpc.status> {
  return new Promise((resolve) => {
    client.makeUnaryRequest(method, identity, identity, bytes, { deadline: Date.now() + 5000 }, (error) =>
      resolve(error ? (error.code as grpc.status) : grpc.status.OK),
    );
  });
}

test('random bytes to every unary method get a status, and the server keeps serving', async (t) => {
  const { server, client } = await startTestServer(t);
  const raw = new grpc.Client(server.address, grpc.credentials.createInsecure());
  t.teardown(() => raw.close());
  const seen = new Set<grpc.status>();
  await fc.assert(
    fc.asyncProperty(fc.constantFrom(...UNARY_METHODS), fc.uint8Array({ maxLength: 512 }), async (method, bytes) => {
      const code = await rawCall(raw, method, Buffer.from(bytes));
      seen.add(code);
      // Undecodable input is refused by the strict decoder (INVALID_ARGUMENT, never grpc-js's
      // INTERNAL); input that decodes is judged by validation (or refused for invalid UTF-8),
      // and never ends in INTERNAL (a bug's status).
      if (!decodes(method, Buffer.from(bytes))) return code === grpc.status.INVALID_ARGUMENT;
      return [grpc.status.OK, grpc.status.INVALID_ARGUMENT, grpc.status.NOT_FOUND].includes(code);
    }),
    { numRuns: 400, seed: 20261127 },
  );
  t.true(seen.has(grpc.status.INVALID_ARGUMENT), 'some random input decoded and was refused by validation');
  // Still serving: a well-formed write and read go through.
  const response = await client.syncHost({ name: 'hosts/after-fuzz', devices: [] });
  t.true(response.changed);
  t.is((await client.getHost('hosts/after-fuzz')).name, 'hosts/after-fuzz');
});

// Values of every JSON kind, including wrong ones for each field.
const anyScalar = fc.oneof(fc.string({ maxLength: 8 }), fc.integer(), fc.boolean(), fc.constant(''));
const attributeValue = fc.oneof(
  fc.record({ int_value: fc.oneof(fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map(String), fc.integer()) }),
  fc.record({ string_value: fc.string({ maxLength: 300 }) }),
  fc.record({ bool_value: fc.boolean() }),
  fc.record({ version_value: fc.oneof(fc.constantFrom('1.2.3', 'v1.2.3', '1.2', 'x', '535.104.05'), fc.string({ maxLength: 10 })) }),
  fc.record({ set_value: fc.record({ values: fc.array(fc.string({ maxLength: 6 }), { maxLength: 6 }) }) }),
  fc.constant({}),
);
const compareOp = fc.constantFrom('COMPARE_OP_UNSPECIFIED', ...COMPARE_OPS);
const attributeName = fc.oneof(fc.constantFrom('fence', 'pci_ids', 'software_version', 'type', 'Bad Name', ''), fc.string({ maxLength: 8 }));
const randomDescriptor = fc.record(
  {
    vendor: fc.oneof(fc.constantFrom('8086', '10de', ''), fc.string({ maxLength: 5 })),
    device_api: fc.constantFrom('vfio-pci', 'vfio-ccw', ''),
    type: fc.oneof(fc.constantFrom('i915-GVTg_V5_4', 'mlx5_vfio_pci', ''), fc.string({ maxLength: 5 })),
    compatible_types: fc.array(fc.string({ maxLength: 6 }), { maxLength: 4 }),
    software_version: fc.oneof(fc.constantFrom('1.2.3', 'v2.0.0', '1.2', '1.0.0-rc.1+b'), fc.string({ maxLength: 6 })),
    attributes: fc.dictionary(attributeName, attributeValue, { maxKeys: 5 }),
    rules: fc.dictionary(
      attributeName,
      fc.record(
        {
          op: compareOp,
          values: fc.array(attributeValue, { maxLength: 3 }),
          range: fc.oneof(fc.constantFrom('>=1.0.0', '>=1.0.0 junk', '2.0.2 - 2.0.4 || >=2.1.0', ''), fc.string({ maxLength: 6 })),
          warn_only: fc.boolean(),
        },
        { requiredKeys: [] },
      ),
      { maxKeys: 4 },
    ),
  },
  { requiredKeys: [] },
);
// Valid descriptors too, so that both outcomes are exercised.
const validDescriptor = fc.record({
  vendor: fc.constantFrom('8086', '10de'),
  device_api: fc.constant('vfio-pci'),
  type: fc.constantFrom('i915-GVTg_V5_4', 'nvidia-525'),
  software_version: fc.constantFrom('1.2.3', 'v2.0.0', '535.104.05'),
  attributes: fc.dictionary(fc.constantFrom('fence', 'pci_ids', 'ecc', 'mode'), attributeValue.filter((value) => Object.keys(value).length > 0 && !('version_value' in value)), {
    maxKeys: 4,
  }),
  rules: fc.dictionary(
    fc.constantFrom('fence', 'pci_ids', 'software_version'),
    fc.record({ op: fc.constantFrom('COMPARE_OP_EQUAL', 'COMPARE_OP_SUPERSET', 'COMPARE_OP_GE', 'COMPARE_OP_IGNORE'), warn_only: fc.boolean() }),
    { maxKeys: 2 },
  ),
});
const descriptor = fc.oneof({ arbitrary: validDescriptor, weight: 2 }, { arbitrary: randomDescriptor, weight: 1 });

test('random structured SyncHost requests are stored whole or refused with field violations', async (t) => {
  const { client } = await startTestServer(t);
  let accepted = 0;
  let refused = 0;
  let index = 0;
  await fc.assert(
    fc.asyncProperty(
      fc.uniqueArray(fc.record({ device_id: fc.constantFrom('0000:00:02.0', '0000:3b:00.2', '0000:3b:00.3', 'bad id'), descriptor }), {
        minLength: 1,
        maxLength: 3,
        selector: (device: { device_id: string }) => device.device_id,
      }),
      fc.dictionary(fc.constantFrom('zone', 'rack', 'Bad Key'), anyScalar.map(String), { maxKeys: 2 }),
      async (devices, labels) => {
        const name = `hosts/fuzz-${index++}`;
        try {
          const response = await client.syncHost({ name, labels, devices: devices as never });
          accepted++;
          return (await client.getHost(name)).device_count === devices.length && response.changed;
        } catch (error) {
          if (!(error instanceof DevcompatError) || error.code !== grpc.status.INVALID_ARGUMENT) throw error;
          refused++;
          if (error.fieldViolations.length === 0) return false;
          const absent = await client.getHost(name).then(
            () => false,
            (missing: DevcompatError) => missing.code === grpc.status.NOT_FOUND,
          );
          return absent;
        }
      },
    ),
    { numRuns: 300, seed: 7 },
  );
  t.true(accepted > 0, 'some random requests were valid');
  t.true(refused > 0, 'some random requests were refused');
});
