// Limits: what one client, or many, may hold of the server. It owns the grpc-js server options
// that bound connections (concurrent streams per connection, idle connections, connection age,
// keepalive) and one server interceptor that runs at the start of every call, before a byte of
// its request is buffered: it refuses new calls with RESOURCE_EXHAUSTED while the process is
// over its memory budget, and cuts off a call whose request does not arrive in full within the
// receive timeout, or, on a request stream, a message that began and did not finish within it
// (a stalled partial message would otherwise be held for as long as its connection lives). Handlers know nothing of this: limits are the transport's concern.
// How many request streams one connection may hold open is stream-cap.ts's.

import * as http2 from 'node:http2';
import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { MessageFraming } from './message-framing.ts';
import {
  DEFAULT_ADMISSION_WAIT_MS,
  DEFAULT_EVICT_UNREAD_AFTER_MS,
  DEFAULT_MAX_FINITE_STREAMS,
  DEFAULT_MAX_FINITE_STREAMS_PER_CLIENT,
  DEFAULT_SEND_TIMEOUT_MS,
  DEFAULT_MAX_CONCURRENT_STREAMS,
  DEFAULT_RECEIVE_TIMEOUT_MS,
  DEFAULT_IDLE_TIMEOUT_MS,
  DEFAULT_KEEPALIVE_TIME_MS,
  DEFAULT_KEEPALIVE_TIMEOUT_MS,
  DEFAULT_MAX_CONNECTION_AGE_MS,
  DEFAULT_MAX_CONNECTION_AGE_GRACE_MS,
  defaultMemoryBudgetBytes,
  DEFAULT_MAX_REQUEST_STREAMS_PER_CONNECTION,
  DEFAULT_MAX_WATCHES_PER_CONNECTION,
} from './limit-defaults.ts';

/** The defaults, where the serve command reads them without loading grpc-js (limit-defaults.ts). */
export * from './limit-defaults.ts';

/** Calls that are never shed: health checks, and lease keepalives (shedding them would expire healthy hosts). */
const NEVER_SHED = [/^\/grpc\.health\.v1\.Health\//, /^\/devcompat\.v1\.RegistryService\/KeepAlive$/];

export interface Limits {
  readonly maxConcurrentStreams: number;
  /** Request streams one connection may have open at once (stream-cap.ts). */
  readonly maxRequestStreamsPerConnection: number;
  /** Watches (Watch, WatchTargets) one connection may have open at once (stream-cap.ts). */
  readonly maxWatchesPerConnection: number;
  readonly receiveTimeoutMs: number;
  readonly idleTimeoutMs: number;
  readonly keepaliveTimeMs: number;
  readonly keepaliveTimeoutMs: number;
  /** 0: unlimited. */
  readonly maxConnectionAgeMs: number;
  readonly maxConnectionAgeGraceMs: number;
  /** Resident memory (bytes) past which new calls are refused; 0: no budget. */
  readonly memoryBudgetBytes: number;
  /** FindTargets streams in progress at once, server-wide (finite-admission.ts). */
  readonly maxFiniteStreams: number;
  /** FindTargets streams one client (identity under mTLS, else connection) may have in progress at once. */
  readonly maxFiniteStreamsPerClient: number;
  /** A search, Watch or WatchTargets whose client takes nothing for this long (while the server waits for it) is cut off; 0: never. */
  readonly sendTimeoutMs: number;
  /** At the FindTargets limit, when no client holds more places than the newcomer, a stream unread for this long is evicted to make room. */
  readonly evictUnreadAfterMs: number;
  /** At the FindTargets limit, how long a search waits for room before it is refused; 0: at once. */
  readonly admissionWaitMs: number;
}

export function defaultLimits(): Limits {
  return {
    maxConcurrentStreams: DEFAULT_MAX_CONCURRENT_STREAMS,
    maxRequestStreamsPerConnection: DEFAULT_MAX_REQUEST_STREAMS_PER_CONNECTION,
    maxWatchesPerConnection: DEFAULT_MAX_WATCHES_PER_CONNECTION,
    receiveTimeoutMs: DEFAULT_RECEIVE_TIMEOUT_MS,
    idleTimeoutMs: DEFAULT_IDLE_TIMEOUT_MS,
    keepaliveTimeMs: DEFAULT_KEEPALIVE_TIME_MS,
    keepaliveTimeoutMs: DEFAULT_KEEPALIVE_TIMEOUT_MS,
    maxConnectionAgeMs: DEFAULT_MAX_CONNECTION_AGE_MS,
    maxConnectionAgeGraceMs: DEFAULT_MAX_CONNECTION_AGE_GRACE_MS,
    memoryBudgetBytes: defaultMemoryBudgetBytes(),
    maxFiniteStreams: DEFAULT_MAX_FINITE_STREAMS,
    maxFiniteStreamsPerClient: DEFAULT_MAX_FINITE_STREAMS_PER_CLIENT,
    sendTimeoutMs: DEFAULT_SEND_TIMEOUT_MS,
    evictUnreadAfterMs: DEFAULT_EVICT_UNREAD_AFTER_MS,
    admissionWaitMs: DEFAULT_ADMISSION_WAIT_MS,
  };
}

/** The grpc-js server options that carry the connection limits. */
export function connectionOptions(limits: Limits): grpc.ServerOptions {
  const options: grpc.ServerOptions = {
    'grpc.max_concurrent_streams': limits.maxConcurrentStreams,
    'grpc.max_connection_idle_ms': limits.idleTimeoutMs,
    'grpc.keepalive_time_ms': limits.keepaliveTimeMs,
    'grpc.keepalive_timeout_ms': limits.keepaliveTimeoutMs,
  };
  if (limits.maxConnectionAgeMs > 0) {
    options['grpc.max_connection_age_ms'] = limits.maxConnectionAgeMs;
    options['grpc.max_connection_age_grace_ms'] = limits.maxConnectionAgeGraceMs;
  }
  return options;
}

/**
 * The HTTP/2 stream under a call: grpc-js 1.14's base call holds it, under the chain of
 * intercepting calls (each holding the next as `nextCall`).
 */
export function http2StreamOf(call: grpc.ServerInterceptingCallInterface): http2.ServerHttp2Stream | undefined {
  let link: unknown = call;
  for (let depth = 0; depth < 32 && link; depth++) {
    const stream = (link as { stream?: Partial<http2.ServerHttp2Stream> }).stream;
    if (typeof stream?.close === 'function' && 'rstCode' in stream) return stream as http2.ServerHttp2Stream;
    link = (link as { nextCall?: unknown }).nextCall;
  }
  return undefined;
}

/**
 * Cuts off a handler's server stream with RESOURCE_EXHAUSTED `status` and resets its HTTP/2
 * stream, so that the answer queued for a client that reads nothing is released now, not when
 * its connection closes. The status goes as trailers, behind what the client has not read: a
 * client that reads nothing never gets them, and its stream is reset after `graceMs` (a second)
 * with ENHANCE_YOUR_CALM, which gRPC clients report as RESOURCE_EXHAUSTED all the same. False
 * when the call is not grpc-js 1.14's (the caller then ends it the ordinary way).
 */
export function cutOffCall(
  call: grpc.ServerWritableStream<unknown, unknown>,
  status: Parameters<grpc.ServerInterceptingCallInterface['sendStatus']>[0],
  rstCode: number = http2.constants.NGHTTP2_ENHANCE_YOUR_CALM,
  graceMs: number = TRAILERS_GRACE_MS,
): boolean {
  const intercepting = (call as unknown as { call?: grpc.ServerInterceptingCallInterface }).call;
  if (!intercepting || typeof intercepting.sendStatus !== 'function' || !http2StreamOf(intercepting)) return false;
  cutOff(intercepting, status, rstCode, graceMs);
  return true;
}

/**
 * Ends a call with `status` and resets its HTTP/2 stream, so that whatever part of a request it
 * had buffered is released even if the client keeps its connection open and never sends more.
 */
export function cutOff(
  call: grpc.ServerInterceptingCallInterface,
  status: Parameters<grpc.ServerInterceptingCallInterface['sendStatus']>[0],
  rstCode: number = http2.constants.NGHTTP2_CANCEL,
  graceMs: number = TRAILERS_GRACE_MS,
): void {
  const stream = http2StreamOf(call);
  const headersSent = stream?.headersSent ?? false;
  call.sendStatus(status);
  if (!stream || stream.destroyed) return;
  if (!headersSent) {
    // The status went alone in the response headers: reset at once.
    setImmediate(() => stream.destroyed || stream.close(rstCode));
    return;
  }
  // The status goes as trailers, which grpc-js sends when the stream asks for them
  // ('wantTrailers', after its last write); the reset follows them. A client that reads
  // nothing never lets them out: its stream is reset after a grace period all the same.
  const cancel = () => stream.destroyed || stream.close(rstCode);
  const fallback = setTimeout(cancel, graceMs);
  fallback.unref();
  stream.once('close', () => clearTimeout(fallback));
  stream.once('wantTrailers', () => {
    clearTimeout(fallback);
    setImmediate(cancel);
  });
}

/** How long a cut-off stream's trailers may take before the stream is reset without them. */
const TRAILERS_GRACE_MS = 1000;

export interface LimitStats {
  /** Calls refused because the process was over its memory budget. */
  shed: number;
  /** Calls cut off because their request did not arrive within the receive timeout. */
  receiveTimeouts: number;
}

/**
 * The calls this interceptor cut off because their request did not arrive in time (the
 * intercepting calls it returned, which the next interceptor receives as its call): the
 * status goes out beneath the interceptors wrapped around it, so the telemetry interceptor
 * learns the call's code here instead of guessing it from the time elapsed.
 */
export const receiveTimedOut = new WeakSet<object>();

/** How long one reading of the resident set size answers for (see `cachedRss`). */
export const RSS_READING_MS = 10;

/**
 * The process's resident set size, read at most once per `RSS_READING_MS`: a reading is a
 * read of /proc (about 30 µs), which at 10,000 calls a second was a twentieth of a core; a
 * budget crossed is noticed at most 10 ms late.
 */
export function cachedRss(read: () => number = () => process.memoryUsage.rss(), now: () => number = () => performance.now()): () => number {
  let value = 0;
  let readAt = -Infinity;
  return () => {
    const at = now();
    if (at - readAt >= RSS_READING_MS) {
      value = read();
      readAt = at;
    }
    return value;
  };
}

/**
 * The interceptor that applies the per-call limits. `rss` is read at each call's start
 * (process.memoryUsage.rss() reads one counter: no heap walk; cached for 10 ms).
 */
export function limitsInterceptor(
  limits: Pick<Limits, 'receiveTimeoutMs' | 'memoryBudgetBytes'>,
  log: Logger,
  stats: LimitStats,
  rss: () => number = cachedRss(),
): grpc.ServerInterceptor {
  return (method, call) => {
    const budget = limits.memoryBudgetBytes;
    if (budget > 0 && !NEVER_SHED.some((pattern) => pattern.test(method.path))) {
      const used = rss();
      if (used > budget) {
        stats.shed++;
        log.warn({ method: method.path, rss: used, memory_budget: budget }, 'call shed: over the memory budget');
        return new grpc.ServerInterceptingCall(call, {
          start: (next) => {
            next({});
            cutOff(call, {
              code: grpc.status.RESOURCE_EXHAUSTED,
              details: `the server is over its memory budget (${mib(used)} MiB resident, budget ${mib(budget)} MiB, --memory-budget): retry later`,
            });
          },
        });
      }
    }
    // The receive timeout. Unary and server-streaming calls: the request must have arrived in
    // full, its message and its end, within it of the call's start (a call whose message came
    // but whose end did not would otherwise hold that message, up to --max-message-bytes, for
    // as long as its client keeps the stream open: grpc-js runs the handler only at the end).
    // Request streams (CheckCompatibilityStream,
    // KeepAlive) may rightly be idle between messages for as long as their client likes
    // (keepalive finds dead peers): there each message must arrive in full within it of its
    // first byte, so a client that stops mid-message cannot hold a partial message (up to
    // --max-message-bytes of it) for the life of its connection.
    if (limits.receiveTimeoutMs <= 0) return new grpc.ServerInterceptingCall(call);
    let timer: NodeJS.Timeout | undefined;
    // Set below; the timer cannot fire before it is.
    let intercepting: grpc.ServerInterceptingCall | undefined;
    const stop = () => {
      if (timer) clearTimeout(timer);
      timer = undefined;
    };
    const details = method.requestStream
      ? `a message of the request stream was not received in full within ${limits.receiveTimeoutMs} ms (--receive-timeout) of its first byte`
      : `the request was not received in full within ${limits.receiveTimeoutMs} ms (--receive-timeout)`;
    const arm = () => {
      stop();
      timer = setTimeout(() => {
        timer = undefined;
        // A request stream the server itself paused (its client is not reading the answers)
        // is not the client's stall: the rest of the message waits in flow control. The clock
        // starts again; the stream's send limits deal with the client that does not read.
        if (method.requestStream && http2StreamOf(call)?.isPaused()) {
          arm();
          return;
        }
        // A request whose end has arrived (HTTP/2 has its END_STREAM) but has not reached this
        // interceptor is held by the server itself (an interceptor above waiting for a
        // min_revision): it arrived in full, and the wait is bounded there.
        if (!method.requestStream && requestEnded(call)) return;
        stats.receiveTimeouts++;
        if (intercepting) receiveTimedOut.add(intercepting);
        log.warn({ method: method.path, peer: call.getPeer() }, 'call cut off: request not received within the receive timeout');
        cutOff(call, { code: grpc.status.DEADLINE_EXCEEDED, details });
      }, limits.receiveTimeoutMs);
      timer.unref();
    };
    if (!method.requestStream) arm();
    else watchPartialMessages(call, arm, stop);
    intercepting = new grpc.ServerInterceptingCall(call, {
      start: (next) =>
        next({
          onReceiveHalfClose: (nextHalfClose) => {
            stop();
            nextHalfClose();
          },
          onCancel: () => stop(),
        }),
      sendStatus: (status, next) => {
        stop();
        next(status);
      },
    });
    return intercepting;
  };
}

/** True once the client has ended its request (END_STREAM received), read by the server or not. */
function requestEnded(call: grpc.ServerInterceptingCallInterface): boolean {
  const stream = http2StreamOf(call);
  return !!stream && !stream.destroyed && stream.state.remoteClose === 1;
}

/**
 * Follows a request stream's framing as its bytes arrive (the same 'data' events grpc-js
 * decodes, read beside it: adding the listener does not resume a stream grpc-js paused):
 * `started` when a message has begun and not ended, `ended` when none is part-way.
 */
function watchPartialMessages(call: grpc.ServerInterceptingCallInterface, started: () => void, ended: () => void): void {
  const stream = http2StreamOf(call);
  if (!stream) return;
  const framing = new MessageFraming();
  let pending = false;
  stream.on('data', (chunk: Buffer) => {
    const completed = framing.feed(chunk);
    // A chunk that ends one message and begins the next restarts the clock for the new one.
    if (framing.midMessage && (!pending || completed > 0)) started();
    else if (!framing.midMessage && pending) ended();
    pending = framing.midMessage;
  });
}

function mib(bytes: number): number {
  return Math.round(bytes / 1024 / 1024);
}
