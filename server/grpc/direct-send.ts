// The live streams' fast write path. A watch revision goes to every watcher that takes it, and a
// commit batch publishes its revisions in one synchronous loop: through grpc-js's object-mode
// Writable (which has no _writev) each message became one write on its HTTP/2 stream, one
// native call and one completion per message per watcher. Here a live stream hands its
// messages straight to the call's intercepting chain (so the interceptors, telemetry's counts
// and metrics among them, still see each message, and grpc-js frames it as ever), and corks
// the call's HTTP/2 stream until the end of the tick, so that a batch's messages reach nghttp2
// as one writev per stream.
//
// This reaches two grpc-js internals (the pinned 1.14.x): the server call's `call` (its
// intercepting chain, whose sendMessage is what the Writable's _write calls) and, down the
// chain's `nextCall` links, the base call's `stream`. Whatever is not found leaves the
// ordinary path (call.write) or no cork: slower, never wrong. test/watch-shared-bytes.test.ts
// checks that the fast path is taken on this grpc-js.

import type * as grpc from '@grpc/grpc-js';

interface InterceptingCall {
  sendMessage(message: unknown, callback: () => void): void;
  nextCall?: InterceptingCall;
  stream?: { cork(): void; uncork(): void; destroyed?: boolean };
}

/** Sends one message on a live stream; `done` runs once grpc-js has handed it to HTTP/2. */
export interface DirectSender {
  send(message: unknown, done: () => void): void;
  /** True when messages bypass the Writable and the HTTP/2 stream is corked per tick. */
  readonly direct: boolean;
}

function chainOf(call: grpc.ServerWritableStream<unknown, unknown>): InterceptingCall | undefined {
  const inner = (call as unknown as { call?: InterceptingCall }).call;
  return typeof inner?.sendMessage === 'function' ? inner : undefined;
}

function http2StreamOf(chain: InterceptingCall): InterceptingCall['stream'] {
  let link: InterceptingCall | undefined = chain;
  for (let depth = 0; link && depth < 32; depth++, link = link.nextCall) {
    const stream = link.stream;
    if (stream && typeof stream.cork === 'function' && typeof stream.uncork === 'function') return stream;
  }
  return undefined;
}

export function directSender(call: grpc.ServerWritableStream<unknown, unknown>): DirectSender {
  const chain = chainOf(call);
  const stream = chain && http2StreamOf(chain);
  if (!chain || !stream) {
    return { direct: false, send: (message, done) => void call.write(message, done) };
  }
  let corked = false;
  const uncork = () => {
    corked = false;
    stream.uncork();
  };
  return {
    direct: true,
    send: (message, done) => {
      if (!corked && !stream.destroyed) {
        corked = true;
        stream.cork();
        process.nextTick(uncork);
      }
      chain.sendMessage(message, done);
    },
  };
}
