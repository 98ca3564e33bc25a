// The API's wire constants that are not in the .proto files: request metadata keys, the rule a
// change reason must follow, the google.rpc error domain and the error reasons. Server and client
// import them from here (as etcd's api/v3rpc/rpctypes), so the two sides cannot drift apart.
// Dependency-free: the pure core imports its error reasons from here too.

/** Request metadata: who makes a change, recorded in history. */
export const ACTOR_METADATA_KEY = 'x-devcompat-actor';
/** Request metadata: why a change is made, recorded in history. */
export const REASON_METADATA_KEY = 'x-devcompat-reason';
/**
 * Request metadata: the lowest revision the answer must reflect (read your own writes made
 * through another replica). The server waits until it has applied that revision, up to the
 * call's deadline (at most MIN_REVISION_MAX_WAIT_MS), then answers UNAVAILABLE.
 */
export const MIN_REVISION_METADATA_KEY = 'x-devcompat-min-revision';
/** The longest a call waits for its min revision when its deadline is later or absent. */
export const MIN_REVISION_MAX_WAIT_MS = 5_000;

/** The longest change reason, in characters. */
export const MAX_REASON_LENGTH = 1024;
/** What a change reason must be: it travels as an HTTP/2 header, so printable ASCII only. */
export const REASON_RULE = `must be printable ASCII and at most ${MAX_REASON_LENGTH} characters`;

/** The one check of a change reason, made by the client before sending and by the server on receipt. */
export function isValidReason(reason: string): boolean {
  return reason.length <= MAX_REASON_LENGTH && /^[\x20-\x7e]*$/.test(reason);
}

/** `google.rpc.ErrorInfo.domain` of every error the registry sends. */
export const ERROR_DOMAIN = 'devcompat';
/** The trailer that carries a google.rpc.Status with its details. */
export const STATUS_DETAILS_KEY = 'grpc-status-details-bin';

/** The stable UPPER_SNAKE reasons of domain errors (`google.rpc.ErrorInfo.reason`). */
export const ErrorReason = {
  INVALID_ARGUMENT: 'INVALID_ARGUMENT',
  NOT_FOUND: 'NOT_FOUND',
  ALREADY_EXISTS: 'ALREADY_EXISTS',
  /** An `expected_revision` precondition failed (ABORTED). */
  REVISION_MISMATCH: 'REVISION_MISMATCH',
  FAILED_PRECONDITION: 'FAILED_PRECONDITION',
  /** The revision asked for was compacted away (OUT_OF_RANGE, metadata `oldest_revision`). */
  REVISION_COMPACTED: 'REVISION_COMPACTED',
  PERMISSION_DENIED: 'PERMISSION_DENIED',
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  UNAVAILABLE: 'UNAVAILABLE',
  /** A watch consumer fell further behind than its buffer allows: it must resume. */
  WATCH_TOO_SLOW: 'WATCH_TOO_SLOW',
  /** A claim asked for more units of a device (or of a shared budget) than are free (ABORTED). */
  CAPACITY_EXHAUSTED: 'CAPACITY_EXHAUSTED',
  /** The server is at one of its limits (RESOURCE_EXHAUSTED): retry later, or read faster. */
  OVERLOADED: 'OVERLOADED',
} as const;
export type ErrorReason = (typeof ErrorReason)[keyof typeof ErrorReason];

/** The reason of an unexpected error: its cause is in the server log, under the incident id. */
export const INTERNAL_REASON = 'INTERNAL';
