// The client library's one error type: a gRPC status with its google.rpc details decoded.
// Kept apart from client.ts so the lease keeper and the mirror share it without an import cycle.

import * as grpc from '@grpc/grpc-js';
import { decodeStatus, type RichStatus } from '../proto/rich-status.ts';
import { STATUS_DETAILS_KEY } from '../proto/wire.ts';

/** An error from the registry, with its decoded google.rpc details. */
export class DevcompatError extends Error {
  readonly code: grpc.status;
  /** Stable UPPER_SNAKE reason from google.rpc.ErrorInfo (e.g. `INVALID_ARGUMENT`). */
  readonly reason: string | undefined;
  readonly metadata: Record<string, string>;
  readonly fieldViolations: { field: string; description: string }[];

  constructor(status: RichStatus) {
    super(status.message);
    this.name = 'DevcompatError';
    this.code = status.code;
    this.reason = status.reason;
    this.metadata = status.metadata ?? {};
    this.fieldViolations = status.fieldViolations ?? [];
  }

  get codeName(): string {
    return grpc.status[this.code] ?? String(this.code);
  }

  static from(error: unknown): DevcompatError {
    if (error instanceof DevcompatError) return error;
    const serviceError = error as Partial<grpc.ServiceError>;
    if (typeof serviceError?.code === 'number') {
      const details = serviceError.metadata?.get(STATUS_DETAILS_KEY)[0];
      const decoded = details instanceof Buffer ? decodeStatus(details) : undefined;
      return new DevcompatError({
        ...decoded,
        code: serviceError.code,
        message: serviceError.details || decoded?.message || serviceError.message || 'unknown error',
      });
    }
    return new DevcompatError({ code: grpc.status.UNKNOWN, message: (error as Error)?.message ?? String(error) });
  }
}

/**
 * How calls ride out an unavailable server (UNAVAILABLE: restarting, unreachable). Retries go
 * on, with growing backoff, until `budgetMs` has passed since the first failure (or the call's
 * own deadline comes first), so that a server restart of a few seconds is not seen by callers.
 */
export interface RetryPolicy {
  /** How long after the first UNAVAILABLE a call keeps retrying; default 10000 ms (0: never retry). */
  readonly budgetMs: number;
  /** An optional cap on attempts in all, the first included (default: none, only the budget). */
  readonly maxAttempts?: number;
  readonly initialBackoffMs: number;
  readonly maxBackoffMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { budgetMs: 10_000, initialBackoffMs: 100, maxBackoffMs: 1000 };

/** Whether a call that has failed `attempt` times, the first failure `sinceMs` ago, may try again. */
export function mayRetry(policy: RetryPolicy, attempt: number, firstFailureAt: number, now = Date.now()): boolean {
  return attempt < (policy.maxAttempts ?? Infinity) && now - firstFailureAt < policy.budgetMs;
}

/** The wait before retry `attempt` (1-based): exponential, capped, with jitter in its upper half. */
export function backoffMs(policy: RetryPolicy, attempt: number): number {
  const backoff = Math.min(policy.maxBackoffMs, policy.initialBackoffMs * 2 ** Math.max(0, attempt - 1));
  return backoff / 2 + Math.random() * (backoff / 2);
}

/** Resolves after `ms`, or at once when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** `hosts/{host}` from a bare id or a name. */
export function hostName(host: string): string {
  return host.startsWith('hosts/') ? host : `hosts/${host}`;
}
