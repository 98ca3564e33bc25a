// The CheckCompatibility baseline: a bare grpc-js server, loaded from the same proto with the
// same loader options as devcompat, that answers every CheckCompatibility with one FIXED
// response (a real devcompat verdict captured earlier in the same benchmark run). It does no
// lookup and no evaluation: what is left is grpc-js, HTTP/2 and protobuf encoding, the floor
// under any Node gRPC server answering with a verdict of that size.
//
//   node --import tsx bench/baseline-server.ts --response <file.json> [--address 127.0.0.1:0]
//
// Logs one JSON line {"msg":"baseline serving","address":...} once bound; stops on SIGTERM.

import * as grpc from '@grpc/grpc-js';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadServices } from '../proto/load.ts';
import { bareServer, serveUntilSignal } from './bare-server.ts';

const { values } = parseArgs({
  options: {
    address: { type: 'string', default: '127.0.0.1:0' },
    response: { type: 'string' },
  },
  strict: true,
});
if (!values.response) throw new Error('--response <file.json> is required');

// The CheckCompatibilityResponse object as the client decoded it (proto-loader options of
// proto/load.ts); grpc-js serializes it again on every call, as it would a computed one.
const response: unknown = JSON.parse(readFileSync(values.response, 'utf8'));

// devcompat's server options (bench/bare-server.ts).
const server = bareServer();
const services = loadServices();
server.addService(services.CompatibilityService.service, {
  CheckCompatibility: (_call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => {
    callback(null, response);
  },
});

serveUntilSignal(server, values.address, 'baseline serving');
