// The one table that maps domain errors to gRPC. Domain errors carry a google.rpc.ErrorInfo
// (domain `devcompat`) and, for bad input, a google.rpc.BadRequest listing every field.
// Anything unexpected becomes a generic INTERNAL; its cause is logged, never sent.

import * as grpc from '@grpc/grpc-js';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { DomainError, type ErrorReason } from '../core/errors.ts';
import { encodeStatus, statusObject, type RichStatus } from '../../proto/rich-status.ts';
import { INTERNAL_REASON, STATUS_DETAILS_KEY } from '../../proto/wire.ts';

const STATUS_BY_REASON: Record<ErrorReason, grpc.status> = {
  INVALID_ARGUMENT: grpc.status.INVALID_ARGUMENT,
  NOT_FOUND: grpc.status.NOT_FOUND,
  ALREADY_EXISTS: grpc.status.ALREADY_EXISTS,
  REVISION_MISMATCH: grpc.status.ABORTED,
  FAILED_PRECONDITION: grpc.status.FAILED_PRECONDITION,
  REVISION_COMPACTED: grpc.status.OUT_OF_RANGE,
  PERMISSION_DENIED: grpc.status.PERMISSION_DENIED,
  UNAUTHENTICATED: grpc.status.UNAUTHENTICATED,
  UNAVAILABLE: grpc.status.UNAVAILABLE,
  WATCH_TOO_SLOW: grpc.status.RESOURCE_EXHAUSTED,
  CAPACITY_EXHAUSTED: grpc.status.ABORTED,
  OVERLOADED: grpc.status.RESOURCE_EXHAUSTED,
};

export function richStatusOf(error: unknown, log: Logger): RichStatus {
  if (error instanceof DomainError) {
    return {
      code: STATUS_BY_REASON[error.reason],
      message: error.message,
      reason: error.reason,
      metadata: { ...error.metadata },
      fieldViolations: error.violations.map(({ field, description }) => ({ field, description })),
    };
  }
  const incident = randomUUID();
  log.error({ err: error, incident }, 'internal error');
  return {
    code: grpc.status.INTERNAL,
    message: `internal error (incident ${incident}; the cause is in the server log)`,
    reason: INTERNAL_REASON,
    metadata: { incident },
  };
}

export function toServiceError(error: unknown, log: Logger): Partial<grpc.StatusObject> {
  const status = richStatusOf(error, log);
  const metadata = new grpc.Metadata();
  metadata.set(STATUS_DETAILS_KEY, encodeStatus(status));
  return { code: status.code, details: status.message, metadata };
}

/** A google.rpc.Status object for an error that belongs to one item of a stream. */
export function toStatusMessage(error: unknown, log: Logger): ReturnType<typeof statusObject> {
  return statusObject(richStatusOf(error, log));
}
