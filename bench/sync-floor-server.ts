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
//   node --import tsx bench/sync-floor-server.ts [--address 127.0.0.1:0]
//
// Logs one JSON line {"msg":"sync floor serving","address":...} once bound; stops on SIGTERM.

import * as grpc from '@grpc/grpc-js';
import { parseArgs } from 'node:util';
import { loadServices } from '../proto/load.ts';
import { bareServer, serveUntilSignal } from './bare-server.ts';

const { values } = parseArgs({ options: { address: { type: 'string', default: '127.0.0.1:0' } }, strict: true });

// devcompat's server options (bench/bare-server.ts).
const server = bareServer();

interface DecodedSyncHost {
  readonly name: string;
  readonly labels: Record<string, string>;
  readonly devices: readonly unknown[];
}

const HEAD_HASH = '0'.repeat(64);
let revision = 0;
server.addService(loadServices().RegistryService.service, {
  SyncHost: (call: grpc.ServerUnaryCall<DecodedSyncHost, unknown>, callback: grpc.sendUnaryData<unknown>) => {
    const request = call.request;
    revision++;
    callback(null, {
      revision: String(revision),
      host: { name: request.name, labels: request.labels, revision: String(revision), create_revision: String(revision), device_count: request.devices.length, state: 'HOST_STATE_READY' },
      changed: true,
      devices_created: request.devices.length,
      head_hash: HEAD_HASH,
    });
  },
});

serveUntilSignal(server, values.address, 'sync floor serving');
