// Open streams are tracked so that shutdown can end them with UNAVAILABLE, and so that tests
// can check that a cancelled or finished stream leaves nothing behind.

import * as grpc from '@grpc/grpc-js';

type AnyServerStream = grpc.ServerWritableStream<unknown, unknown> | grpc.ServerDuplexStream<unknown, unknown>;

export class StreamTracker {
  private readonly open = new Set<AnyServerStream>();
  private shuttingDown = false;

  get size(): number {
    return this.open.size;
  }

  /** Registers a stream; it is forgotten when it ends, whichever way. */
  track(call: AnyServerStream): void {
    if (this.shuttingDown) {
      call.emit('error', { code: grpc.status.UNAVAILABLE, details: 'the server is shutting down' });
      return;
    }
    this.open.add(call);
    const forget = () => this.open.delete(call);
    call.once('finish', forget);
    call.once('close', forget);
    call.once('cancelled', forget);
    call.once('error', forget);
  }

  /** Ends every open stream with UNAVAILABLE so clients retry elsewhere or later. */
  endAll(): void {
    this.shuttingDown = true;
    for (const call of this.open) {
      call.emit('error', { code: grpc.status.UNAVAILABLE, details: 'the server is shutting down' });
    }
    this.open.clear();
  }
}

/**
 * Writes one message, honouring backpressure: when grpc-js's buffer is full, waits for
 * `drain`. Returns false once the call is cancelled, so the producer stops its work.
 */
export async function writeMessage(call: grpc.ServerWritableStream<unknown, unknown>, message: unknown): Promise<boolean> {
  if (call.cancelled || call.destroyed) return false;
  if (call.write(message)) return true;
  await new Promise<void>((resolve) => {
    const done = () => {
      call.off('drain', done);
      call.off('cancelled', done);
      call.off('close', done);
      resolve();
    };
    call.on('drain', done);
    call.on('cancelled', done);
    call.on('close', done);
  });
  return !call.cancelled && !call.destroyed;
}

/**
 * A server stream that may run for hours (Watch, WatchTargets): messages are written as they
 * come, and the bytes grpc-js has not yet flushed to the client are counted. Past `limitBytes`
 * the consumer is too slow: the stream ends with RESOURCE_EXHAUSTED (WATCH_TOO_SLOW), so it
 * can neither hold writers back nor grow the server's memory without bound, and its client
 * resumes from its last revision.
 */
export class BoundedStream {
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

  end(): void {
    this.ended = true;
    this.call.end();
  }

  private wake(): void {
    for (const waiter of this.drainWaiters.splice(0)) waiter();
  }
}
