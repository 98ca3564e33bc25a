// How one call is made: its deadline, its AbortSignal and its retries. A unary call has one
// deadline for all its attempts; an idempotent one is retried on UNAVAILABLE with backoff
// while the client's retry budget lasts (errors.ts), so a server restart of a few seconds is
// ridden out. A finite stream (FindTargets, FindPlacements) is retried the same way until its
// first message arrives (after that, a retry would repeat what the caller has seen). When the
// deadline cuts a retry short, the call rejects with the UNAVAILABLE that caused the retry: it
// says why (a server behind the min_revision asked for, say), where DEADLINE_EXCEEDED would
// not. Aborting the signal cancels the call on the wire and rejects with CANCELLED.

import * as grpc from '@grpc/grpc-js';
import { backoffMs, DevcompatError, mayRetry, sleep, type RetryPolicy } from './errors.ts';

/** What every call of the client takes. */
export interface CallOptions {
  /** How long the call may take in all, retries included, in milliseconds. */
  deadlineMs?: number;
  /** Aborting it cancels the call (see each method for what it then does). */
  signal?: AbortSignal;
}

/** The error of a call whose signal was aborted. */
export function abortedError(signal: AbortSignal | undefined): DevcompatError {
  const why = signal?.reason instanceof Error ? `: ${signal.reason.message}` : '';
  return new DevcompatError({ code: grpc.status.CANCELLED, message: `the call was aborted${why}` });
}

export type UnaryInvoker = (
  request: unknown,
  metadata: grpc.Metadata,
  options: grpc.CallOptions,
  callback: (error: grpc.ServiceError | null, response: any) => void,
) => grpc.ClientUnaryCall;

export interface AttemptPolicy {
  readonly deadlineMs: number;
  readonly signal?: AbortSignal;
  readonly idempotent: boolean;
  readonly retry: RetryPolicy;
}

/** One unary call: attempts until an answer, an error that is not worth retrying, the budget's end, or the deadline. */
export async function unaryCall<T>(invoke: UnaryInvoker, request: unknown, metadata: () => grpc.Metadata, policy: AttemptPolicy): Promise<T> {
  const { signal, retry } = policy;
  const deadline = Date.now() + policy.deadlineMs;
  let firstFailure: number | undefined;
  let retried: DevcompatError | undefined;
  for (let attempt = 1; ; attempt++) {
    if (signal?.aborted) throw abortedError(signal);
    try {
      const meta = metadata();
      return await new Promise<T>((resolve, reject) => {
        const call = invoke(request, meta, { deadline }, (error, response) => {
          signal?.removeEventListener('abort', cancel);
          if (error) reject(error);
          else resolve(response as T);
        });
        const cancel = () => call.cancel();
        signal?.addEventListener('abort', cancel, { once: true });
      });
    } catch (error) {
      if (signal?.aborted) throw abortedError(signal);
      const failure = DevcompatError.from(error);
      if (failure.code === grpc.status.DEADLINE_EXCEEDED && retried) throw retried;
      if (!policy.idempotent || failure.code !== grpc.status.UNAVAILABLE) throw failure;
      retried = failure;
      firstFailure ??= Date.now();
      const wait = backoffMs(retry, attempt);
      if (!mayRetry(retry, attempt, firstFailure) || Date.now() + wait >= deadline) throw failure;
      await sleep(wait, signal);
    }
  }
}

/**
 * A finite server stream, each message passed through `convert`. Leaving the loop cancels the
 * call; so does the signal, which then rejects with CANCELLED.
 */
export async function* finiteStream<M, T>(
  start: (options: grpc.CallOptions) => grpc.ClientReadableStream<M>,
  convert: (message: M) => T | undefined,
  policy: Omit<AttemptPolicy, 'idempotent'>,
): AsyncGenerator<T> {
  const { signal, retry } = policy;
  const deadline = Date.now() + policy.deadlineMs;
  let firstFailure: number | undefined;
  let retried: DevcompatError | undefined;
  for (let attempt = 1; ; attempt++) {
    if (signal?.aborted) throw abortedError(signal);
    const call = start({ deadline });
    const cancel = () => call.cancel();
    signal?.addEventListener('abort', cancel, { once: true });
    let received = false;
    try {
      for await (const message of call) {
        received = true;
        const item = convert(message as M);
        if (item !== undefined) yield item;
      }
      return;
    } catch (error) {
      if (signal?.aborted) throw abortedError(signal);
      const failure = DevcompatError.from(error);
      if (!received && failure.code === grpc.status.DEADLINE_EXCEEDED && retried) throw retried;
      if (received || failure.code !== grpc.status.UNAVAILABLE) throw failure;
      retried = failure;
      firstFailure ??= Date.now();
      const wait = backoffMs(retry, attempt);
      if (!mayRetry(retry, attempt, firstFailure) || Date.now() + wait >= deadline) throw failure;
      await sleep(wait, signal);
    } finally {
      signal?.removeEventListener('abort', cancel);
      call.cancel();
    }
  }
}
