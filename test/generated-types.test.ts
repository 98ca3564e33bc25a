// The message types in proto/generated/ are generated from the .proto files; this test fails
// when someone edits a .proto (or the generator's flags) and forgets `npm run generate-types`,
// so the types the handlers and the client rely on never describe a stale API. The same holds
// for root.json, the schema protoRoot() reads: what it loads is what the .proto files say.

import test from 'ava';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { GENERATED_DIR, generateTypes } from '../proto/generate-types.ts';
import * as protoLoader from '@grpc/proto-loader';
import { loadPackageDefinition, parseProtoRoot, PROTO_FILES, PROTO_LOADER_OPTIONS, protoRoot } from '../proto/load.ts';

function filesUnder(root: string): string[] {
  return readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(root, path.join(entry.parentPath, entry.name)))
    .sort();
}

test('proto/generated/ is what the generator makes of the .proto files today (else: npm run generate-types)', (t) => {
  const fresh = mkdtempSync(path.join(tmpdir(), 'devcompat-generated-'));
  t.teardown(() => rmSync(fresh, { recursive: true, force: true }));
  generateTypes(fresh);
  const expected = filesUnder(fresh);
  t.true(expected.includes(path.join('devcompat', 'v1', 'SyncHostRequest.ts')), 'the generator ran and wrote the messages');
  t.deepEqual(filesUnder(GENERATED_DIR), expected, 'the same files');
  for (const file of expected) {
    t.is(readFileSync(path.join(GENERATED_DIR, file), 'utf8'), readFileSync(path.join(fresh, file), 'utf8'), file);
  }
});

test('the schema protoRoot() loads from root.json is the one parsed from the .proto files', (t) => {
  const loaded = protoRoot();
  t.deepEqual(loaded.toJSON(), parseProtoRoot().toJSON());
  // Resolved, as the parsed one is: a field's message type is there to encode with.
  const field = loaded.lookupType('devcompat.v1.FoundTarget').fields.result;
  t.is(field.resolve().resolvedType?.fullName, '.devcompat.v1.CompatibilityResult');
});

test('the package definition built from root.json is the one proto-loader makes of the .proto files', (t) => {
  const fromFiles = protoLoader.loadSync(PROTO_FILES, PROTO_LOADER_OPTIONS);
  const fromJson = loadPackageDefinition();
  // root.json holds google.rpc's error details and the health protocol too (for protoRoot);
  // nothing else is added.
  const added = Object.keys(fromJson).filter((name) => !(name in fromFiles)).sort();
  t.deepEqual(added, added.filter((name) => name.startsWith('google.rpc.') || name.startsWith('grpc.health.v1.')));
  t.true(added.includes('grpc.health.v1.Health'));
  for (const [name, definition] of Object.entries(fromFiles)) {
    t.true(name in fromJson, name);
    if ('format' in definition) {
      t.deepEqual((fromJson[name] as protoLoader.MessageTypeDefinition<unknown, unknown>).type, definition.type, name);
      continue;
    }
    for (const [method, expected] of Object.entries(definition as protoLoader.ServiceDefinition)) {
      const actual = (fromJson[name] as protoLoader.ServiceDefinition)[method];
      t.deepEqual(
        { path: actual.path, requestStream: actual.requestStream, responseStream: actual.responseStream, originalName: actual.originalName },
        { path: expected.path, requestStream: expected.requestStream, responseStream: expected.responseStream, originalName: expected.originalName },
        `${name}.${method}`,
      );
      t.deepEqual(actual.requestType.type, expected.requestType.type, `${name}.${method} request`);
      t.deepEqual(actual.responseType.type, expected.responseType.type, `${name}.${method} response`);
    }
  }
});
