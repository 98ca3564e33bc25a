// The server's service definitions (proto/load.ts serviceDefinitions, built from the schema's
// JSON) against proto-loader's reading of the .proto files themselves (loadSync, as a client of
// the API in any other program would load them): every method of every service has the same
// path, streaming flags and original name, and its serializers and deserializers give the same
// bytes and the same objects, so such a client and the server agree on every message.

import test from 'ava';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { PROTO_FILES, PROTO_LOADER_OPTIONS, serviceDefinitions, SERVICE_NAMES } from '../proto/load.ts';
import { gvt } from './helpers/integration.ts';

/** Messages with content, by method: the request, then the response. */
const SAMPLES: Record<string, [unknown, unknown]> = {
  'RegistryService/SyncHost': [
    { name: 'hosts/a', labels: { rack: 'r1' }, devices: [{ device_id: 'gpu0', descriptor: gvt('1.2.0'), capacity: { total: 4, available: 2 } }] },
    { revision: '7', host: { name: 'hosts/a', labels: { rack: 'r1' } } },
  ],
  'CompatibilityService/FindTargets': [
    { source: { name: 'hosts/a/devices/gpu0' }, limit: 10, include_rejected: true, host_labels: { zone: 'z1' } },
    { summary: { revision: '9', candidates: 3, compatible: 2, rejected: 1, distinct_descriptors: 2 } },
  ],
  'CompatibilityService/CheckCompatibility': [
    { source: { descriptor: gvt('1.2.0') }, target: { name: 'hosts/b/devices/gpu0' } },
    { result: { verdict: 'VERDICT_COMPATIBLE', revision: '3', checks: [{ attribute: 'pci_ids', result: 'CHECK_RESULT_PASS' }] } },
  ],
};

test('every method: the same path, streaming, original name, and the same encodings and decoded objects as proto-loader', (t) => {
  const loader = (grpc.loadPackageDefinition(protoLoader.loadSync(PROTO_FILES, PROTO_LOADER_OPTIONS)) as any).devcompat.v1 as Record<
    string,
    { service: grpc.ServiceDefinition }
  >;
  const ours = serviceDefinitions() as unknown as Record<string, { service: grpc.ServiceDefinition }>;
  const shortNames = SERVICE_NAMES.map((name) => name.slice(name.lastIndexOf('.') + 1));
  t.deepEqual(Object.keys(ours).sort(), [...shortNames].sort());
  let methods = 0;
  for (const service of shortNames) {
    const expected = loader[service].service;
    const actual = ours[service].service;
    t.deepEqual(Object.keys(actual).sort(), Object.keys(expected).sort(), service);
    for (const [name, method] of Object.entries(expected)) {
      const mine = actual[name];
      const id = `${service}/${name}`;
      t.is(mine.path, method.path, id);
      t.is(mine.requestStream, method.requestStream, id);
      t.is(mine.responseStream, method.responseStream, id);
      t.is(mine.originalName, method.originalName, id);
      const [request, response] = SAMPLES[id] ?? [{}, {}];
      for (const [side, value] of [['request', request], ['response', response]] as const) {
        const serialize = side === 'request' ? 'requestSerialize' : 'responseSerialize';
        const deserialize = side === 'request' ? 'requestDeserialize' : 'responseDeserialize';
        const bytes = Buffer.from(method[serialize](value as never));
        t.deepEqual(Buffer.from(mine[serialize](value as never)), bytes, `${id} ${side} encoding`);
        t.deepEqual(mine[deserialize](bytes), method[deserialize](bytes), `${id} ${side} decoded`);
      }
      methods++;
    }
  }
  t.true(methods >= 20, `${methods} methods compared`);
  t.true(Object.keys(SAMPLES).every((id) => id.split('/')[1] in ours[id.split('/')[0]].service), 'every sample names a method');
});

test('a method refuses an array as proto-loader does', (t) => {
  const ours = serviceDefinitions().RegistryService.service.GetHost;
  t.throws(() => ours.requestSerialize([] as never), { message: /expected object with GetHostRequest structure, got array instead/ });
});
