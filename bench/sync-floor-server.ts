// The SyncHost floor: a bare grpc-js server, loaded from the same proto with the same loader
// options and server options as devcompat, whose SyncHost only decodes the request (grpc-js
// runs proto-loader's deserializer, as it does for devcompat) and answers at once, with a
// response of devcompat's shape built from the request (the host's name, labels and device
// count, a revision, every device "created", a 64-hex head hash). No validation, no storage, no
// fsync: what is left is grpc-js, HTTP/2 and protobuf decoding of 16 descriptors per request,
// the floor under any Node gRPC server that decodes SyncHost with proto-loader. The sync phase's
// time is reported over this one's, measured in the same run with the same pre-encoded requests,
// client and concurrency (bench/sync-floor.ts).
//
// With `--decode none` it is the transport floor: SyncHost is registered with grpc-js's own
// `register` and identity (de)serializers, so the request's bytes are never decoded and every
// call gets one response encoded once at start (devcompat's shape, 16 devices created). What is
// left is grpc-js and HTTP/2 alone, with devcompat's server options: grpc-js cannot answer
// these requests faster, and a registration target below this line is out of reach for a
// grpc-js server on the machine that measured it.
//
//   node --import tsx bench/sync-floor-server.ts [--address 127.0.0.1:0] [--decode proto-loader|none]
//
// Logs one JSON line {"msg":"sync floor serving","address":...} once bound; stops on SIGTERM.

import * as grpc from '@grpc/grpc-js';
import { parseArgs } from 'node:util';
import { loadServices } from '../proto/load.ts';
import { bareServer, serveUntilSignal } from './bare-server.ts';

const { values } = parseArgs({
  options: { address: { type: 'string', default: '127.0.0.1:0' }, decode: { type: 'string', default: 'proto-loader' } },
  strict: true,
});
if (values.decode !== 'proto-loader' && values.decode !== 'none') {
  console.error(`--decode must be proto-loader or none, not ${values.decode}`);
  process.exit(2);
}

// devcompat's server options (bench/bare-server.ts).
const server = bareServer();

interface DecodedSyncHost {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly devices: readonly unknown[];
}

const HEAD_HASH = '0'.repeat(64);
const service = loadServices().RegistryService.service;
let revision = 0;

function responseFor(name: string, labels: Record<string, string>, devices: number): unknown {
  revision++;
  return {
    revision: String(revision),
    host: { name, labels, revision: String(revision), create_revision: String(revision), device_count: devices, state: 'HOST_STATE_READY' },
    changed: true,
    devices_created: devices,
    head_hash: HEAD_HASH,
  };
}

if (values.decode === 'none') {
  // One response, encoded once: the fleet's hosts carry 16 devices each.
  const encoded = service.SyncHost.responseSerialize(responseFor('host-00000', { rack: 'r00' }, 16));
  const identity = (bytes: Buffer) => bytes;
  server.register<Buffer, Buffer>(
    service.SyncHost.path,
    (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => callback(null, encoded),
    identity,
    identity,
    'unary',
  );
} else {
  server.addService(service, {
    SyncHost: (call: grpc.ServerUnaryCall<DecodedSyncHost, unknown>, callback: grpc.sendUnaryData<unknown>) => {
      const request = call.request;
      callback(null, responseFor(request.name, request.labels, request.devices.length));
    },
  });
}

serveUntilSignal(server, values.address, 'sync floor serving');
