// Host leases over one KeepAlive stream. A host agent holds its host's lease (renewed every
// ttl/3); a renewal that was in flight when the stream failed with UNAVAILABLE is sent again on
// the next stream (keepalives are idempotent), so `renew()` only fails for a reason that will
// not go away by itself: the host is unknown, the stream was refused, or the keeper (or its
// client) was closed. Closing the client fails the keeper for good with CANCELLED, so that no
// reconnect timer opens a stream on a closed channel.

import { EventEmitter } from 'node:events';
import * as grpc from '@grpc/grpc-js';
import { decodeStatus } from '../proto/rich-status.ts';
import { backoffMs, DevcompatError, hostName, type RetryPolicy } from './errors.ts';
import { clientClosedError, type ClientLifetime } from './lifetime.ts';
import { fromResponse } from './messages.ts';
import type { KeepAliveResponse } from './types.ts';

/** What a LeaseKeeper reports as it goes; none of these is needed for it to work. */
export interface LeaseKeeperEvents {
  /** A held host's lease was renewed. */
  renewed: [response: KeepAliveResponse];
  /** A held host's lease could not be renewed (e.g. NOT_FOUND); it is tried again after ttl/3. */
  renewFailed: [host: string, error: DevcompatError];
  /** The stream failed with UNAVAILABLE; the keeper reconnects with backoff. */
  disconnected: [error: DevcompatError];
  /**
   * The stream failed for good (not UNAVAILABLE; CANCELLED when the client was closed): every
   * renewal now fails with this error, and hold() throws it.
   */
  failed: [error: DevcompatError];
}

interface PendingRenewal {
  readonly name: string;
  resolve(response: KeepAliveResponse): void;
  reject(error: DevcompatError): void;
}

interface HeldLease {
  stopped: boolean;
  /** Ends the current wait between two renewals. */
  wake(): void;
}

/** The lease TTL assumed until the server has told its own (the server's default). */
const DEFAULT_TTL_MS = 30_000;
/** How long close() waits for the server to answer what is in flight. */
const CLOSE_GRACE_MS = 5000;

export class LeaseKeeper extends EventEmitter<LeaseKeeperEvents> {
  private call: grpc.ClientDuplexStream<{ name: string }, any> | undefined;
  /** Renewals not yet written on the current stream. */
  private unsent: PendingRenewal[] = [];
  /** Renewals written and not yet answered; answers come in request order. */
  private inFlight: PendingRenewal[] = [];
  private readonly held = new Map<string, HeldLease>();
  /** Consecutive streams that failed before answering anything. */
  private failedStreams = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private ttl = DEFAULT_TTL_MS;
  private closing = false;
  private streamEnded: (() => void) | undefined;
  private failureValue: DevcompatError | undefined;
  /** Forgets this keeper in its client's lifetime (once it is closed or has failed). */
  private readonly forgetLifetime: () => void;

  constructor(
    private readonly open: () => grpc.ClientDuplexStream<{ name: string }, any>,
    private readonly retry: RetryPolicy,
    /** The client's: its close() fails this keeper with CANCELLED. */
    lifetime?: ClientLifetime,
  ) {
    super();
    this.forgetLifetime = lifetime?.onClose(() => this.failForGood(clientClosedError())) ?? (() => {});
  }

  /** The server's lease TTL in milliseconds, once a response has told it. */
  get ttlMs(): number {
    return this.ttl;
  }

  /** Why the keeper stopped, when the stream failed for good. */
  get failure(): DevcompatError | undefined {
    return this.failureValue;
  }

  /** The hosts held, as `hosts/{host}`. */
  get holding(): string[] {
    return [...this.held.keys()];
  }

  /**
   * Renews one host's lease now. Resolves with the new expiry, the TTL and the host's state;
   * rejects with a DevcompatError when the server refuses (NOT_FOUND for an unknown host).
   */
  renew(host: string): Promise<KeepAliveResponse> {
    if (this.closing) return Promise.reject(closedError());
    if (this.failureValue) return Promise.reject(this.failureValue);
    return new Promise((resolve, reject) => {
      this.unsent.push({ name: hostName(host), resolve, reject });
      this.flush();
    });
  }

  /**
   * Keeps a host's lease alive: renews it now, then every ttl/3, until released or closed.
   * Throws the keeper's `failure` when it has failed for good: nothing would be renewed.
   */
  hold(host: string): void {
    const name = hostName(host);
    if (this.failureValue) throw this.failureValue;
    if (this.held.has(name) || this.closing) return;
    const lease: HeldLease = { stopped: false, wake: () => {} };
    this.held.set(name, lease);
    void this.keep(name, lease);
  }

  /** Stops renewing a host's lease; it lapses after the TTL unless the agent syncs. */
  release(host: string): void {
    const name = hostName(host);
    const lease = this.held.get(name);
    if (!lease) return;
    this.held.delete(name);
    lease.stopped = true;
    lease.wake();
  }

  /**
   * Stops every hold, fails what was not sent, half-closes the stream and waits (at most a
   * few seconds) for the server to answer what is in flight and end the stream.
   */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    this.forgetLifetime();
    for (const name of [...this.held.keys()]) this.release(name);
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    for (const pending of this.unsent.splice(0)) pending.reject(closedError());
    const call = this.call;
    if (!call) return;
    const ended = new Promise<void>((resolve) => (this.streamEnded = resolve));
    call.end();
    const timer = setTimeout(() => call.cancel(), CLOSE_GRACE_MS);
    await ended;
    clearTimeout(timer);
  }

  private async keep(name: string, lease: HeldLease): Promise<void> {
    while (!lease.stopped) {
      let waitMs: number;
      try {
        const response = await this.renew(name);
        if (lease.stopped) return;
        this.emit('renewed', response);
        waitMs = response.ttl_ms / 3;
      } catch (error) {
        if (lease.stopped || this.closing || this.failureValue) return;
        this.emit('renewFailed', name, error as DevcompatError);
        waitMs = this.ttl / 3;
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, waitMs);
        lease.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  private flush(): void {
    if (this.reconnectTimer || this.unsent.length === 0 || this.failureValue) return;
    if (!this.call) {
      try {
        this.call = this.connect();
      } catch (error) {
        // A closed client's channel throws ('Channel has been shut down'), here possibly in a
        // reconnect timer: the keeper fails for good instead of the process.
        return this.failForGood(DevcompatError.from(error));
      }
    }
    const call = this.call;
    for (const pending of this.unsent.splice(0)) {
      this.inFlight.push(pending);
      call.write({ name: pending.name });
    }
  }

  private connect(): grpc.ClientDuplexStream<{ name: string }, any> {
    const call = this.open();
    call.on('data', (response) => this.answer(response));
    call.on('error', (error) => this.lost(call, DevcompatError.from(error)));
    call.on('end', () =>
      this.lost(call, new DevcompatError({ code: grpc.status.UNAVAILABLE, message: 'the server ended the keepalive stream' })),
    );
    return call;
  }

  private answer(response: KeepAliveResponse & { error?: { code?: number } | null }): void {
    const pending = this.inFlight.shift();
    this.failedStreams = 0;
    if (response.ttl_ms > 0) this.ttl = response.ttl_ms;
    if (!pending) return;
    const { error, ...answer } = response;
    if (error && error.code) {
      const status = decodeStatus(error);
      pending.reject(new DevcompatError({ ...status, message: status.message || `cannot renew ${pending.name}` }));
    } else {
      pending.resolve(fromResponse<KeepAliveResponse>('KeepAliveResponse', answer));
    }
  }

  /** The current stream ended or failed: resend what it left unanswered on a new one, later. */
  private lost(call: grpc.ClientDuplexStream<{ name: string }, any>, error: DevcompatError): void {
    if (this.call !== call) return;
    this.call = undefined;
    if (this.closing) {
      for (const pending of this.inFlight.splice(0)) pending.reject(closedError());
      this.streamEnded?.();
      return;
    }
    if (error.code !== grpc.status.UNAVAILABLE) return this.failForGood(error);
    this.unsent.unshift(...this.inFlight.splice(0));
    this.emit('disconnected', error);
    this.failedStreams++;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      // Held leases are renewed at once: the server may have restarted and lost them.
      for (const lease of this.held.values()) lease.wake();
      this.flush();
    }, backoffMs(this.retry, this.failedStreams));
  }

  /** Stops for good: what was asked rejects with `error`, holds end, and `failed` is emitted. */
  private failForGood(error: DevcompatError): void {
    if (this.failureValue || this.closing) return;
    this.failureValue = error;
    this.forgetLifetime();
    clearTimeout(this.reconnectTimer);
    this.reconnectTimer = undefined;
    const call = this.call;
    this.call = undefined;
    call?.cancel();
    for (const pending of [...this.inFlight.splice(0), ...this.unsent.splice(0)]) pending.reject(error);
    for (const name of [...this.held.keys()]) this.release(name);
    this.emit('failed', error);
  }
}

function closedError(): DevcompatError {
  return new DevcompatError({ code: grpc.status.CANCELLED, message: 'the lease keeper is closed' });
}
