// The live streams' write path: several messages as one write. A watch revision goes to every
// watcher that takes it, and a commit batch publishes its revisions in one synchronous loop;
// through grpc-js's object-mode Writable each message would be one pass through the
// interceptors, one framing copy, one write on the HTTP/2 stream and one completion, per
// message per watcher. Here the messages a live stream gathered in one turn of the loop (streams.ts) are
// framed together, length prefix by length prefix as gRPC frames them, into one buffer that goes
// down the call's intercepting chain as one `FramedMessages`: the interceptors see it once
// (telemetry counts it as the messages it holds: `messageCount`), and grpc-js's base call writes
// it to the HTTP/2 stream as it is, one write and one completion per stream per turn.
//
// This reaches two grpc-js internals (the pinned 1.14.x): the server call's `call` (its
// intercepting chain, whose sendMessage is what the Writable's _write calls) and, down the
// chain's `nextCall` links, the base call (the link that owns the HTTP/2 `stream`), whose
// `serializeMessage` is wrapped on that one object to pass FramedMessages through unframed.
// Everything else of grpc-js's send path stays: its checks that the call is still open, its
// headers before the first message, its error status on a failed write, its ordering with the
// status, and its refusal of a message larger than the send limit (a batch never holds more
// than the limit; a message over it goes alone and is refused as before). Whatever is not found
// leaves the ordinary path (call.write, one message at a time): slower, never wrong.
// test/watch-shared-bytes.test.ts checks that the fast path is taken on this grpc-js.

import type * as grpc from '@grpc/grpc-js';
import { PreEncoded } from './verdict-encoding.ts';

/** gRPC's length prefix: a compression flag byte and a 4-byte big-endian length. */
export const PREFIX_BYTES = 5;

/** The largest write a batch makes (a turn's messages beyond it go as further writes). */
const BATCH_BYTES = 1024 * 1024;

/** Messages already framed one after another as gRPC frames them, written as they are. */
export class FramedMessages {
  constructor(
    readonly bytes: Buffer,
    readonly count: number,
  ) {}
}

/** How many response messages one sent by a handler stands for: a batch its count, else one. */
export function messageCount(message: unknown): number {
  return message instanceof FramedMessages ? message.count : 1;
}

/** Frames `messages` (encoded, unframed) into one buffer. */
export function frameMessages(messages: readonly Buffer[]): FramedMessages {
  let total = 0;
  for (const message of messages) total += PREFIX_BYTES + message.length;
  const bytes = Buffer.allocUnsafe(total);
  let at = 0;
  for (const message of messages) {
    bytes[at] = 0; // not compressed
    bytes.writeUInt32BE(message.length, at + 1);
    message.copy(bytes, at + PREFIX_BYTES);
    at += PREFIX_BYTES + message.length;
  }
  return new FramedMessages(bytes, messages.length);
}

/**
 * The last batch framed, kept for the tick: the unfiltered watchers get the same messages (the
 * same shared buffers, in the same order) in a turn of the loop, and their streams are flushed
 * one after the other in one callback (streams.ts, flushGathered), so each after the first sends
 * the same framed bytes (never written to, only read).
 */
let lastFramed: { readonly messages: readonly Buffer[]; readonly framed: FramedMessages } | undefined;

function framedOnce(messages: readonly Buffer[]): FramedMessages {
  const last = lastFramed;
  if (last && last.messages.length === messages.length && last.messages.every((message, i) => message === messages[i])) return last.framed;
  const framed = frameMessages(messages);
  if (!lastFramed) process.nextTick(() => (lastFramed = undefined));
  lastFramed = { messages, framed };
  return framed;
}

interface InterceptingCall {
  sendMessage(message: unknown, callback: () => void): void;
  nextCall?: InterceptingCall;
  stream?: unknown;
  serializeMessage?: (value: unknown) => Buffer;
  maxSendMessageSize?: number;
}

/** Sends messages on a live stream, in order; `done` runs once grpc-js has handed them to HTTP/2. */
export interface DirectSender {
  /** Sends `messages` (each one encoded message) as one write when `direct`. */
  send(messages: readonly Buffer[], done: () => void): void;
  /** The most bytes (prefixes included) one `send` should carry; a single larger message goes alone. */
  readonly batchBytes: number;
  /** True when a send is one write through the chain, framed here. */
  readonly direct: boolean;
}

function chainOf(call: grpc.ServerWritableStream<unknown, unknown>): InterceptingCall | undefined {
  const inner = (call as unknown as { call?: InterceptingCall }).call;
  return typeof inner?.sendMessage === 'function' ? inner : undefined;
}

/** The link of the chain that frames and writes: grpc-js's base call. */
function baseOf(chain: InterceptingCall): InterceptingCall | undefined {
  let link: InterceptingCall | undefined = chain;
  for (let depth = 0; link && depth < 32; depth++, link = link.nextCall) {
    if (link.stream && typeof link.serializeMessage === 'function') return link;
  }
  return undefined;
}

const PASSES_FRAMED = Symbol('devcompat.passesFramedMessages');

/** Makes the base call write FramedMessages as they are (once per call). */
function passFramed(base: InterceptingCall & { [PASSES_FRAMED]?: true }): void {
  if (base[PASSES_FRAMED]) return;
  const serialize = base.serializeMessage!;
  base.serializeMessage = function (this: unknown, value: unknown) {
    return value instanceof FramedMessages ? value.bytes : serialize.call(this, value);
  };
  base[PASSES_FRAMED] = true;
}

export function directSender(call: grpc.ServerWritableStream<unknown, unknown>): DirectSender {
  const chain = chainOf(call);
  const base = chain && baseOf(chain);
  if (!chain || !base) {
    return {
      direct: false,
      batchBytes: BATCH_BYTES,
      send: (messages, done) => {
        messages.forEach((message, i) => void call.write(new PreEncoded(message), i === messages.length - 1 ? done : undefined));
      },
    };
  }
  passFramed(base);
  // grpc-js refuses a message whose framed length, less one prefix, passes its send limit.
  const limit = base.maxSendMessageSize;
  const batchBytes = typeof limit === 'number' && limit >= 0 ? Math.min(BATCH_BYTES, limit + PREFIX_BYTES) : BATCH_BYTES;
  return {
    direct: true,
    batchBytes,
    send: (messages, done) => chain.sendMessage(framedOnce(messages), done),
  };
}
