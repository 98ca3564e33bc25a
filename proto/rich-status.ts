// google.rpc.Status with ErrorInfo and BadRequest details, as gRPC's richer error model
// carries them in the `grpc-status-details-bin` trailer. Shared by the server (encode) and
// the client (decode), so both read the same vendored messages.

import { protoRoot } from './load.ts';
import { ERROR_DOMAIN } from './wire.ts';

const root = protoRoot();
const StatusType = root.lookupType('google.rpc.Status');
const ErrorInfoType = root.lookupType('google.rpc.ErrorInfo');
const BadRequestType = root.lookupType('google.rpc.BadRequest');

const TYPE_URL_PREFIX = 'type.googleapis.com/';

export interface FieldViolationDetail {
  field: string;
  description: string;
}

export interface RichStatus {
  code: number;
  message: string;
  reason?: string;
  metadata?: Record<string, string>;
  fieldViolations?: FieldViolationDetail[];
}

/** The google.rpc.Status message as a plain object (for embedding in stream results). */
export function statusObject(status: RichStatus): { code: number; message: string; details: { type_url: string; value: Uint8Array }[] } {
  const details: { type_url: string; value: Uint8Array }[] = [];
  if (status.reason) {
    details.push({
      type_url: TYPE_URL_PREFIX + 'google.rpc.ErrorInfo',
      value: ErrorInfoType.encode(
        ErrorInfoType.fromObject({ reason: status.reason, domain: ERROR_DOMAIN, metadata: status.metadata ?? {} }),
      ).finish(),
    });
  }
  if (status.fieldViolations && status.fieldViolations.length > 0) {
    details.push({
      type_url: TYPE_URL_PREFIX + 'google.rpc.BadRequest',
      value: BadRequestType.encode(BadRequestType.fromObject({ field_violations: status.fieldViolations })).finish(),
    });
  }
  return { code: status.code, message: status.message, details };
}

export function encodeStatus(status: RichStatus): Buffer {
  return Buffer.from(StatusType.encode(StatusType.fromObject(statusObject(status))).finish());
}

interface StatusLike {
  code?: number;
  message?: string;
  details?: { type_url?: string; value?: Uint8Array | Buffer }[];
}

/** Reads a google.rpc.Status (bytes or an already-decoded object) back into a RichStatus. */
export function decodeStatus(input: Uint8Array | StatusLike): RichStatus {
  const status = (
    input instanceof Uint8Array ? StatusType.toObject(StatusType.decode(input), { defaults: true }) : input
  ) as StatusLike;
  const result: RichStatus = { code: status.code ?? 0, message: status.message ?? '' };
  for (const detail of status.details ?? []) {
    if (!detail.value) continue;
    const bytes = new Uint8Array(detail.value);
    if (detail.type_url === TYPE_URL_PREFIX + 'google.rpc.ErrorInfo') {
      const info = ErrorInfoType.toObject(ErrorInfoType.decode(bytes), { defaults: true }) as {
        reason: string;
        metadata: Record<string, string>;
      };
      result.reason = info.reason;
      result.metadata = info.metadata;
    } else if (detail.type_url === TYPE_URL_PREFIX + 'google.rpc.BadRequest') {
      const bad = BadRequestType.toObject(BadRequestType.decode(bytes), { defaults: true }) as {
        field_violations: FieldViolationDetail[];
      };
      result.fieldViolations = bad.field_violations.map(({ field, description }) => ({ field, description }));
    }
  }
  return result;
}
