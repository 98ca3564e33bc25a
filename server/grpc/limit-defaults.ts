// The limits' default values (limits.ts has the rules), in a module of their own: `devcompat
// serve` shows them in its help and applies them to its flags before it loads grpc-js and the
// server's modules, which it does only once the storage worker is started (server/serve.ts).

import { readFileSync } from 'node:fs';
import os from 'node:os';

export {
  DEFAULT_ADMISSION_WAIT_MS,
  DEFAULT_EVICT_UNREAD_AFTER_MS,
  DEFAULT_MAX_FINITE_STREAMS,
  DEFAULT_MAX_FINITE_STREAMS_PER_CLIENT,
  DEFAULT_SEND_TIMEOUT_MS,
} from './finite-admission.ts';

/** Streams one connection may have open at once (HTTP/2 SETTINGS_MAX_CONCURRENT_STREAMS): clients multiplex hundreds of watches on one connection. */
export const DEFAULT_MAX_CONCURRENT_STREAMS = 1000;
/**
 * Request streams (CheckCompatibilityStream, KeepAlive, reflection) one connection may have open
 * at once (stream-cap.ts): each may hold a flow-control window of request bytes unread
 * (32 x 512 KB = 16 MB), and, measured at worst (windows full of empty requests, of which grpc-js
 * decodes a whole 16 KB frame at once), about 2 MB of memory: some 64 MB per connection. An agent
 * holds one KeepAlive per connection, the client library's check streams share one connection
 * (one per CheckStream, one long-lived in practice), the lease bench puts one per connection.
 */
export const DEFAULT_MAX_REQUEST_STREAMS_PER_CONNECTION = 32;
/**
 * Watches (Watch, WatchTargets) one connection may have open at once (stream-cap.ts,
 * WATCH_STREAMS): an agent holds none, a scheduler a few; the bench's watchers one per connection.
 */
export const DEFAULT_MAX_WATCHES_PER_CONNECTION = 64;
/** A request message must have arrived in full this long after its call started. */
export const DEFAULT_RECEIVE_TIMEOUT_MS = 10_000;
/** A connection with no call open for this long is closed (GOAWAY). */
export const DEFAULT_IDLE_TIMEOUT_MS = 5 * 60_000;
/** Server pings on a connection silent for this long; no answer within the timeout closes it. */
export const DEFAULT_KEEPALIVE_TIME_MS = 2 * 60_000;
export const DEFAULT_KEEPALIVE_TIMEOUT_MS = 20_000;
/** 0: connections live as long as their clients keep them (agents hold theirs for days). */
export const DEFAULT_MAX_CONNECTION_AGE_MS = 0;
export const DEFAULT_MAX_CONNECTION_AGE_GRACE_MS = 30_000;

/** The memory this process may use: its cgroup's limit when it has one, else the machine's. */
function availableMemoryBytes(): number {
  try {
    const max = readFileSync('/sys/fs/cgroup/memory.max', 'utf8').trim();
    if (max !== 'max') return Math.min(Number(max), os.totalmem());
  } catch {
    // No cgroup v2 limit visible: the machine's memory.
  }
  return os.totalmem();
}

/**
 * Half of the memory available to the process, at most 2 GiB: a registry of 10,000 hosts
 * needs about 370 MB, so the default leaves room for ten times the benchmark's fleet while
 * keeping a misbehaving client from taking the machine.
 */
export function defaultMemoryBudgetBytes(): number {
  return Math.min(2 * 1024 ** 3, Math.floor(availableMemoryBytes() / 2));
}
