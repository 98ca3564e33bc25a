// The message types in proto/generated/ are generated from the .proto files; this test fails
// when someone edits a .proto (or the generator's flags) and forgets `npm run generate-types`,
// so the types the handlers and the client rely on never describe a stale API. The same holds
// for root.json, the schema protoRoot() reads: what it loads is what the .proto files say.

import test from 'ava';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { GENERATED_DIR, generateTypes } from '../proto/generate-types.ts';
import { parseProtoRoot, protoRoot } from '../proto/load.ts';

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
