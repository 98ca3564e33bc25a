// What every handler shares: the unary error boundary, the actor (authenticated identity or
// metadata), paging.

import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { invalidArgument, Violations } from '../core/errors.ts';
import type { WriteOrigin } from '../core/registry.ts';
import { optionalRevision, validateActor } from '../core/resources.ts';
import { timestampToMs } from './convert.ts';
import { toServiceError } from './errors.ts';
import { principalOf } from './auth.ts';
import { SERVER_ACTOR } from '../core/leases.ts';
import type { GetDeviceRequest__Output } from '../../proto/generated/devcompat/v1/GetDeviceRequest.ts';
import { ACTOR_METADATA_KEY, isValidReason, REASON_METADATA_KEY, REASON_RULE } from '../../proto/wire.ts';

export const DEFAULT_PAGE_SIZE = 100;
export const MAX_PAGE_SIZE = 1000;

/** Decode, call the core, map the error, encode: etcd's v3rpc shape, for unary calls. */
export function unary<Request, Response>(
  log: Logger,
  handler: (request: Request, call: grpc.ServerUnaryCall<Request, Response>) => Response | Promise<Response>,
): grpc.handleUnaryCall<Request, Response> {
  return (call, callback) => {
    Promise.resolve()
      .then(() => handler(call.request, call))
      .then(
        (response) => callback(null, response),
        (error) => callback(toServiceError(error, log)),
      );
  };
}

/** The `x-devcompat-actor` metadata; the server's own actor is refused, with or without TLS. */
export function actorOf(metadata: grpc.Metadata): string {
  const values = metadata.get(ACTOR_METADATA_KEY);
  const actor = validateActor(values.length > 0 ? String(values[0]) : undefined);
  if (actor === SERVER_ACTOR) {
    throw invalidArgument([{ field: ACTOR_METADATA_KEY, description: `"${SERVER_ACTOR}" is reserved for the server's own entries` }]);
  }
  return actor;
}

/**
 * Who writes and why. With TLS the actor is the authenticated identity and
 * `x-devcompat-actor` only says on whose behalf; without TLS the metadata is the actor.
 */
export function originOf(call: { readonly metadata: grpc.Metadata }): WriteOrigin {
  const values = call.metadata.get(REASON_METADATA_KEY);
  const reason = values.length > 0 ? String(values[0]) : '';
  if (!isValidReason(reason)) throw invalidArgument([{ field: REASON_METADATA_KEY, description: REASON_RULE }]);
  const claimed = actorOf(call.metadata);
  const principal = principalOf(call);
  if (!principal) return { actor: claimed, reason };
  return { actor: principal.identity, reason, onBehalfOf: call.metadata.get(ACTOR_METADATA_KEY).length > 0 ? claimed : '' };
}

/** The point-in-time fields that every request with `as_of` shares. */
export type AsOfInput = Pick<GetDeviceRequest__Output, 'as_of_revision' | 'as_of_time'>;

/** `as_of_revision` / `as_of_time` of a request: at most one; none = now. */
export function asOfOf(request: AsOfInput): { revision?: number; time?: number } | undefined {
  const violations = new Violations();
  const revision = optionalRevision(request.as_of_revision, 'as_of_revision', violations) || undefined;
  violations.throwIfAny();
  const time = timestampToMs(request.as_of_time);
  if (revision !== undefined && time !== undefined) {
    throw invalidArgument([{ field: 'as_of_time', description: 'set at most one of as_of_revision and as_of_time' }]);
  }
  if (revision === undefined && time === undefined) return undefined;
  return { revision, time };
}

export function pageSize(value: number | undefined): number {
  const size = value ?? 0;
  if (size < 0) throw invalidArgument([{ field: 'page_size', description: 'must not be negative' }]);
  if (size === 0) return DEFAULT_PAGE_SIZE;
  return Math.min(size, MAX_PAGE_SIZE);
}

/**
 * Page tokens are opaque to clients: base64url JSON holding the cursor and a fingerprint of
 * the filters, so a token is refused with a clear error when reused with other filters.
 */
export function encodePageToken(filter: unknown, cursor: unknown): string {
  return Buffer.from(JSON.stringify({ f: JSON.stringify(filter), c: cursor })).toString('base64url');
}

/** What a cursor inside a page token must look like; anything else is not a token this server issued. */
export type CursorShape<Cursor> = (cursor: unknown) => cursor is Cursor;

/** A cursor that is one string (a host id). */
export const STRING_CURSOR: CursorShape<string> = (cursor): cursor is string => typeof cursor === 'string';
/** A cursor that is two strings (host and device, host and claim). */
export const STRING_PAIR_CURSOR: CursorShape<[string, string]> = (cursor): cursor is [string, string] =>
  Array.isArray(cursor) && cursor.length === 2 && cursor.every((part) => typeof part === 'string');
/** A cursor that is two whole numbers from 0 (revision and entry). */
export const POSITION_CURSOR: CursorShape<[number, number]> = (cursor): cursor is [number, number] =>
  Array.isArray(cursor) && cursor.length === 2 && cursor.every((part) => Number.isSafeInteger(part) && part >= 0);

export function decodePageToken<Cursor>(token: string | undefined, filter: unknown, shape: CursorShape<Cursor>): Cursor | undefined {
  if (!token) return undefined;
  let parsed: { f?: unknown; c?: unknown };
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw invalidArgument([{ field: 'page_token', description: 'is not a page token issued by this server' }]);
  }
  if (typeof parsed !== 'object' || parsed === null || parsed.c === undefined) {
    throw invalidArgument([{ field: 'page_token', description: 'is not a page token issued by this server' }]);
  }
  if (parsed.f !== JSON.stringify(filter)) {
    throw invalidArgument([
      { field: 'page_token', description: 'was issued for different filters: repeat the filters of the first call' },
    ]);
  }
  // The fingerprint matched, so a cursor of another shape was altered: refused, never read as
  // a position (it would give an empty last page, or start again from the first).
  if (!shape(parsed.c)) throw invalidArgument([{ field: 'page_token', description: 'is not a page token issued by this server' }]);
  return parsed.c;
}
