// The boundary between the values a program hands the client library and the messages on the
// wire, both ways. Requests are read strictly against the .proto schema by the one strict
// reader the CLI also uses (proto/strict-json.ts, in its `library` mode): a misspelled or
// lowerCamel field (`warnonly`, `warnOnly`) is an INVALID_ARGUMENT naming it before anything is
// sent, never a silent default; bigints and Dates become the wire's decimal strings and
// Timestamps. Answers get their google.protobuf.Timestamp fields as Dates, so that a time goes
// in and comes out as the same JavaScript type.

import * as grpc from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import { protoType } from '../proto/load.ts';
import { JsonShapeError, readMessageJson } from '../proto/strict-json.ts';
import { ErrorReason } from '../proto/wire.ts';
import { DevcompatError } from './errors.ts';
import type { DescriptorInput, DeviceRef } from './types.ts';

const TIMESTAMP = '.google.protobuf.Timestamp';

/**
 * `request` as message `devcompat.v1.{typeName}` ready for the wire, or a DevcompatError
 * (INVALID_ARGUMENT, with the field in `fieldViolations`) for a field the message does not have.
 */
export function toRequest(typeName: string, request: unknown, at = ''): Record<string, unknown> {
  try {
    return readMessageJson(`devcompat.v1.${typeName}`, request, at, 'library');
  } catch (error) {
    if (!(error instanceof JsonShapeError)) throw error;
    throw new DevcompatError({
      code: grpc.status.INVALID_ARGUMENT,
      message: error.message,
      reason: ErrorReason.INVALID_ARGUMENT,
      fieldViolations: [{ field: error.field, description: error.description }],
    });
  }
}

/** Per message type: the fields (by name) that hold a Timestamp or a message that may contain one. */
const timeFields = new Map<string, protobuf.Field[]>();
/**
 * The same, by the type object: asked once per message received (tens of thousands a second on
 * a check stream), where protobufjs's `fullName` builds its string anew on every read.
 */
const timeFieldsOfType = new WeakMap<protobuf.Type, protobuf.Field[]>();

function fieldsWithTimes(type: protobuf.Type, visiting?: Set<string>): protobuf.Field[] {
  const cached = timeFieldsOfType.get(type);
  if (cached) return cached;
  const found = fieldsWithTimesByName(type, visiting ?? new Set<string>());
  timeFieldsOfType.set(type, found);
  return found;
}

function fieldsWithTimesByName(type: protobuf.Type, visiting: Set<string>): protobuf.Field[] {
  const known = timeFields.get(type.fullName);
  if (known) return known;
  visiting.add(type.fullName);
  const found: protobuf.Field[] = [];
  for (const field of type.fieldsArray) {
    field.resolve();
    const resolved = field.resolvedType;
    if (!(resolved instanceof protobuf.Type)) continue;
    // A recursive type (none today) is walked rather than analysed.
    if (resolved.fullName === TIMESTAMP || visiting.has(resolved.fullName) || fieldsWithTimes(resolved, visiting).length > 0) found.push(field);
  }
  visiting.delete(type.fullName);
  timeFields.set(type.fullName, found);
  return found;
}

function dateOf(timestamp: { seconds?: string | number; nanos?: number }): Date {
  return new Date(Number(timestamp.seconds ?? 0) * 1000 + Math.floor((timestamp.nanos ?? 0) / 1e6));
}

function convert(type: protobuf.Type, message: Record<string, unknown>): void {
  for (const field of fieldsWithTimes(type)) {
    const value = message[field.name];
    if (value === null || value === undefined) continue;
    const resolved = field.resolvedType as protobuf.Type;
    const one = (item: unknown): unknown => {
      if (resolved.fullName === TIMESTAMP) return dateOf(item as { seconds?: string; nanos?: number });
      convert(resolved, item as Record<string, unknown>);
      return item;
    };
    if (field.map) {
      const map = value as Record<string, unknown>;
      for (const key of Object.keys(map)) map[key] = one(map[key]);
    } else if (field.repeated) {
      const list = value as unknown[];
      for (let i = 0; i < list.length; i++) list[i] = one(list[i]);
    } else {
      message[field.name] = one(value);
    }
  }
}

/** `message` (of `devcompat.v1.{typeName}`, fresh from the wire) with its Timestamps as Dates, in place. */
export function fromResponse<T>(typeName: string, message: unknown): T {
  if (message && typeof message === 'object') convert(protoType(`devcompat.v1.${typeName}`), message as Record<string, unknown>);
  return message as T;
}

/** Response types by name: protobufjs's lookup walks the namespace tree each time (the root is loaded once). */

/**
 * The reverse of fromResponse for printing: a copy of `value` with every Date as a
 * google.protobuf.Timestamp object, which protobufjs's `fromObject` reads (it reads a Date as
 * an empty message).
 */
export function withTimestamps(value: unknown): unknown {
  if (value instanceof Date) {
    const ms = value.getTime();
    const seconds = Math.floor(ms / 1000);
    return { seconds: String(seconds), nanos: (ms - seconds * 1000) * 1_000_000 };
  }
  if (Array.isArray(value)) return value.map(withTimestamps);
  if (value && typeof value === 'object' && !(value instanceof Uint8Array)) {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, withTimestamps(item)]));
  }
  return value;
}

/** A DeviceRef as the wire's DeviceRef message. */
export function toRef(ref: DeviceRef): { name: string } | { descriptor: DescriptorInput } {
  return typeof ref === 'string' ? { name: ref } : { descriptor: ref };
}

/**
 * Refuses an option a method does not have (`include_rejected` for `includeRejected`): from
 * JavaScript, or through a loosely typed helper, it would otherwise be ignored without a word.
 */
export function checkOptions(options: object, known: readonly string[]): void {
  for (const key of Object.keys(options)) {
    if (known.includes(key)) continue;
    const message = `unknown option "${key}" (known: ${known.join(', ')})`;
    throw new DevcompatError({
      code: grpc.status.INVALID_ARGUMENT,
      message,
      reason: ErrorReason.INVALID_ARGUMENT,
      fieldViolations: [{ field: key, description: message }],
    });
  }
}
