// Streams per connection: request streams (issue 7), the bound on the request bytes one
// connection can make the server hold unread; and watches (WATCH_STREAMS, below).
//
// The server grants each stream a flow-control window of 512 KB (flow-control-window.ts), and
// Node's HTTP/2 holds back only each stream's window until the stream is read (the connection's
// window is given back as data arrives). Unary and server-streaming calls read their one message
// at once (grpc-js asks for it as soon as the call starts, and again after it, until the end;
// limits.ts cuts off one whose request does not end in time). A request stream
// (CheckCompatibilityStream, KeepAlive, reflection) is read only as fast as its handler answers
// and its client reads the answers (streams.ts): one whose client reads nothing can be left
// holding a full window of request bytes, for as long as its connection lives. So the bound is
// on how many of them one connection may have open: a call past `maxPerConnection` is refused
// at once with RESOURCE_EXHAUSTED (OVERLOADED) naming the limit and its flag, before its handler
// runs, and its stream is reset; the connection's other calls go on. One connection then holds
// at most maxPerConnection x window of unread request bytes (32 x 512 KB = 16 MB by default).
// In memory a held stream costs more than its window when its requests are tiny: grpc-js decodes
// every message of a frame it reads (16 KB: 3,276 empty requests) before the stream is held.
// Measured at that worst (bench/held-streams.ts), 32 held streams on one connection grew the
// server's heap and buffers by about 62 MB (RSS +75-79 MB), 100 by 128-177 MB; hence 32. New connections' calls are shed past
// --memory-budget like any other.
//
// Unread bytes must also cost what they weigh: an admitted stream's small chunks are copied out
// of the socket reads they came in (copySmallChunks), which they would otherwise keep alive.
//
// The same cap, with WATCH_STREAMS, bounds the watches one connection may hold open (each with
// its catch-up page or standing query, and its unsent messages): --max-watches-per-connection.
//
// The count lives per HTTP/2 session (a connection) and drops when a stream closes, whichever
// way; the streams counted are also where the unread bytes are, which `unreadBytes()` sums (for
// the metrics). It sits after the telemetry interceptor, so that its refusals are measured and
// logged by code like any status.

import * as grpc from '@grpc/grpc-js';
import type http2 from 'node:http2';
import type { Logger } from 'pino';
import { overloaded } from '../core/errors.ts';
import { toServiceError } from './errors.ts';
import { cutOff, http2StreamOf } from './limits.ts';

/**
 * Node's HTTP/2 hands a stream each DATA frame as a slice of the whole socket read it came in
 * (up to 64 KB), and the slice keeps all of that read alive. On a request stream the server is
 * not reading, a client that put one byte for it into every read would make each unread byte
 * hold a read buffer: measured, 1,000 such bytes held 47 MB. A request stream's chunks that are
 * less than half of their read are copied out of it as they arrive (the stream phase's 16 KB
 * frames in 64 KB reads: a few MB/s of copying), so unread bytes cost what they weigh.
 */
function copySmallChunks(stream: http2.ServerHttp2Stream): void {
  const push = stream.push.bind(stream);
  stream.push = (chunk: unknown, encoding?: BufferEncoding) =>
    push(chunk instanceof Uint8Array && chunk.byteLength * 2 < chunk.buffer.byteLength ? Buffer.from(chunk) : chunk, encoding);
}

/** A call's listener that passes nothing on: a refused call never reaches its handler. */
const REFUSED_LISTENER: grpc.ServerListener = {
  onReceiveMetadata: () => {},
  onReceiveMessage: () => {},
  onReceiveHalfClose: () => {},
};

/** Which calls a cap counts, and how it names them and its flag in a refusal. */
export interface CappedStreams {
  /** Whether a method's calls are counted. */
  readonly counts: (method: grpc.ServerMethodDefinition<unknown, unknown>) => boolean;
  /** What they are, in the refusal: `request streams`, and which methods make them. */
  readonly what: string;
  readonly which: string;
  readonly flag: string;
  /** Copy small request chunks out of their socket reads (request streams hold unread requests). */
  readonly copyChunks: boolean;
}

/** Request streams: the bound on unread request bytes (above). */
export const REQUEST_STREAMS: CappedStreams = {
  counts: (method) => method.requestStream,
  what: 'request streams',
  which: '(CheckCompatibilityStream, KeepAlive, reflection)',
  flag: '--max-request-streams-per-connection',
  copyChunks: true,
};

/**
 * Watches (Watch, WatchTargets): each may hold a catch-up page of history or a standing query's
 * judged candidates, and up to 8 MiB of messages its client has not read (streams.ts), for as
 * long as it is open; a connection may otherwise open one per HTTP/2 stream (1,000).
 */
export const WATCH_STREAMS: CappedStreams = {
  counts: (method) => method.path === '/devcompat.v1.WatchService/Watch' || method.path === '/devcompat.v1.CompatibilityService/WatchTargets',
  what: 'watches',
  which: '(Watch, WatchTargets)',
  flag: '--max-watches-per-connection',
  copyChunks: false,
};

export class StreamCap {
  /** Streams counted, open per connection. */
  private readonly perConnection = new Map<http2.Http2Session, number>();
  /** Every counted stream open now, over every connection. */
  private readonly open = new Set<http2.ServerHttp2Stream>();
  /** Streams refused since start because their connection already held the limit. */
  refused = 0;

  constructor(
    readonly maxPerConnection: number,
    private readonly log: Logger,
    readonly streams: CappedStreams = REQUEST_STREAMS,
  ) {}

  /** Request streams open now, over every connection. */
  get openStreams(): number {
    return this.open.size;
  }

  /**
   * Request bytes received on open request streams that the server has not read yet: what
   * their clients sent into the streams' flow-control windows (each at most a window).
   */
  unreadBytes(): number {
    let bytes = 0;
    for (const stream of this.open) bytes += stream.readableLength;
    return bytes;
  }

  /**
   * The server interceptor. Calls that do not stream requests, and admitted ones, are passed on
   * as they are, without a layer of their own (grpc-js only calls the interface's methods on
   * what an interceptor returns; its type asks for the class).
   */
  interceptor(): grpc.ServerInterceptor {
    return (method, next) => {
      const call = next as grpc.ServerInterceptingCall;
      if (!this.streams.counts(method as grpc.ServerMethodDefinition<unknown, unknown>)) return call;
      const stream = http2StreamOf(call);
      const session = stream?.session;
      // Not grpc-js 1.14's call (or already gone): nothing to count.
      if (!stream || !session || stream.destroyed) return call;
      const held = this.perConnection.get(session) ?? 0;
      if (held >= this.maxPerConnection) return this.refuse(method.path, call, held);
      this.perConnection.set(session, held + 1);
      this.open.add(stream);
      if (this.streams.copyChunks) copySmallChunks(stream);
      stream.once('close', () => {
        this.open.delete(stream);
        const left = (this.perConnection.get(session) ?? 1) - 1;
        if (left > 0) this.perConnection.set(session, left);
        else this.perConnection.delete(session);
      });
      return call;
    };
  }

  private refuse(path: string, call: grpc.ServerInterceptingCallInterface, held: number): grpc.ServerInterceptingCall {
    this.refused++;
    const peer = call.getPeer();
    this.log.info({ method: path, peer, open: held, limit: this.maxPerConnection, flag: this.streams.flag }, 'stream refused: its connection holds the limit');
    const message =
      `this connection already has ${held} ${this.streams.what} open ${this.streams.which}, ` +
      `the server's limit per connection (${this.streams.flag}): end one before opening another`;
    const { code = grpc.status.RESOURCE_EXHAUSTED, details = message, metadata } = toServiceError(overloaded(message), this.log);
    return new grpc.ServerInterceptingCall(call, {
      start: (next) => {
        next(REFUSED_LISTENER);
        cutOff(call, { code, details, metadata });
      },
    });
  }
}
