// Strict request decoding. protobufjs is lenient: it decodes a string field holding invalid
// UTF-8 into replacement characters (so a value is stored that the client never sent), and
// grpc-js answers a message it cannot decode (truncated, a bad wire type) with INTERNAL, the
// status of a server bug. Here every request's raw bytes are walked against its message type
// first (`checkWire`): a truncated or malformed message, or a string field that is not valid
// UTF-8, is refused with INVALID_ARGUMENT naming the field, before any handler runs.
//
// grpc-js turns any exception in a request deserializer into INTERNAL, so the wrapped
// deserializer does not throw: it returns a `RefusedRequest`, and the server interceptor
// `refuseMalformedRequests` answers it with the INVALID_ARGUMENT status instead of passing it
// to the handler (for streams too: the first refused message ends the call).

import * as grpc from '@grpc/grpc-js';
import { isUtf8 } from 'node:buffer';
import type { Logger } from 'pino';
import protobuf from 'protobufjs';
import type { DevcompatServices } from '../../proto/load.ts';
import { protoRoot } from '../../proto/load.ts';
import { invalidArgument, type FieldViolation } from '../core/errors.ts';
import { toServiceError } from './errors.ts';

/** A request the strict decoder refused: never reaches a handler. */
export class RefusedRequest {
  constructor(readonly violation: FieldViolation) {}
}

const TRUNCATED = 'the message is truncated or malformed (not a valid protobuf encoding)';

/** The first problem in `bytes` as a `type` message, or undefined when it is well-formed. */
export function checkWire(type: protobuf.Type, bytes: Uint8Array): FieldViolation | undefined {
  // Well-formed requests are the rule: walk without naming anything first (a name per field
  // was most of the cost), and walk again naming fields only when there is a problem to name.
  if (walk(type, bytes, 0, bytes.length, '', false) === undefined) return undefined;
  return walk(type, bytes, 0, bytes.length, '', true);
}

/** What an unnamed walk returns for any problem (the named walk then finds and names it). */
const PROBLEM: FieldViolation = { field: '', description: 'malformed' };

function varint(buf: Uint8Array, pos: number, end: number): [value: number, next: number] | undefined {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < 10; i++) {
    if (pos >= end) return undefined;
    const byte = buf[pos++];
    value += (byte & 0x7f) * scale;
    if (byte < 0x80) return [value, pos];
    scale *= 128;
  }
  return undefined;
}

function walk(type: protobuf.Type, buf: Uint8Array, start: number, end: number, path: string, named: boolean): FieldViolation | undefined {
  const truncated = (): FieldViolation => (named ? { field: (path || 'request').replace(/^\./, ''), description: TRUNCATED } : PROBLEM);
  const seen = named ? new Map<number, number>() : undefined;
  let pos = start;
  while (pos < end) {
    const tag = varint(buf, pos, end);
    if (!tag) return truncated();
    pos = tag[1];
    const number = Math.floor(tag[0] / 8);
    const wire = tag[0] % 8;
    if (number === 0) return truncated();
    const field = type.fieldsById[number];
    switch (wire) {
      case 0: {
        const skipped = varint(buf, pos, end);
        if (!skipped) return truncated();
        pos = skipped[1];
        break;
      }
      case 1:
        pos += 8;
        break;
      case 5:
        pos += 4;
        break;
      case 2: {
        const length = varint(buf, pos, end);
        if (!length || length[1] + length[0] > end) return truncated();
        const from = length[1];
        pos = from + length[0];
        if (!field) break;
        let name = '';
        if (seen) {
          const index = seen.get(number) ?? 0;
          seen.set(number, index + 1);
          name = `${path}.${field.name}${field.repeated && !field.map ? `[${index}]` : ''}`;
        }
        const problem = checkField(field, buf, from, pos, name, named);
        if (problem) return problem;
        break;
      }
      default:
        // Groups (3, 4) do not exist in proto3; 6 and 7 are no wire types.
        return truncated();
    }
    if (pos > end) return truncated();
  }
  return undefined;
}

function checkField(field: protobuf.Field, buf: Uint8Array, from: number, to: number, name: string, named: boolean): FieldViolation | undefined {
  if (field.type === 'string' && !field.map) {
    if (isUtf8(buf.subarray(from, to))) return undefined;
    return named ? { field: name.replace(/^\./, ''), description: 'is not valid UTF-8' } : PROBLEM;
  }
  if (!field.map && field.resolvedType instanceof protobuf.Type) return walk(field.resolvedType, buf, from, to, name, named);
  if (!field.map) return undefined;
  const field_ = name.replace(/^\./, '');
  // A map entry is a message { key = 1; value = 2; }.
  const keyType = (field as unknown as protobuf.MapField).keyType;
  const valueType = field.resolvedType;
  const parts = [...entryParts(buf, from, to)];
  if (parts.includes('truncated')) return { field: field_, description: TRUNCATED };
  // The entry is named by its key when the key is readable: `attributes["fence"]`.
  let entryName = name;
  for (const part of parts as Exclude<EntryPart, 'truncated'>[]) {
    if (part.number !== 1 || keyType !== 'string') continue;
    const key = buf.subarray(part.from, part.to);
    if (!isUtf8(key)) return { field: field_, description: 'a map key is not valid UTF-8' };
    if (named) entryName = `${name}[${JSON.stringify(Buffer.from(key).toString('utf8'))}]`;
  }
  for (const part of parts as Exclude<EntryPart, 'truncated'>[]) {
    if (part.number === 2) {
      if (field.type === 'string' && !isUtf8(buf.subarray(part.from, part.to))) {
        return { field: entryName.replace(/^\./, ''), description: 'is not valid UTF-8' };
      }
      if (valueType instanceof protobuf.Type) {
        const problem = walk(valueType, buf, part.from, part.to, entryName, named);
        if (problem) return problem;
      }
    }
  }
  return undefined;
}

type EntryPart = { number: number; from: number; to: number } | 'truncated';

/** The length-delimited parts of a map entry (other wire types are skipped). */
function* entryParts(buf: Uint8Array, start: number, end: number): Generator<EntryPart> {
  let pos = start;
  while (pos < end) {
    const tag = varint(buf, pos, end);
    if (!tag) return yield 'truncated';
    pos = tag[1];
    const wire = tag[0] % 8;
    if (wire === 2) {
      const length = varint(buf, pos, end);
      if (!length || length[1] + length[0] > end) return yield 'truncated';
      yield { number: Math.floor(tag[0] / 8), from: length[1], to: length[1] + length[0] };
      pos = length[1] + length[0];
    } else if (wire === 0) {
      const skipped = varint(buf, pos, end);
      if (!skipped) return yield 'truncated';
      pos = skipped[1];
    } else if (wire === 1) pos += 8;
    else if (wire === 5) pos += 4;
    else return yield 'truncated';
    if (pos > end) return yield 'truncated';
  }
}

type StrictServices = { readonly [K in keyof DevcompatServices]: { readonly service: grpc.ServiceDefinition } };

/** The services (proto/load.ts: serviceDefinitions, or loadServices) with every request deserializer strict (see the header). */
export function strictServices(services: StrictServices | DevcompatServices): StrictServices {
  const root = protoRoot();
  const result: Record<string, { service: grpc.ServiceDefinition }> = {};
  for (const [serviceName, constructor] of Object.entries(services) as [string, { service?: grpc.ServiceDefinition }][]) {
    // The loaded package holds the message types too: only services have a definition.
    if (!constructor?.service) continue;
    const definition: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
    for (const [methodName, method] of Object.entries(constructor.service)) {
      const type = root.lookupService(`devcompat.v1.${serviceName}`).methods[methodName]?.resolvedRequestType;
      if (!type) throw new Error(`no request type for devcompat.v1.${serviceName}/${methodName}`);
      const lenient = method.requestDeserialize;
      definition[methodName] = {
        ...method,
        requestDeserialize: (bytes: Buffer) => {
          const problem = checkWire(type, bytes);
          if (problem) return new RefusedRequest(problem);
          try {
            return lenient(bytes);
          } catch {
            return new RefusedRequest({ field: 'request', description: TRUNCATED });
          }
        },
      };
    }
    result[serviceName] = { service: definition };
  }
  return result as unknown as StrictServices;
}

/** Answers a RefusedRequest with INVALID_ARGUMENT (google.rpc.BadRequest naming the field). */
export function refuseMalformedRequests(log: Logger): grpc.ServerInterceptor {
  return (_method, call) =>
    new grpc.ServerInterceptingCall(call, {
      start: (next) =>
        next(
          new grpc.ServerListenerBuilder()
            .withOnReceiveMessage((message, forward) => {
              if (message instanceof RefusedRequest) {
                call.sendStatus(toServiceError(invalidArgument([message.violation]), log) as grpc.StatusObject);
                return;
              }
              forward(message);
            })
            .build(),
        ),
    });
}
