// What a client's close() must end besides its channels: the check streams and lease keepers
// that would otherwise open a call again later, from a reconnect timer or a microtask. grpc-js
// throws synchronously when a call is opened on a closed channel, and a throw there is an
// uncaught exception that ends the process; so close() ends them first, and each of them also
// turns a throwing open into its own failure.

import * as grpc from '@grpc/grpc-js';
import { DevcompatError } from './errors.ts';

export class ClientLifetime {
  private closedValue = false;
  private readonly ends = new Set<() => void>();

  get closed(): boolean {
    return this.closedValue;
  }

  /**
   * Calls `end` when the client closes; returns what forgets it (call it when the stream ends
   * by itself, so a long-lived client does not keep every stream it ever opened). Nothing is
   * kept once the client is closed: a stream opened afterwards fails on its first call.
   */
  onClose(end: () => void): () => void {
    if (this.closedValue) return () => {};
    this.ends.add(end);
    return () => this.ends.delete(end);
  }

  /** Ends every stream registered; a listener that throws (a keeper's `failed`) does not stop the others. */
  close(): void {
    this.closedValue = true;
    const ends = [...this.ends];
    this.ends.clear();
    const thrown: unknown[] = [];
    for (const end of ends) {
      try {
        end();
      } catch (error) {
        thrown.push(error);
      }
    }
    if (thrown.length > 0) throw thrown[0];
  }
}

/** What a check stream's pending checks and a lease keeper fail with when their client is closed. */
export function clientClosedError(): DevcompatError {
  return new DevcompatError({ code: grpc.status.CANCELLED, message: 'the client was closed' });
}
