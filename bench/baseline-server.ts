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

// The same server options as devcompat's (server/server.ts, DEFAULT_MAX_MESSAGE_BYTES; not
// imported so that the baseline loads nothing of the registry).
const DEFAULT_MAX_MESSAGE_BYTES = 16 * 1024 * 1024;
const server = new grpc.Server({
  'grpc.max_receive_message_length': DEFAULT_MAX_MESSAGE_BYTES,
  'grpc.max_send_message_length': DEFAULT_MAX_MESSAGE_BYTES,
});
const services = loadServices();
server.addService(services.CompatibilityService.service, {
  CheckCompatibility: (_call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) => {
    callback(null, response);
  },
});

const address = values.address;
server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (error, port) => {
  if (error) {
    console.log(JSON.stringify({ level: 60, msg: `baseline cannot listen on ${address}: ${error.message}` }));
    process.exit(1);
  }
  const host = address.slice(0, address.lastIndexOf(':'));
  console.log(JSON.stringify({ level: 30, msg: 'baseline serving', address: `${host}:${port}` }));
});

const stop = () => {
  server.tryShutdown(() => process.exit(0));
  setTimeout(() => process.exit(0), 2000).unref();
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
