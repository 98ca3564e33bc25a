// What the benchmark's bare grpc-js servers share (bench/baseline-server.ts, the CheckCompatibility
// baseline, and bench/sync-floor-server.ts, the SyncHost floor): devcompat's server options, and
// the life cycle the bench's child-process runner expects (one JSON line with the bound address,
// a clean stop on SIGTERM/SIGINT). Nothing of the registry is loaded.

import * as grpc from '@grpc/grpc-js';

// The same server options as devcompat's (server/server.ts, DEFAULT_MAX_MESSAGE_BYTES; not
// imported so that the bare servers load nothing of the registry).
const DEFAULT_MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

export function bareServer(): grpc.Server {
  return new grpc.Server({
    'grpc.max_receive_message_length': DEFAULT_MAX_MESSAGE_BYTES,
    'grpc.max_send_message_length': DEFAULT_MAX_MESSAGE_BYTES,
  });
}

/** Binds, logs `{"msg": readyMsg, "address": ...}` once bound, and stops on SIGTERM or SIGINT. */
export function serveUntilSignal(server: grpc.Server, address: string, readyMsg: string): void {
  server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (error, port) => {
    if (error) {
      console.log(JSON.stringify({ level: 60, msg: `${readyMsg}: cannot listen on ${address}: ${error.message}` }));
      process.exit(1);
    }
    const host = address.slice(0, address.lastIndexOf(':'));
    console.log(JSON.stringify({ level: 30, msg: readyMsg, address: `${host}:${port}` }));
  });
  const stop = () => {
    server.tryShutdown(() => process.exit(0));
    setTimeout(() => process.exit(0), 2000).unref();
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}
