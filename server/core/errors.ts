// Domain errors are data: a stable UPPER_SNAKE reason, a message for people, and for bad
// input the list of offending fields. The gRPC layer maps reasons to status codes in one
// table (server/grpc/errors.ts); nothing below the handlers knows about gRPC.

export type ErrorReason =
  | 'INVALID_ARGUMENT'
  | 'NOT_FOUND'
  | 'ALREADY_EXISTS'
  | 'REVISION_MISMATCH'
  | 'FAILED_PRECONDITION'
  | 'REVISION_COMPACTED'
  | 'PERMISSION_DENIED'
  | 'UNAUTHENTICATED'
  | 'UNAVAILABLE'
  /** A watch consumer fell further behind than its buffer allows: it must resume. */
  | 'WATCH_TOO_SLOW'
  /** A claim asked for more units of a device (or of a shared budget) than are free. */
  | 'CAPACITY_EXHAUSTED';

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
