// Server reflection that third-party clients (grpcurl, buf curl, Postman, grpcio tools) can
// build a schema from. proto-loader's descriptors merge each package's files and record no
// imports (grpc-node#2595), keep type references as written (`Rule`) and name map entries
// after their field (`Labels`); Go's protodesc, behind buf curl and grpcurl, refuses all three
// and with them the whole schema. Here references are fully qualified, each file lists the
// files it uses and map entries are named as protoc names them (`LabelsEntry`). grpc.health.v1
// is described too, so `grpc.health.v1.Health/Check` can be called by name, and so are the
// google.rpc error details, for clients that resolve the `Any` details of our errors
// (ErrorInfo, BadRequest) through reflection.

import type * as grpc from '@grpc/grpc-js';
import type * as protoLoader from '@grpc/proto-loader';
import type { ReflectionService } from '@grpc/reflection';
import { createRequire } from 'node:module';
import { PROTO_LOADER_OPTIONS, SCHEMA_FILES } from '../../proto/load.ts';
import { pacedByAnswers } from './streams.ts';

// @grpc/reflection, proto-loader and protobufjs's descriptor extension are loaded at the first
// reflection call, not at start: together 40-60 ms of a restart on a two-core machine, for a
// service that tools call, not the registry's clients.
const lazyRequire = createRequire(import.meta.url);

interface MessageDescriptor {
  name?: string;
  field?: { name?: string; typeName?: string }[];
  nestedType?: MessageDescriptor[];
  enumType?: { name?: string }[];
  options?: { mapEntry?: boolean } | null;
}

interface FileDescriptor {
  name?: string;
  package?: string;
  dependency?: string[];
  messageType?: MessageDescriptor[];
  enumType?: { name?: string }[];
  service?: { method?: { inputType?: string; outputType?: string }[] }[];
}

interface FileDescriptorCodec {
  decode(bytes: Uint8Array): FileDescriptor;
  encode(file: FileDescriptor): { finish(): Uint8Array };
}

function filesOf(definition: protoLoader.PackageDefinition, FileDescriptorProto: FileDescriptorCodec): Map<string, FileDescriptor> {
  const files = new Map<string, FileDescriptor>();
  for (const entry of Object.values(definition)) {
    const protos = (entry as { fileDescriptorProtos?: Uint8Array[] }).fileDescriptorProtos ?? [];
    for (const bytes of protos) {
      const file = FileDescriptorProto.decode(bytes);
      if (file.name && !files.has(file.name)) files.set(file.name, file);
    }
  }
  return files;
}

/**
 * Names each map's entry type `<FieldInCamelCase>Entry` as protoc does: protobufjs names it after
 * the field alone (`Labels`), which Go's protodesc, and so buf curl and grpcurl, refuse.
 */
function nameMapEntries(message: MessageDescriptor): void {
  for (const nested of message.nestedType ?? []) {
    nameMapEntries(nested);
    if (!nested.options?.mapEntry || !nested.name) continue;
    const field = message.field?.find((candidate) => candidate.typeName?.split('.').pop() === nested.name);
    if (!field?.name || !field.typeName) continue;
    const camel = field.name.replace(/_(.)/g, (_match, letter: string) => letter.toUpperCase());
    const entry = `${camel.charAt(0).toUpperCase()}${camel.slice(1)}Entry`;
    field.typeName = field.typeName.slice(0, field.typeName.length - nested.name.length) + entry;
    nested.name = entry;
  }
}

/** Fully qualified names (`.pkg.Msg.Nested`) of the types a file declares. */
function declaredTypes(file: FileDescriptor): string[] {
  const declared: string[] = [];
  const visit = (scope: string, message: MessageDescriptor) => {
    const name = `${scope}.${message.name}`;
    declared.push(name);
    for (const nested of message.nestedType ?? []) visit(name, nested);
    for (const nested of message.enumType ?? []) declared.push(`${name}.${nested.name}`);
  };
  const scope = file.package ? `.${file.package}` : '';
  for (const message of file.messageType ?? []) visit(scope, message);
  for (const item of file.enumType ?? []) declared.push(`${scope}.${item.name}`);
  return declared;
}

/**
 * Rewrites every type reference of `file` to its fully qualified form, as protoc writes them
 * (proto-loader keeps them as written: `Rule`, `google.protobuf.Timestamp`), and returns the
 * files those references live in.
 */
function qualifyReferences(file: FileDescriptor, declaredIn: Map<string, string>): Set<string> {
  const homes = new Set<string>();
  const qualify = (reference: string | undefined, scope: string): string | undefined => {
    if (!reference) return reference;
    let found: string | undefined;
    if (reference.startsWith('.')) found = reference;
    else {
      // Protobuf scoping: the innermost enclosing scope that declares the name wins.
      for (let at = scope; ; at = at.slice(0, at.lastIndexOf('.'))) {
        if (declaredIn.has(`${at}.${reference}`)) {
          found = `${at}.${reference}`;
          break;
        }
        if (at === '') break;
      }
    }
    const home = found === undefined ? undefined : declaredIn.get(found);
    if (home === undefined) return reference;
    homes.add(home);
    return found;
  };
  const visit = (scope: string, message: MessageDescriptor) => {
    const name = `${scope}.${message.name}`;
    for (const field of message.field ?? []) field.typeName = qualify(field.typeName, name);
    for (const nested of message.nestedType ?? []) visit(name, nested);
  };
  const scope = file.package ? `.${file.package}` : '';
  for (const message of file.messageType ?? []) visit(scope, message);
  for (const service of file.service ?? []) {
    for (const method of service.method ?? []) {
      method.inputType = qualify(method.inputType, scope);
      method.outputType = qualify(method.outputType, scope);
    }
  }
  homes.delete(file.name ?? '');
  return homes;
}

/** Reflection over the API, grpc.health.v1 and google.rpc's error details. */
export function reflectionService(): ReflectionService {
  const protoLoader = lazyRequire('@grpc/proto-loader') as typeof import('@grpc/proto-loader');
  const { FileDescriptorProto } = lazyRequire('protobufjs/ext/descriptor/index.js') as { FileDescriptorProto: FileDescriptorCodec };
  const { ReflectionService } = lazyRequire('@grpc/reflection') as typeof import('@grpc/reflection');
  // One load, so that proto-loader merges each package's files (google.rpc's status and
  // error details, google.protobuf's well-known types) into one file per package.
  const files = filesOf(protoLoader.loadSync(SCHEMA_FILES, PROTO_LOADER_OPTIONS), FileDescriptorProto);
  for (const file of files.values()) for (const message of file.messageType ?? []) nameMapEntries(message);
  const declaredIn = new Map<string, string>();
  for (const [name, file] of files) for (const type of declaredTypes(file)) declaredIn.set(type, name);
  for (const file of files.values()) {
    const dependencies = new Set([...(file.dependency ?? []), ...qualifyReferences(file, declaredIn)]);
    file.dependency = [...dependencies].sort();
  }

  const fileDescriptorProtos = [...files.values()].map((file) => Buffer.from(FileDescriptorProto.encode(file).finish()));
  // The reflection implementation reads only `fileDescriptorProtos` from the definition's entries.
  const definition = { files: { fileDescriptorProtos } } as unknown as protoLoader.PackageDefinition;
  return new ReflectionService(definition);
}

type ReflectionHandler = grpc.handleBidiStreamingCall<unknown, unknown>;

/** The reflection protocol's one method, in both of its versions (as @grpc/reflection serves them). */
export const REFLECTION_PATHS = [
  '/grpc.reflection.v1.ServerReflection/ServerReflectionInfo',
  '/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo',
] as const;

interface RealMethod {
  definition: grpc.MethodDefinition<unknown, unknown>;
  handler: ReflectionHandler;
}

/**
 * Adds reflection (v1 and v1alpha) to `server`, made on its first call: the schema above
 * parses every proto file a second time and rewrites it (0.1–0.2 s), and @grpc/reflection and
 * proto-loader take 40–60 ms to load, which a restart should not wait for, as reflection serves
 * tools (grpcurl, buf curl), not the registry's clients. Both methods are registered at once
 * under their protocol's paths, with (de)serializers and handlers that hand each message and
 * call to @grpc/reflection's own once it is made (test/interop-buf.test.ts calls it through
 * buf curl); each call's reading is paced by its answers (streams.ts).
 */
export function addReflection(server: Pick<grpc.Server, 'addService'>): void {
  let real: Map<string, RealMethod> | undefined;
  // A reflection that could not be made (a broken install) is not made again at every call and
  // message: each call fails with the same cause (grpc-js answers UNKNOWN or INTERNAL).
  let failure: Error | undefined;
  const realFor = (path: string): RealMethod => {
    if (failure) throw failure;
    if (!real) {
      const made = new Map<string, RealMethod>();
      try {
        reflectionService().addToServer({
          addService: (service: grpc.ServiceDefinition, implementation: grpc.UntypedServiceImplementation) =>
            made.set(service.ServerReflectionInfo!.path, {
              definition: service.ServerReflectionInfo!,
              handler: implementation.ServerReflectionInfo as ReflectionHandler,
            }),
        } as unknown as grpc.Server);
      } catch (error) {
        failure = new Error(`server reflection is unavailable: ${(error as Error).message}`);
        throw failure;
      }
      real = made;
    }
    const method = real.get(path);
    if (!method) throw new Error(`reflection: @grpc/reflection serves no ${path}`);
    return method;
  };
  for (const path of REFLECTION_PATHS) {
    const definition: grpc.MethodDefinition<unknown, unknown> = {
      path,
      requestStream: true,
      responseStream: true,
      originalName: 'serverReflectionInfo',
      requestSerialize: (value) => realFor(path).definition.requestSerialize(value),
      requestDeserialize: (bytes) => realFor(path).definition.requestDeserialize(bytes),
      responseSerialize: (value) => realFor(path).definition.responseSerialize(value),
      responseDeserialize: (bytes) => realFor(path).definition.responseDeserialize(bytes),
    };
    server.addService({ ServerReflectionInfo: definition } as grpc.ServiceDefinition, {
      // @grpc/reflection writes each answer without looking at `write`'s result: paced here,
      // a client that sends requests and never reads the answers stops being read, instead
      // of making the server buffer answers without bound.
      ServerReflectionInfo: (call: Parameters<ReflectionHandler>[0]) => {
        pacedByAnswers(call);
        realFor(path).handler(call);
      },
    });
  }
}
