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
import * as protoLoader from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import { protoPath as healthProtoPath } from 'grpc-health-check';
import descriptor from 'protobufjs/ext/descriptor/index.js';
import { PROTO_FILES, PROTO_LOADER_OPTIONS } from '../../proto/load.ts';
import { pacedByAnswers } from './streams.ts';

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

const FileDescriptorProto = (descriptor as unknown as {
  FileDescriptorProto: { decode(bytes: Uint8Array): FileDescriptor; encode(file: FileDescriptor): { finish(): Uint8Array } };
}).FileDescriptorProto;

function filesOf(definition: protoLoader.PackageDefinition): Map<string, FileDescriptor> {
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
  // One load, so that proto-loader merges each package's files (google.rpc's status and
  // error details, google.protobuf's well-known types) into one file per package.
  const files = filesOf(protoLoader.loadSync([...PROTO_FILES, 'google/rpc/error_details.proto', healthProtoPath], PROTO_LOADER_OPTIONS));
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

/**
 * Adds reflection (v1 and v1alpha) to `server`, built on its first call: the schema above
 * parses every proto file a second time and rewrites it (0.1–0.2 s), which a restart should not
 * wait for, as reflection serves tools (grpcurl, buf curl), not the registry's clients. The
 * services are registered at once, from a reflection over nothing (its definitions are
 * @grpc/reflection's own small protos); each call is handed to the real one's handler, its
 * reading paced by its answers (streams.ts).
 */
export function addReflection(server: Pick<grpc.Server, 'addService'>): void {
  let handlers: Map<string, ReflectionHandler> | undefined;
  const handlerFor = (path: string): ReflectionHandler => {
    if (!handlers) {
      const built = new Map<string, ReflectionHandler>();
      reflectionService().addToServer({
        addService: (service: grpc.ServiceDefinition, implementation: grpc.UntypedServiceImplementation) =>
          built.set(service.ServerReflectionInfo!.path, implementation.ServerReflectionInfo as ReflectionHandler),
      } as unknown as grpc.Server);
      handlers = built;
    }
    const handler = handlers.get(path);
    if (!handler) throw new Error(`reflection: no handler for ${path}`);
    return handler;
  };
  const empty = { files: { fileDescriptorProtos: [] } } as unknown as protoLoader.PackageDefinition;
  new ReflectionService(empty).addToServer({
    addService: (service: grpc.ServiceDefinition) => {
      const path = service.ServerReflectionInfo!.path;
      server.addService(service, {
        // @grpc/reflection writes each answer without looking at `write`'s result: paced here,
        // a client that sends requests and never reads the answers stops being read, instead
        // of making the server buffer answers without bound.
        ServerReflectionInfo: (call: Parameters<ReflectionHandler>[0]) => {
          pacedByAnswers(call);
          handlerFor(path)(call);
        },
      });
    },
  } as unknown as grpc.Server);
}
