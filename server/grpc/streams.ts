// Stream calls, as thin for their handlers as unary() makes unary calls: the wrappers here own
// what every stream needs and a handler should not write out again. They track open streams so
// that shutdown ends them with UNAVAILABLE (and tests check that nothing is left behind); they are
// the error boundary (a thrown or reported error becomes one status through the error table,
// unless the client already went away); and they honour backpressure, in the way each kind of
// stream needs: a finite stream waits for `drain`, a bidirectional stream stops reading, a live
// stream bounds what its slow consumer may hold (nice-grpc's handleServerStreamingCall is the
// model for the boundary). They also bound finite streams server-wide (how many searches are in
// progress, how long an answer may wait for a client that reads nothing): see docs/api.md, Limits.

import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { overloaded, watchTooSlow } from '../core/errors.ts';
import { toServiceError } from './errors.ts';
import { PreEncoded } from './verdict-encoding.ts';

type AnyServerStream = grpc.ServerWritableStream<unknown, unknown> | grpc.ServerDuplexStream<unknown, unknown>;

/** Shutdown's status: a plain UNAVAILABLE, which clients take as "retry elsewhere or later". */
function endShuttingDown(call: AnyServerStream): void {
  call.emit('error', { code: grpc.status.UNAVAILABLE, details: 'the server is shutting down' });
}

/**
 * Finite server streams (FindTargets) in progress at once, server-wide; more are refused. A
 * search is computed synchronously, so more in parallel add no throughput, only answers held.
 */
export const DEFAULT_MAX_FINITE_STREAMS = 16;
/** A finite stream whose client reads nothing for this long is cut off. */
export const DEFAULT_SEND_TIMEOUT_MS = 30_000;
/**
 * A finite stream whose client has read nothing for this long may be evicted for a new search:
 * long enough that a stream of unread searches is mostly refused (cheap), not computed.
 */
export const DEFAULT_EVICT_UNREAD_AFTER_MS = 5000;

export interface FiniteStreamLimits {
  readonly maxFiniteStreams: number;
  /** 0: no timeout. */
  readonly sendTimeoutMs: number;
  readonly evictUnreadAfterMs: number;
}

/**
 * A finite stream's place among those in progress. While its client reads nothing it is
 * stalled; the longest-stalled one is evicted when a new search needs its place.
 */
export class FiniteSlot {
  stalledSince: number | undefined;
  /** Set while stalled: ends the wait for `drain` with eviction. */
  evict: (() => void) | undefined;

  constructor(readonly release: () => void) {}
}

export class StreamTracker {
  private readonly open = new Set<AnyServerStream>();
  private shuttingDown = false;
  /** Finite streams in progress: each holds its computed answer until its client has read it. */
  private readonly finite = new Set<FiniteSlot>();
  /** Live streams cut off as too slow (WATCH_TOO_SLOW) since start, by method path (for metrics). */
  readonly tooSlow = new Map<string, number>();

  constructor(
    readonly limits: FiniteStreamLimits = {
      maxFiniteStreams: DEFAULT_MAX_FINITE_STREAMS,
      sendTimeoutMs: DEFAULT_SEND_TIMEOUT_MS,
      evictUnreadAfterMs: DEFAULT_EVICT_UNREAD_AFTER_MS,
    },
  ) {}

  get size(): number {
    return this.open.size;
  }

  /**
   * Admits a finite stream. A burst of searches costs the server CPU for each and memory for
   * each answer held until it is read, so at most `maxFiniteStreams` are in progress: at the
   * limit, the stream whose client has read nothing for longest (and for at least
   * `evictUnreadAfterMs`) is evicted with OVERLOADED to make room, so clients that do not read
   * cannot keep others out; otherwise the new one is refused with OVERLOADED before any work
   * (so a burst of unread searches is refused cheaply, not computed one after the other).
   */
  admitFinite(): FiniteSlot {
    if (this.finite.size >= this.limits.maxFiniteStreams) {
      const evictable = performance.now() - this.limits.evictUnreadAfterMs;
      let oldest: FiniteSlot | undefined;
      for (const slot of this.finite) {
        const since = slot.stalledSince;
        if (since !== undefined && since <= evictable && (oldest === undefined || since < oldest.stalledSince!)) oldest = slot;
      }
      if (!oldest) {
        throw overloaded(`${this.finite.size} searches are in progress, the server's limit (--max-finite-streams): retry later`);
      }
      oldest.evict?.();
      oldest.release();
    }
    const slot: FiniteSlot = new FiniteSlot(() => this.finite.delete(slot));
    this.finite.add(slot);
    return slot;
  }

  /** Registers a stream; it is forgotten when it ends, whichever way. False (and the call ended) once shutting down. */
  track(call: AnyServerStream): boolean {
    if (this.shuttingDown) {
      endShuttingDown(call);
      return false;
    }
    this.open.add(call);
    const forget = () => this.open.delete(call);
    call.once('finish', forget);
    call.once('close', forget);
    call.once('cancelled', forget);
    call.once('error', forget);
    return true;
  }

  /** Ends every open stream with UNAVAILABLE so clients retry elsewhere or later. */
  endAll(): void {
    this.shuttingDown = true;
    for (const call of this.open) endShuttingDown(call);
    this.open.clear();
  }
}

/**
 * Writes one message, honouring backpressure: when grpc-js's buffer is full, waits for
 * `drain`. Returns false once the call is cancelled, so the producer stops its work; throws
 * OVERLOADED when the client read nothing for `sendTimeoutMs` (its answer is then released).
 */
async function writeMessage(
  call: grpc.ServerWritableStream<unknown, unknown>,
  message: unknown,
  slot: FiniteSlot,
  sendTimeoutMs: number,
): Promise<boolean> {
  if (call.cancelled || call.destroyed) return false;
  if (call.write(message)) return true;
  const outcome = await new Promise<'drained' | 'timeout' | 'evicted'>((resolve) => {
    const timer = sendTimeoutMs > 0 ? setTimeout(() => done('timeout'), sendTimeoutMs) : undefined;
    const done = (how: 'drained' | 'timeout' | 'evicted') => {
      if (timer) clearTimeout(timer);
      slot.stalledSince = undefined;
      slot.evict = undefined;
      call.off('drain', resume);
      call.off('cancelled', resume);
      call.off('close', resume);
      resolve(how);
    };
    const resume = () => done('drained');
    slot.stalledSince = performance.now();
    slot.evict = () => done('evicted');
    call.on('drain', resume);
    call.on('cancelled', resume);
    call.on('close', resume);
  });
  if (outcome === 'timeout') {
    throw overloaded(`the client read nothing of its answer for ${sendTimeoutMs} ms (--send-timeout): read the stream as it comes`);
  }
  if (outcome === 'evicted') {
    throw overloaded('the client was not reading its answer and its place was needed by another search (--max-finite-streams)');
  }
  return !call.cancelled && !call.destroyed;
}

/**
 * A server stream that may run for hours (Watch, WatchTargets): messages are written as they
 * come, and the bytes grpc-js has not yet flushed to the client are counted. Past `limitBytes`
 * the consumer is too slow: the stream ends with RESOURCE_EXHAUSTED (WATCH_TOO_SLOW), so it
 * can neither hold writers back nor grow the server's memory without bound, and its client
 * resumes from its last revision.
 */
class BoundedStream {
  private pendingBytes = 0;
  private ended = false;
  private readonly drainWaiters: (() => void)[] = [];

  constructor(
    private readonly call: grpc.ServerWritableStream<unknown, unknown>,
    private readonly limitBytes: number,
    private readonly onOverflow: () => void,
  ) {
    const release = () => {
      this.ended = true;
      this.wake();
    };
    call.once('cancelled', release);
    call.once('close', release);
    call.once('error', release);
    call.on('drain', () => this.wake());
  }

  get closed(): boolean {
    return this.ended || this.call.cancelled || this.call.destroyed;
  }

  /** Writes one message of `size` bytes; returns false when the consumer should be waited for. */
  write(message: unknown, size: number): boolean {
    if (this.closed) return false;
    if (this.pendingBytes + size > this.limitBytes && this.pendingBytes > 0) {
      this.ended = true;
      this.onOverflow();
      return false;
    }
    this.pendingBytes += size;
    const ready = this.call.write(message, () => {
      this.pendingBytes -= size;
      if (this.pendingBytes === 0) this.wake();
    });
    return ready;
  }

  /** Resolves when grpc-js's buffer drained, or the stream ended. */
  drained(): Promise<void> {
    if (this.closed || this.call.writableLength === 0) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  private wake(): void {
    for (const waiter of this.drainWaiters.splice(0)) waiter();
  }
}

/** Ends the call with the error mapped by the one table, unless the client already went away. */
function endWithError(call: AnyServerStream, error: unknown, log: Logger): void {
  if (call.cancelled || call.destroyed) return;
  call.emit('error', toServiceError(error, log));
}

/**
 * A finite server stream (FindTargets): the handler decodes, validates, calls the core and
 * returns the messages to send; they are written one by one, waiting for `drain` when the
 * client reads slowly, and no further once it cancels; then the call ends. At most
 * `maxFiniteStreams` run at once (StreamTracker.admitFinite), and one whose client reads
 * nothing for `sendTimeoutMs` is cut off with OVERLOADED.
 */
export function serverStream<Request, Response>(
  streams: StreamTracker,
  log: Logger,
  handler: (request: Request, call: grpc.ServerWritableStream<Request, Response>) => Iterable<Response> | Promise<Iterable<Response>>,
): grpc.handleServerStreamingCall<Request, Response> {
  return async (call) => {
    if (!streams.track(call)) return;
    let slot: FiniteSlot | undefined;
    try {
      slot = streams.admitFinite();
      for (const message of await handler(call.request, call)) {
        if (!(await writeMessage(call, message, slot, streams.limits.sendTimeoutMs))) return;
      }
      call.end();
    } catch (error) {
      endWithError(call, error, log);
    } finally {
      slot?.release();
    }
  };
}

/**
 * A bidirectional stream of independent requests (CheckCompatibilityStream, KeepAlive): each
 * request is answered by one response; while the client does not read its responses, its
 * requests are not read either. An error thrown by the handler ends the call (errors that
 * belong to one item are the handler's to put in its response).
 */
export function bidiStream<Request, Response>(
  streams: StreamTracker,
  log: Logger,
  handler: (request: Request) => Response,
): grpc.handleBidiStreamingCall<Request, Response> {
  return (call) => {
    if (!streams.track(call)) return;
    call.on('data', (request: Request) => {
      let response: Response;
      try {
        response = handler(request);
      } catch (error) {
        endWithError(call, error, log);
        return;
      }
      if (!call.write(response)) {
        call.pause();
        call.once('drain', () => call.resume());
      }
    });
    call.on('end', () => call.end());
  };
}

/** What a live stream's handler writes to, and how it learns that the stream ended. */
export interface LiveStream {
  /** Writes one encoded message; false when the consumer should be waited for (`drained()`), or the stream ended. */
  write(bytes: Buffer): boolean;
  /** Resolves when grpc-js's buffer drained, or the stream ended. */
  drained(): Promise<void>;
  /** True once the stream ended, whichever way. */
  readonly closed: boolean;
  /** Ends the call with this error (through the error table), unless the client already went away. */
  fail(error: unknown): void;
  /** Runs `cleanup` once when the call ends: cancelled, closed, failed or cut off as too slow. */
  onEnd(cleanup: () => void): void;
}

/**
 * A server stream that may run for hours (Watch, WatchTargets): the handler sets up its
 * listeners and returns; messages are then written as the core produces them. Its consumer may
 * hold at most `bufferBytes` unflushed (BoundedStream); past that the call ends with
 * WATCH_TOO_SLOW (`tooSlowMessage`) after its listeners are removed.
 */
export function liveStream<Request>(
  streams: StreamTracker,
  log: Logger,
  options: { bufferBytes: number; tooSlowMessage: string },
  handler: (request: Request, stream: LiveStream) => void,
): grpc.handleServerStreamingCall<Request, unknown> {
  return (call) => {
    if (!streams.track(call)) return;
    const cleanups: (() => void)[] = [];
    let ended = false;
    const end = () => {
      ended = true;
      for (const cleanup of cleanups.splice(0)) cleanup();
    };
    const fail = (error: unknown) => endWithError(call, error, log);
    const bounded = new BoundedStream(call, options.bufferBytes, () => {
      const method = call.getPath();
      streams.tooSlow.set(method, (streams.tooSlow.get(method) ?? 0) + 1);
      log.info({ method, peer: call.getPeer(), buffer_bytes: options.bufferBytes }, 'stream cut off: its consumer fell too far behind');
      end();
      fail(watchTooSlow(options.tooSlowMessage));
    });
    call.once('cancelled', end);
    call.once('close', end);
    call.once('error', end);
    const stream: LiveStream = {
      write: (bytes) => bounded.write(new PreEncoded(bytes), bytes.length),
      drained: () => bounded.drained(),
      get closed() {
        return bounded.closed;
      },
      fail,
      onEnd: (cleanup) => {
        if (ended) cleanup();
        else cleanups.push(cleanup);
      },
    };
    try {
      handler(call.request, stream);
    } catch (error) {
      fail(error);
    }
  };
}
