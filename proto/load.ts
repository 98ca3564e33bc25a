// One way to load the API, shared by the server, the client library, the CLI and the tests,
// so every side agrees on field names and on how int64, enums and oneofs look in JavaScript.

import type * as protoLoader from '@grpc/proto-loader';
import * as grpc from '@grpc/grpc-js';
import protobuf from 'protobufjs';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const PROTO_ROOT = fileURLToPath(new URL('.', import.meta.url));

export const PROTO_FILES = [
  'devcompat/v1/descriptor.proto',
  'devcompat/v1/registry.proto',
  'devcompat/v1/compatibility.proto',
  'devcompat/v1/history.proto',
  'devcompat/v1/watch.proto',
  'devcompat/v1/placement.proto',
  'devcompat/v1/admin.proto',
];

/**
 * proto field names as written (`device_api`), int64 as decimal strings (revisions stay
 * exact), enums as their full names, oneof discriminators present, unset oneof members and
 * `optional` fields absent (presence matters: "no expected_revision" is not "0").
 */
export const PROTO_LOADER_OPTIONS: protoLoader.Options = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
  includeDirs: [PROTO_ROOT],
};

/**
 * The standard gRPC health protocol (grpc.health.v1, written here from the protocol's names and
 * numbers): not part of the API's services, but in the same schema, so that the server builds its
 * definition from ROOT_JSON as it does the API's, and reflection describes it.
 */
export const HEALTH_PROTO = 'grpc/health/v1/health.proto';

/** Every file of the schema: the API's, google.rpc's error details and the health protocol. */
export const SCHEMA_FILES = [...PROTO_FILES, 'google/rpc/error_details.proto', HEALTH_PROTO];

let cached: protoLoader.PackageDefinition | undefined;

/**
 * proto-loader's package definition of the API (the client's services), built from ROOT_JSON
 * as protoRoot() is: the same definitions as loading the .proto files (test/generated-types.test.ts
 * compares them), in less time at each start of a CLI command (the definition and the root
 * together: 87-91 against 119-130 ms on a two-core machine).
 */
export function loadPackageDefinition(): protoLoader.PackageDefinition {
  // proto-loader is loaded here, when first needed, not with this module: the server builds its
  // definitions from protoRoot() and needs it only at the first reflection call (with protobufjs's
  // descriptor extension, which it loads, 20-40 ms of a restart on a two-core machine).
  cached ??= (createRequire(import.meta.url)('@grpc/proto-loader') as typeof protoLoader).fromJSON(schemaJson(), PROTO_LOADER_OPTIONS);
  return cached;
}

let root: protobuf.Root | undefined;

/**
 * The API's schema parsed from its .proto files (field names as written; the well-known
 * google/protobuf types come with protobufjs), as `npm run generate-types` writes it to
 * ROOT_JSON.
 */
export function parseProtoRoot(): protobuf.Root {
  const parsed = new protobuf.Root();
  parsed.resolvePath = (_origin, target) => (target.startsWith('google/protobuf/') ? target : path.join(PROTO_ROOT, target));
  parsed.loadSync(SCHEMA_FILES, { keepCase: true });
  parsed.resolveAll();
  return parsed;
}

/**
 * parseProtoRoot's schema as protobufjs JSON: committed (`npm run generate-types`; test/generated-types.test.ts
 * pins it to the .proto files), and written anew into every build from the .proto files it ships.
 */
export const ROOT_JSON = fileURLToPath(new URL('./generated/root.json', import.meta.url));

/** ROOT_JSON's text, made from the .proto files now. */
export function schemaJsonText(): string {
  return `${JSON.stringify(parseProtoRoot().toJSON(), null, 1)}\n`;
}

/** ROOT_JSON, read anew for each root built from it (protobufjs keeps parts of what it is given). */
function schemaJson(): protobuf.INamespace {
  return JSON.parse(readFileSync(ROOT_JSON, 'utf8')) as protobuf.INamespace;
}

/**
 * The API as protobufjs reflection: for strict JSON reading, JSON output, the server's
 * (de)serializers and google.rpc error details. Loaded once, from ROOT_JSON: protobufjs reads
 * the schema from JSON about twice as fast as it parses the .proto text (23-26 against 44-63 ms
 * on a two-core machine, at every start of the server and of every CLI command).
 */
export function protoRoot(): protobuf.Root {
  if (!root) {
    root = protobuf.Root.fromJSON(schemaJson());
    root.resolveAll();
  }
  return root;
}

/** Message types by full name: protobufjs's lookupType walks the namespace tree on every call. */
const typeCache = new Map<string, protobuf.Type>();

/** A message type of the loaded root (`devcompat.v1.CheckItem`), looked up once. */
export function protoType(fullName: string): protobuf.Type {
  let type = typeCache.get(fullName);
  if (!type) {
    type = protoRoot().lookupType(fullName);
    typeCache.set(fullName, type);
  }
  return type;
}

export interface DevcompatServices {
  RegistryService: grpc.ServiceClientConstructor;
  CompatibilityService: grpc.ServiceClientConstructor;
  HistoryService: grpc.ServiceClientConstructor;
  WatchService: grpc.ServiceClientConstructor;
  PlacementService: grpc.ServiceClientConstructor;
  AdminService: grpc.ServiceClientConstructor;
}

export function loadServices(): DevcompatServices {
  const root = grpc.loadPackageDefinition(loadPackageDefinition()) as any;
  return root.devcompat.v1 as DevcompatServices;
}

/** Each service's definition for a server, by short name, as loadServices gives it (`.service`). */
export type ServiceDefinitions = { readonly [K in keyof DevcompatServices]: { readonly service: grpc.ServiceDefinition } };

/**
 * The services' definitions for a server, built from protoRoot(): the same paths, streaming
 * flags, (de)serializers (protobufjs's, with PROTO_LOADER_OPTIONS) and original names as
 * proto-loader's (loadServices), without building a second root and describing
 * every message type as proto-loader does for reflection: about a tenth of a second of a
 * restart. test/proto-definitions.test.ts pins that they agree with proto-loader reading the
 * .proto files, method by method.
 */
export function serviceDefinitions(): ServiceDefinitions {
  const result: Record<string, { service: grpc.ServiceDefinition }> = {};
  for (const fullName of SERVICE_NAMES) result[fullName.slice(fullName.lastIndexOf('.') + 1)] = { service: serviceDefinition(fullName) };
  return result as unknown as ServiceDefinitions;
}

/** One service's definition (`grpc.health.v1.Health`), built from protoRoot() as serviceDefinitions() builds the API's. */
export function serviceDefinition(fullName: string): grpc.ServiceDefinition {
  const service = protoRoot().lookupService(fullName);
  const definition: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  for (const method of service.methodsArray) {
    const request = method.resolvedRequestType;
    const response = method.resolvedResponseType;
    if (!request || !response) throw new Error(`${fullName}/${method.name}: unresolved message types`);
    definition[method.name] = {
      path: `/${fullName}/${method.name}`,
      requestStream: Boolean(method.requestStream),
      responseStream: Boolean(method.responseStream),
      requestSerialize: serializer(request),
      requestDeserialize: deserializer(request),
      responseSerialize: serializer(response),
      responseDeserialize: deserializer(response),
      originalName: method.name.charAt(0).toLowerCase() + method.name.slice(1),
    };
  }
  return definition as grpc.ServiceDefinition;
}

/** proto-loader's serializer: a plain object to its encoding. */
function serializer(type: protobuf.Type): (value: unknown) => Buffer {
  return (value) => {
    if (Array.isArray(value)) throw new Error(`Failed to serialize message: expected object with ${type.name} structure, got array instead`);
    return type.encode(type.fromObject(value as Record<string, unknown>)).finish() as Buffer;
  };
}

/** proto-loader's deserializer: an encoding to a plain object, as PROTO_LOADER_OPTIONS shape it. */
function deserializer(type: protobuf.Type): (bytes: Buffer) => unknown {
  return (bytes) => type.toObject(type.decode(bytes), PROTO_LOADER_OPTIONS as protobuf.IConversionOptions);
}

/** Fully qualified service names, for health checks and reflection. */
export const SERVICE_NAMES = [
  'devcompat.v1.RegistryService',
  'devcompat.v1.CompatibilityService',
  'devcompat.v1.HistoryService',
  'devcompat.v1.WatchService',
  'devcompat.v1.PlacementService',
  'devcompat.v1.AdminService',
] as const;
