// The server's defaults that `devcompat serve` shows in its help and applies to its flags, in a
// module of their own: the serve command reads them before it loads the server's modules
// (server.ts and everything it imports), which it does only once the storage worker is started
// (server/serve.ts), so that the two start side by side.

export const DEFAULT_ADDRESS = '127.0.0.1:50051';
export const DEFAULT_DB_PATH = './data/devcompat.db';
/** Larger messages are refused by grpc-js before they are buffered. */
export const DEFAULT_MAX_MESSAGE_BYTES = 16 * 1024 * 1024;
/** A unary call slower than this is logged at warn (grpc/telemetry.ts). */
export const DEFAULT_SLOW_REQUEST_MS = 1000;
/** Newest history entries whose chain is verified at start-up (store/startup-check.ts: a few tens of milliseconds). */
export const DEFAULT_STARTUP_CHAIN_CHECK = 10_000;
