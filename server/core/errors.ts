// Domain errors are data: a stable UPPER_SNAKE reason, a message for people, and for bad
// input the list of offending fields. The gRPC layer maps reasons to status codes in one
// table (server/grpc/errors.ts); nothing below the handlers knows about gRPC. The reasons
// themselves are wire constants (proto/wire.ts, dependency-free), shared with the client.
// Every kind of domain error is built by a constructor here.

import type { ErrorReason } from '../../proto/wire.ts';

export type { ErrorReason };

export interface FieldViolation {
  /** Path of the field, e.g. `devices[3].descriptor.attributes["Bad Name"]`. */
  readonly field: string;
  readonly description: string;
}

export class DomainError extends Error {
  readonly reason: ErrorReason;
  readonly violations: readonly FieldViolation[];
  readonly metadata: Readonly<Record<string, string>>;

  constructor(
    reason: ErrorReason,
    message: string,
    options: { violations?: readonly FieldViolation[]; metadata?: Record<string, string> } = {},
  ) {
    super(message);
    this.name = 'DomainError';
    this.reason = reason;
    this.violations = options.violations ?? [];
    this.metadata = options.metadata ?? {};
  }
}

/** Bad input: the message names the first field; every violation is listed in the details. */
export function invalidArgument(violations: readonly FieldViolation[]): DomainError {
  const first = violations[0];
  const message = first ? `${first.field}: ${first.description}` : 'invalid request';
  const more = violations.length > 1 ? ` (and ${violations.length - 1} more)` : '';
  return new DomainError('INVALID_ARGUMENT', message + more, { violations });
}

export function notFound(resource: string): DomainError {
  return new DomainError('NOT_FOUND', `${resource} not found`, { metadata: { resource } });
}

/** The registry cannot serve this now (shutting down, storage locked or full): retry later or elsewhere. */
export function unavailable(message: string): DomainError {
  return new DomainError('UNAVAILABLE', message);
}

/** A watch consumer fell further behind than its buffer allows: it must open the watch again. */
export function watchTooSlow(message: string): DomainError {
  return new DomainError('WATCH_TOO_SLOW', message);
}

/** The server is at one of its limits (too many searches at once, a client that does not read). */
export function overloaded(message: string): DomainError {
  return new DomainError('OVERLOADED', message);
}

/** Collects field violations while a request is walked; `throwIfAny` ends the walk. */
export class Violations {
  readonly list: FieldViolation[] = [];

  add(field: string, description: string): void {
    this.list.push({ field, description });
  }

  get empty(): boolean {
    return this.list.length === 0;
  }

  throwIfAny(): void {
    if (this.list.length > 0) throw invalidArgument(this.list);
  }
}
