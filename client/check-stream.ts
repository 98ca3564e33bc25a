// Many compatibility checks on one CheckCompatibilityStream, surviving a server restart.
// Every check submitted in the same tick travels in one message (up to maxBatch), and each
// result is routed back by its id. A check is a read, so it is idempotent: when the stream is
// interrupted (UNAVAILABLE, or the server ends it with checks unanswered) the stream is opened
// again, with backoff, and every check not yet answered is sent again; a result that arrives
// twice is taken once. Reconnecting stops when the client's retry budget has passed without a
// result arriving, when the stream's deadline passes, or when its signal aborts: then every
// pending check rejects with that DevcompatError. Closing the client ends the stream the same
// way (CANCELLED), so that no reconnect timer or queued send opens a call on a closed channel.

import * as grpc from '@grpc/grpc-js';
import { decodeStatus } from '../proto/rich-status.ts';
import type { CheckCompatibilityStreamResponse__Output } from '../proto/generated/devcompat/v1/CheckCompatibilityStreamResponse.ts';
import { encodeCheck, encodeRequest, namedCheck, type NamedCheck } from './check-stream-codec.ts';
import { abortedError, type CallOptions } from './calls.ts';
import { backoffMs, DevcompatError, mayRetry, type RetryPolicy } from './errors.ts';
import { clientClosedError, type ClientLifetime } from './lifetime.ts';
import { fromResponse, toRef, toRequest } from './messages.ts';

import type { CheckItemResult, CompatibilityResult, DeviceRef, MinRevision, RevisionInput } from './types.ts';


/** The call: requests are written encoded (check-stream-codec.ts), responses arrive decoded by it. */
export type CheckStreamDuplex = grpc.ClientDuplexStream<Buffer, CheckCompatibilityStreamResponse__Output>;
type Duplex = CheckStreamDuplex;

export interface CheckStreamOptions extends CallOptions, MinRevision {
  /** Checks per message, at most (default 500). */
  maxBatch?: number;
}

interface PendingCheck {
  /** The CheckItem: by names, written into each message that carries it; otherwise encoded once (a resend reuses it). */
  readonly message: Uint8Array | NamedCheck;
  resolve(result: CheckItemResult): void;
  reject(error: unknown): void;
}

export class CheckStream {
  private readonly pending = new Map<string, PendingCheck>();
  /** Ids to send on the current call, in submission order. */
  private queue: string[] = [];
  private scheduled = false;
  /** The current call; none before the first one opened (or when opening it threw). */
  private call: Duplex | undefined;
  /** The current call's buffer is full: wait for its 'drain' before writing more. */
  private blocked = false;
  /** The current call has been half-closed. */
  private halfClosed = false;
  private closing = false;
  private failure: DevcompatError | undefined;
  private nextId = 0;
  /** When the stream was first interrupted since the last result arrived. */
  private interruptedAt: number | undefined;
  private interruptions = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private readonly deadline: number | undefined;
  private readonly maxBatch: number;
  private readonly finished: Promise<void>;
  private finish!: () => void;
  private readonly onAbort = () => this.fail(abortedError(this.options.signal));
  /** Forgets this stream in its client's lifetime (nothing to end once it has finished). */
  private forgetLifetime: () => void = () => {};

  /** Called each time the stream is interrupted and about to be opened again (for logs). */
  onReconnect?: (error: DevcompatError, pendingChecks: number, attempt: number) => void;

  constructor(
    private readonly open: (options: grpc.CallOptions) => Duplex,
    private readonly retry: RetryPolicy,
    private readonly options: CheckStreamOptions = {},
    /** The `min_revision` each message carries, asked at send time (the client's session may have moved on). */
    private readonly minRevision: () => { min_revision?: RevisionInput } = () =>
      options.minRevision === undefined ? {} : { min_revision: options.minRevision },
    /** The client's: its close() ends this stream with CANCELLED. */
    lifetime?: ClientLifetime,
  ) {
    this.maxBatch = options.maxBatch ?? 500;
    this.deadline = options.deadlineMs === undefined ? undefined : Date.now() + options.deadlineMs;
    this.finished = new Promise((resolve) => {
      this.finish = () => {
        this.forgetLifetime();
        resolve();
      };
    });
    if (options.signal?.aborted) {
      this.failure = abortedError(options.signal);
      this.finish();
      return;
    }
    options.signal?.addEventListener('abort', this.onAbort, { once: true });
    if (lifetime) this.forgetLifetime = lifetime.onClose(() => this.fail(clientClosedError()));
    this.connect();
  }

  private connect(): void {
    let call: Duplex;
    try {
      call = this.open(this.deadline === undefined ? {} : { deadline: this.deadline });
    } catch (error) {
      // A closed client's channel throws here ('Channel has been shut down'), possibly from a
      // reconnect timer or a microtask: the stream fails as a unary call on it would.
      return this.fail(DevcompatError.from(error));
    }
    this.call = call;
    this.blocked = false;
    this.halfClosed = false;
    call.on('data', (message: CheckCompatibilityStreamResponse__Output) => {
      if (call !== this.call) return;
      this.interruptedAt = undefined;
      this.interruptions = 0;
      for (const raw of message.results) {
        const entry = this.pending.get(raw.id);
        if (!entry) continue; // answered before a reconnect, or abandoned
        this.pending.delete(raw.id);
        entry.resolve(
          raw.result
            ? { id: raw.id, result: fromResponse<CompatibilityResult>('CompatibilityResult', raw.result) }
            : { id: raw.id, error: { ...decodeStatus(raw.error ?? {}), code: raw.error?.code ?? grpc.status.UNKNOWN } },
        );
      }
      this.settleIfDone();
    });
    call.on('error', () => undefined); // the status event below decides
    call.on('status', (status: grpc.StatusObject) => {
      if (call !== this.call) return;
      // Results already received may still be in the readable buffer: let them through first.
      setImmediate(() => this.interrupted(status));
    });
    call.on('drain', () => {
      if (call !== this.call) return;
      this.blocked = false;
      this.flush();
    });
    this.queue = [...this.pending.keys()];
    this.flush();
  }

  private interrupted(status: grpc.StatusObject): void {
    if (this.failure) return;
    if (this.pending.size === 0) {
      this.halfClosed = true; // idle: the next submit opens a new call
      if (this.closing) this.finish();
      return;
    }
    const error =
      status.code === grpc.status.OK
        ? new DevcompatError({ code: grpc.status.UNAVAILABLE, message: 'the server ended the stream before answering every check' })
        : DevcompatError.from(Object.assign(new Error(status.details), status));
    if (error.code !== grpc.status.UNAVAILABLE) return this.fail(error);
    this.interruptedAt ??= Date.now();
    this.interruptions++;
    const wait = backoffMs(this.retry, this.interruptions);
    const deadlinePassed = this.deadline !== undefined && Date.now() + wait >= this.deadline;
    if (!mayRetry(this.retry, this.interruptions, this.interruptedAt) || deadlinePassed) return this.fail(error);
    this.onReconnect?.(error, this.pending.size, this.interruptions);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      if (!this.failure) this.connect();
    }, wait);
  }

  /** Ends the stream for good: every pending check rejects with `error`. */
  private fail(error: DevcompatError): void {
    if (this.failure) return;
    this.failure = error;
    clearTimeout(this.reconnectTimer);
    this.options.signal?.removeEventListener('abort', this.onAbort);
    this.call?.cancel();
    for (const entry of this.pending.values()) entry.reject(error);
    this.pending.clear();
    this.queue = [];
    this.finish();
  }

  private settleIfDone(): void {
    if (this.closing && this.pending.size === 0) {
      this.options.signal?.removeEventListener('abort', this.onAbort);
      this.finish();
    }
  }

  /**
   * Sends one check; resolves with its result or its own error (an unknown name, an invalid
   * descriptor: the stream goes on). Ids are chosen by the stream when not given; they must be
   * unique among pending checks. Rejects with a DevcompatError when the stream fails for good.
   */
  submit(item: { id?: string; source: DeviceRef; target: DeviceRef }): Promise<CheckItemResult> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.closing) return Promise.reject(new Error('the check stream is closed'));
    const id = item.id ?? `c${this.nextId++}`;
    if (this.pending.has(id)) return Promise.reject(new Error(`check id ${id} is already pending`));
    let message: Uint8Array | NamedCheck;
    try {
      // Names need no strict reading (a string is a valid name field); anything else does.
      message =
        typeof id === 'string' && typeof item.source === 'string' && typeof item.target === 'string'
          ? namedCheck(id, item.source, item.target)
          : encodeCheck(toRequest('CheckItem', { id, source: toRef(item.source), target: toRef(item.target) }));
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise((resolve, reject) => {
      this.pending.set(id, { message, resolve, reject });
      if (this.reconnectTimer) return; // sent when the stream is open again
      this.queue.push(id);
      if (this.queue.length >= this.maxBatch) this.flush();
      else if (!this.scheduled) {
        this.scheduled = true;
        queueMicrotask(() => this.flush());
      }
    });
  }

  /** The verdict for one pair; rejects with a DevcompatError if the item failed. */
  async check(source: DeviceRef, target: DeviceRef): Promise<CompatibilityResult> {
    const outcome = await this.submit({ source, target });
    if (outcome.result) return outcome.result;
    throw new DevcompatError({ ...outcome.error!, code: outcome.error!.code, message: outcome.error!.message });
  }

  private flush(): void {
    this.scheduled = false;
    if (this.failure || this.reconnectTimer) return;
    if (this.halfClosed && this.queue.length > 0) {
      // Submitted after an idle end: a new call carries them.
      return this.connect();
    }
    const floor = this.minRevision().min_revision;
    const minRevision = floor === undefined ? undefined : String(floor);
    const call = this.call!;
    while (this.queue.length > 0 && !this.blocked) {
      const checks: (Uint8Array | NamedCheck)[] = [];
      for (const id of this.queue.splice(0, this.maxBatch)) {
        const message = this.pending.get(id)?.message;
        if (message !== undefined) checks.push(message);
      }
      if (checks.length === 0) continue;
      let bytes: ReturnType<typeof encodeRequest>;
      try {
        bytes = encodeRequest(checks, minRevision);
      } catch (error) {
        // Never thrown from a microtask: the stream fails, and every pending check with it.
        return this.fail(new DevcompatError({ code: grpc.status.INVALID_ARGUMENT, message: `the check stream's request cannot be encoded: ${(error as Error).message}` }));
      }
      this.blocked = !call.write(bytes);
    }
    if (this.closing && this.queue.length === 0 && !this.halfClosed) {
      this.halfClosed = true;
      call.end();
    }
  }

  /**
   * Sends what is queued, half-closes, and waits until every check is answered (reconnecting
   * as needed) or the stream fails for good.
   */
  async close(): Promise<void> {
    this.closing = true;
    if (this.failure) return;
    if (this.pending.size === 0 && this.queue.length === 0) {
      this.halfClosed = true;
      this.call?.end();
      this.options.signal?.removeEventListener('abort', this.onAbort);
      this.finish();
    } else this.flush();
    await this.finished;
  }
}
