// Stream calls, as thin for their handlers as unary() makes unary calls: the wrappers here own
// what every stream needs and a handler should not write out again. They track open streams so
// that shutdown ends them with UNAVAILABLE (and tests check that nothing is left behind); they are
// the error boundary (a thrown or reported error becomes one status through the error table,
// unless the client already went away); and they honour backpressure, in the way each kind of
// stream needs: a finite stream waits for `drain`, a bidirectional stream stops reading, a live
// stream bounds what its slow consumer may hold (nice-grpc's handleServerStreamingCall is the
// model for the boundary). They also bound finite streams (how many searches are in progress,
// per client and server-wide, by the rule of finite-admission.ts; how long an answer may wait
// for a client that reads nothing), cut off the searches that give way, and let searches take
// turns on the event loop: see docs/api.md, Limits.

import * as http2 from 'node:http2';
import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { overloaded, watchTooSlow } from '../core/errors.ts';
import { principalOf } from './auth.ts';
import { toServiceError } from './errors.ts';
import {
  DEFAULT_EVICT_UNREAD_AFTER_MS,
  DEFAULT_MAX_FINITE_STREAMS,
  DEFAULT_MAX_FINITE_STREAMS_PER_CLIENT,
  DEFAULT_SEND_TIMEOUT_MS,
  FiniteAdmission,
  type FiniteSlot,
  type FiniteStreamLimits,
} from './finite-admission.ts';
import { cutOffCall, http2StreamOf } from './limits.ts';
import type { Acceptance } from '../core/watch-hub.ts';
import { directSender, PREFIX_BYTES, type DirectSender } from './direct-send.ts';

type AnyServerStream = grpc.ServerWritableStream<unknown, unknown> | grpc.ServerDuplexStream<unknown, unknown>;

/** Shutdown's status: a plain UNAVAILABLE, which clients take as "retry elsewhere or later". */
function endShuttingDown(call: AnyServerStream): void {
  call.emit('error', { code: grpc.status.UNAVAILABLE, details: 'the server is shutting down' });
}

export class StreamTracker {
  private readonly open = new Set<AnyServerStream>();
  private shuttingDown = false;
  /** Finite streams in progress: each holds its computed answer until its client has read it. */
  readonly finite: FiniteAdmission;
  private lastTurn: Promise<void> = Promise.resolve();
  /** Live streams cut off as too slow (WATCH_TOO_SLOW) since start, by method path (for metrics). */
  readonly tooSlow = new Map<string, number>();

  constructor(
    readonly limits: FiniteStreamLimits = {
      maxFiniteStreams: DEFAULT_MAX_FINITE_STREAMS,
      maxFiniteStreamsPerClient: DEFAULT_MAX_FINITE_STREAMS_PER_CLIENT,
      sendTimeoutMs: DEFAULT_SEND_TIMEOUT_MS,
      evictUnreadAfterMs: DEFAULT_EVICT_UNREAD_AFTER_MS,
    },
  ) {
    this.finite = new FiniteAdmission(limits);
  }

  get size(): number {
    return this.open.size;
  }

  /**
   * Resolves at this search's turn: searches are computed one per turn of the event loop, each
   * after the I/O that arrived meanwhile (an immediate queued from an immediate runs on the next
   * turn, after the poll phase).
   */
  searchTurn(): Promise<void> {
    const turn = this.lastTurn.then(() => new Promise<void>((resolve) => setImmediate(resolve)));
    this.lastTurn = turn;
    return turn;
  }

  /**
   * Admits a finite stream from `client` (finite-admission.ts has the rule), waiting a bounded
   * time for room at the server-wide limit, or throws OVERLOADED.
   */
  admitFiniteWaiting(client: string, cancelled: () => boolean): Promise<FiniteSlot> {
    return this.finite.admitWaiting(client, cancelled);
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

  /** Forgets a stream that ended without an event its tracker listens for (a finite stream cut off). */
  untrack(call: AnyServerStream): void {
    this.open.delete(call);
  }

  /** Ends every open stream with UNAVAILABLE so clients retry elsewhere or later. */
  endAll(): void {
    this.shuttingDown = true;
    // Messages gathered for the check phase go before the status, as they would have.
    flushGathered();
    for (const call of this.open) endShuttingDown(call);
    this.open.clear();
  }
}

/** OVERLOADED as a status, through the one error table. */
function overloadedStatus(message: string, log: Logger): { code: grpc.status; details: string } {
  const error = toServiceError(overloaded(message), log);
  return { code: error.code ?? grpc.status.RESOURCE_EXHAUSTED, details: error.details ?? message };
}

/**
 * Writes one message, honouring backpressure: when grpc-js's buffer is full, waits for
 * `drain`. Returns false once the call is cancelled, so the producer stops its work, and when
 * the client read nothing for `sendTimeoutMs` or its place was taken by another client's
 * search: the call is then cut off with OVERLOADED and its HTTP/2 stream reset, so that the
 * answer it held (queued behind a client that reads nothing) is released at once.
 */
async function writeMessage(
  call: grpc.ServerWritableStream<unknown, unknown>,
  message: unknown,
  slot: FiniteSlot,
  sendTimeoutMs: number,
  log: Logger,
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
  if (outcome !== 'drained') {
    const message =
      outcome === 'timeout'
        ? `the client read nothing of its answer for ${sendTimeoutMs} ms (--send-timeout): read the stream as it comes`
        : "the client was not reading its answer and its place was needed by another client's search (--max-finite-streams): read the stream as it comes";
    log.info({ method: call.getPath(), peer: call.getPeer(), client: slot.client, outcome }, 'search cut off: its client was not reading');
    if (!cutOffCall(call, overloadedStatus(message, log))) throw overloaded(message);
    return false;
  }
  return !call.cancelled && !call.destroyed;
}

/**
 * Below this many bytes not yet handed to HTTP/2 (and a quarter of the stream's bound), a live
 * stream's producer may go on writing (a watcher catching up from history reads its next page
 * only once its stream is drained).
 */
const READY_BYTES = 64 * 1024;

/**
 * A server stream that may run for hours (Watch, WatchTargets): the messages written in one
 * turn of the event loop (a commit batch's revisions, a page of catch-up, a progress round) are
 * gathered and go out in its check phase as one write (server/grpc/direct-send.ts), in order
 * (`flushLater`); the bytes not yet handed to HTTP/2, gathered ones included, are counted. Past `limitBytes` the consumer is
 * too slow: the stream ends with RESOURCE_EXHAUSTED (WATCH_TOO_SLOW), so it can neither hold
 * writers back nor grow the server's memory without bound, and its client resumes from its last
 * revision.
 */
class BoundedStream {
  private pendingBytes = 0;
  /** When HTTP/2 last took a send, or the connection last sent bytes (performance.now()). */
  private lastTaken = performance.now();
  /** The connection's socket, whose bytes written tell a slow consumer from one that reads nothing. */
  private readonly socket: { readonly bytesWritten: number } | undefined;
  private lastWritten = 0;
  private ended = false;
  private readonly drainWaiters: (() => void)[] = [];
  private readonly sender: DirectSender;
  /** The messages written in this turn of the loop, not yet sent. */
  private gathered: Buffer[] = [];

  constructor(
    private readonly call: grpc.ServerWritableStream<unknown, unknown>,
    private readonly limitBytes: number,
    /** Past the bound (no `message`), or a consumer that read nothing for too long (`message`). */
    private readonly onOverflow: (message?: string) => void,
    /** A send threw (from any flush): the stream is over; the owner ends the call (failBrokenStream). */
    private readonly onSendFailure: (error: unknown) => void,
  ) {
    const release = () => {
      this.ended = true;
      this.gathered = [];
      this.wake();
    };
    call.once('cancelled', release);
    call.once('close', release);
    call.once('error', release);
    this.sender = directSender(call);
    const intercepting = (call as unknown as { call?: grpc.ServerInterceptingCallInterface }).call;
    this.socket = (intercepting && http2StreamOf(intercepting)?.session?.socket) ?? undefined;
    this.lastWritten = this.socket?.bytesWritten ?? 0;
  }

  get closed(): boolean {
    return this.ended || this.call.cancelled || this.call.destroyed;
  }

  /** Writes one encoded message; returns false when the consumer should be waited for. Past the bound, ends the stream as too slow. */
  write(bytes: Buffer): boolean {
    const accepted = this.offer(bytes);
    if (accepted === 'full') {
      this.overflow();
      return false;
    }
    return accepted === 'ready';
  }

  /**
   * Writes one encoded message unless it would take the bytes not yet handed to HTTP/2 past the
   * bound (`full`: nothing written). With nothing pending any one message is taken, so a single
   * revision larger than the bound still goes to a consumer that keeps up. `busy`: written, but
   * the consumer should be waited for; also the answer once the stream ended.
   */
  offer(bytes: Buffer): Acceptance {
    if (this.closed) return 'busy';
    const size = bytes.length;
    if (this.pendingBytes + size > this.limitBytes && this.pendingBytes > 0) return 'full';
    this.pendingBytes += size;
    if (this.gathered.length === 0) flushLater(this);
    this.gathered.push(bytes);
    return this.pendingBytes < Math.min(READY_BYTES, this.limitBytes / 4) ? 'ready' : 'busy';
  }

  /** Ends the stream where it is: nothing gathered is sent, and whoever waits for a drain goes on (and finds it closed). */
  abandon(): void {
    this.ended = true;
    this.gathered = [];
    this.wake();
  }

  /** Ends the stream as too slow (WATCH_TOO_SLOW), after what was gathered: the client then holds every message before the status. */
  overflow(message?: string): void {
    if (this.closed || !this.flush()) return;
    this.ended = true;
    this.onOverflow(message);
  }

  /**
   * Sends what was gathered now (before a status that must follow it, or from `flushGathered`).
   * False when the send threw: the stream is then over, and its owner ends the call (`sendFailed`);
   * the throw never reaches the caller (an immediate, a commit's publication, a handler).
   */
  flush(): boolean {
    try {
      this.sendGathered();
      return true;
    } catch (error) {
      this.sendFailed(error);
      return false;
    }
  }

  private sendGathered(): void {
    const messages = this.gathered;
    if (messages.length === 0) return;
    this.gathered = [];
    if (this.closed) return;
    const limit = this.sender.batchBytes;
    let from = 0;
    let batchBytes = 0;
    for (let i = 0; i < messages.length; i++) {
      const framed = PREFIX_BYTES + messages[i].length;
      if (i > from && batchBytes + framed > limit) {
        this.send(messages.slice(from, i), batchBytes);
        from = i;
        batchBytes = 0;
      }
      batchBytes += framed;
    }
    this.send(from === 0 ? messages : messages.slice(from), batchBytes);
  }

  /** A flush threw: nothing more is sent on this stream, and its owner ends it. */
  private sendFailed(error: unknown): void {
    this.gathered = [];
    this.ended = true;
    this.wake();
    this.onSendFailure(error);
  }

  private send(messages: Buffer[], framedBytes: number): void {
    const size = framedBytes - PREFIX_BYTES * messages.length;
    this.sender.send(messages, () => {
      this.lastTaken = performance.now();
      this.pendingBytes -= size;
      if (this.pendingBytes === 0) this.wake();
    });
  }

  /** Resolves when everything written was handed to HTTP/2, or the stream ended. */
  drained(): Promise<void> {
    if (this.closed || this.pendingBytes === 0) return Promise.resolve();
    return new Promise((resolve) => this.drainWaiters.push(resolve));
  }

  /**
   * As drained(), but false once nothing was taken for `timeoutMs` (0: never false). Taken: a
   * send of this stream's handed to the socket (HTTP/2 calls a write back only once all of it is
   * sent, which for a slow reader of a large write takes long), or bytes written on its
   * connection meanwhile (which a reader of this stream, however slow, makes; a stream that
   * reads nothing on a connection other streams use is not told apart: it keeps at most its
   * bound).
   */
  drainedWithin(timeoutMs: number): Promise<boolean> {
    const drained = this.drained();
    if (timeoutMs <= 0 || this.closed || this.pendingBytes === 0) return drained.then(() => true);
    const since = performance.now();
    this.lastWritten = this.socket?.bytesWritten ?? 0;
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const check = () => {
        const written = this.socket?.bytesWritten ?? 0;
        if (written > this.lastWritten) {
          this.lastWritten = written;
          this.lastTaken = performance.now();
        }
        const idle = performance.now() - Math.max(since, this.lastTaken);
        if (idle >= timeoutMs) resolve(false);
        else timer = setTimeout(check, timeoutMs - idle).unref();
      };
      timer = setTimeout(check, timeoutMs).unref();
      void drained.then(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  private wake(): void {
    if (this.pendingBytes > 0 && !this.closed) return;
    for (const waiter of this.drainWaiters.splice(0)) waiter();
  }
}

/**
 * The live streams with gathered messages, flushed together in the loop's check phase
 * (setImmediate), not at the end of the tick in which they were written. A commit batch's
 * revisions are published in the same tick as its writers are answered (core/group-commit.ts):
 * flushed at the end of that tick, the watchers' writes, and their HTTP/2 sessions' socket
 * writes, went ahead of the answers' trailers, which HTTP/2 sends only once the answer's message
 * is written, and every writer waited for them (1.2-1.5 ms per commit batch with 10 unfiltered
 * watchers: docs/benchmarks.md, "Watchers' waiting"). In the check phase the writers' sessions
 * send first (Node runs its HTTP/2 sends before the script's immediates), then the watchers'
 * messages go. One callback for all streams: the unfiltered watchers' streams share one framed
 * buffer (direct-send.ts keeps it until the next tick).
 */
let toFlush: BoundedStream[] = [];

function flushLater(stream: BoundedStream): void {
  if (toFlush.length === 0) setImmediate(flushGathered);
  toFlush.push(stream);
}

function flushGathered(): void {
  const streams = toFlush;
  toFlush = [];
  // One stream's failed send ends that stream alone (flush catches it): the others still get
  // their messages, and nothing is thrown from the immediate (which would stop the server).
  for (const stream of streams) stream.flush();
}

/**
 * Ends a live stream whose send threw. grpc-js holds a status back while a message is still in
 * progress, and the throw leaves it so: the status alone would never leave. So the HTTP/2 stream
 * is reset as well (INTERNAL_ERROR, which clients report as INTERNAL) once its trailers had their
 * chance. The error table logs the cause; when the client already went away, it is logged here.
 */
function failBrokenStream(call: grpc.ServerWritableStream<unknown, unknown>, error: unknown, log: Logger): void {
  if (call.cancelled || call.destroyed) {
    log.error({ err: error, method: call.getPath() }, 'live stream ended: sending to it failed');
    return;
  }
  cutOffWithError(call, error, log, http2.constants.NGHTTP2_INTERNAL_ERROR);
}

/**
 * Ends the call with the error mapped by the one table, then resets its HTTP/2 stream (limits.ts
 * cutOffCall): once its trailers went, or `graceMs` after if its client does not read them.
 */
function cutOffWithError(call: grpc.ServerWritableStream<unknown, unknown>, error: unknown, log: Logger, rstCode?: number, graceMs?: number): void {
  const status = toServiceError(error, log);
  const code = status.code ?? grpc.status.INTERNAL;
  if (!cutOffCall(call, { code, details: status.details ?? '', metadata: status.metadata }, rstCode, graceMs)) call.emit('error', status);
}

/** Ends the call with the error mapped by the one table, unless the client already went away. */
function endWithError(call: AnyServerStream, error: unknown, log: Logger): void {
  if (call.cancelled || call.destroyed) return;
  call.emit('error', toServiceError(error, log));
}

/**
 * Who a finite stream's client is, for the per-client limit: the authenticated identity under
 * mutual TLS (however many connections it opens), else the connection (its peer address and port).
 */
function clientOf(call: grpc.ServerWritableStream<unknown, unknown>): string {
  const principal = principalOf(call);
  return principal ? `identity ${principal.identity}` : `peer ${call.getPeer()}`;
}

/**
 * A finite server stream (FindTargets): the handler decodes, validates, calls the core and
 * returns the messages to send; they are written one by one, waiting for `drain` when the
 * client reads slowly, and no further once it cancels; then the call ends. At most
 * `maxFiniteStreams` run at once (StreamTracker.admitFiniteWaiting), and one whose client reads
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
      slot = await streams.admitFiniteWaiting(clientOf(call), () => call.cancelled || call.destroyed);
      // A search is computed synchronously: searches take turns, one per turn of the event
      // loop, so that other calls (a burst of searches arrives in one read of the socket, and
      // a probe's GetHost after it) wait for one search at most, not for the whole burst.
      await streams.searchTurn();
      if (call.cancelled || call.destroyed) {
        streams.untrack(call);
        return;
      }
      for (const message of await handler(call.request, call)) {
        if (!(await writeMessage(call, message, slot, streams.limits.sendTimeoutMs, log))) {
          // Cancelled by its client, or cut off (no further event may come): no longer open.
          streams.untrack(call);
          return;
        }
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
 * Stops reading a request stream at its source, and starts again. `pause()` alone only stops
 * 'data' events: the stream still pulls messages from grpc-js up to its high-water mark (16 in
 * object mode, each up to --max-message-bytes), and grpc-js reads them off HTTP/2 to decode
 * them. Holding back the pull (`_read`, which asks grpc-js for the next message) leaves the
 * client's further requests in the stream's flow-control window, which it may fill and no more
 * (stream-cap.ts bounds how many such windows one connection has).
 */
function readingGate(call: grpc.ServerDuplexStream<unknown, unknown>): { hold(): void; release(): void } {
  const readable = call as unknown as { _read(size: number): void };
  const pull = readable._read.bind(call);
  let held = false;
  let asked = false;
  readable._read = (size) => {
    if (!held) pull(size);
    else asked = true;
  };
  return {
    hold() {
      held = true;
      call.pause();
    },
    release() {
      held = false;
      if (asked) {
        asked = false;
        pull(call.readableHighWaterMark);
      }
      call.resume();
    },
  };
}

/**
 * Paces a bidirectional stream's reading by its answers: once a write finds grpc-js's buffer
 * full (the client is not reading its answers), the stream stops reading requests at their
 * source (readingGate) until that buffer drains. For handlers that write without looking at
 * `write`'s result (@grpc/reflection's), the call's `write` is wrapped.
 */
export function pacedByAnswers(call: grpc.ServerDuplexStream<unknown, unknown>): void {
  const reading = readingGate(call);
  const write = call.write.bind(call) as (...args: unknown[]) => boolean;
  let holding = false;
  (call as unknown as { write: (...args: unknown[]) => boolean }).write = (...args) => {
    const flowing = write(...args);
    if (!flowing && !holding) {
      holding = true;
      reading.hold();
      call.once('drain', () => {
        holding = false;
        reading.release();
      });
    }
    return flowing;
  };
}

/**
 * A bidirectional stream of independent requests (CheckCompatibilityStream, KeepAlive): each
 * request is answered by one response; while the client does not read its responses, its
 * requests are not read either (pacedByAnswers). An error thrown by the handler ends the call
 * (errors that belong to one item are the handler's to put in its response).
 */
export function bidiStream<Request, Response>(
  streams: StreamTracker,
  log: Logger,
  handler: (request: Request) => Response,
): grpc.handleBidiStreamingCall<Request, Response> {
  return (call) => {
    if (!streams.track(call)) return;
    pacedByAnswers(call as grpc.ServerDuplexStream<unknown, unknown>);
    call.on('data', (request: Request) => {
      let response: Response;
      try {
        response = handler(request);
      } catch (error) {
        endWithError(call, error, log);
        return;
      }
      call.write(response);
    });
    call.on('end', () => call.end());
  };
}

/** What a live stream's handler writes to, and how it learns that the stream ended. */
export interface LiveStream {
  /**
   * Writes one encoded message; false when the consumer should be waited for (`drained()`), or
   * the stream ended. Past the buffer's bound the stream ends as too slow.
   */
  write(bytes: Buffer): boolean;
  /** Writes one encoded message unless it would pass the buffer's bound (`full`: not written; see BoundedStream.offer). */
  offer(bytes: Buffer): Acceptance;
  /** Resolves when grpc-js's buffer drained, or the stream ended. */
  drained(): Promise<void>;
  /**
   * As `drained()`, but false when the client took none of what was written for `timeoutMs`
   * (0: waits for ever). The caller then ends the stream (cutOff or tooSlow).
   */
  drainedWithin(timeoutMs: number): Promise<boolean>;
  /** True once the stream ended, whichever way. */
  readonly closed: boolean;
  /** Ends the call with this error (through the error table), unless the client already went away. */
  fail(error: unknown): void;
  /**
   * Ends the call as too slow (WATCH_TOO_SLOW), as passing the buffer's bound does: for what a
   * handler holds back for its consumer itself, or (with `message`) a consumer that read
   * nothing for too long. The status goes behind what was written; a client that does not read
   * it within --send-timeout (a second, with `message`: it already waited) has its stream reset.
   */
  tooSlow(message?: string): void;
  /**
   * Ends the call with this error and resets its HTTP/2 stream, whether or not its client reads:
   * what it holds (unsent messages, HTTP/2's buffer) is released at once. For a client that
   * stopped reading; a client that reads again within a moment still gets the status.
   */
  cutOff(error: unknown): void;
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
    // Messages gathered in this turn of the loop go before the status; when sending them threw,
    // the stream was already ended as broken (failBrokenStream), and the error it was to end
    // with is logged here, since no status carries it.
    const fail = (error: unknown) => {
      if (bounded.flush()) endWithError(call, error, log);
      else log.warn({ err: error, method: call.getPath() }, 'live stream ended as broken before its error could be sent');
    };
    const bounded = new BoundedStream(
      call,
      options.bufferBytes,
      (message) => {
        const method = call.getPath();
        streams.tooSlow.set(method, (streams.tooSlow.get(method) ?? 0) + 1);
        if (message) log.info({ method, peer: call.getPeer(), reason: message }, 'stream cut off: its consumer read nothing');
        else log.info({ method, peer: call.getPeer(), buffer_bytes: options.bufferBytes }, 'stream cut off: its consumer fell too far behind');
        end();
        // The status goes behind what the client has not read yet; a client that does not read
        // it has its stream reset (ENHANCE_YOUR_CALM, RESOURCE_EXHAUSTED too), so that what is
        // buffered for it is released: after --send-timeout, or a second when it has already
        // read nothing that long.
        const grace = message ? undefined : streams.limits.sendTimeoutMs;
        if (grace === 0) endWithError(call, watchTooSlow(options.tooSlowMessage), log);
        else cutOffWithError(call, watchTooSlow(message ?? options.tooSlowMessage), log, undefined, grace);
      },
      (error) => {
        end();
        failBrokenStream(call, error, log);
      },
    );
    call.once('cancelled', end);
    call.once('close', end);
    call.once('error', end);
    const stream: LiveStream = {
      write: (bytes) => bounded.write(bytes),
      offer: (bytes) => bounded.offer(bytes),
      drained: () => bounded.drained(),
      drainedWithin: (timeoutMs) => bounded.drainedWithin(timeoutMs),
      get closed() {
        return bounded.closed;
      },
      fail,
      tooSlow: (message) => bounded.overflow(message),
      cutOff: (error) => {
        if (bounded.closed) return;
        bounded.abandon();
        end();
        log.info({ method: call.getPath(), peer: call.getPeer(), reason: error instanceof Error ? error.message : String(error) }, 'stream cut off: its client was not reading');
        cutOffWithError(call, error, log);
      },
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
