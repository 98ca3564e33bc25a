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
