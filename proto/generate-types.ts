// Generates the TypeScript types of the API's messages (proto/generated/) with proto-loader's own
// generator, as grpc-health-check's `generate-types` script does, so that handlers and the client
// read requests and responses through types that cannot drift from the .proto files. The flags
// mirror PROTO_LOADER_OPTIONS (load.ts): the types describe the objects proto-loader really
// produces. Beside them, root.json: the schema as protobufjs JSON, which protoRoot() (load.ts)
// reads at start instead of parsing the .proto files. `npm run generate-types` rewrites
// proto/generated/; test/generated-types.test.ts generates into a temporary directory and fails
// when the committed files differ.

import { execFileSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PROTO_FILES, schemaJsonText } from './load.ts';

const REPO_ROOT = fileURLToPath(new URL('..', import.meta.url));
export const GENERATED_DIR = path.join(REPO_ROOT, 'proto', 'generated');

const GENERATOR = createRequire(import.meta.url).resolve('@grpc/proto-loader/build/bin/proto-loader-gen-types.js');

/** Writes the generated types into `outDir` (emptied first). */
export function generateTypes(outDir: string = GENERATED_DIR): void {
  rmSync(outDir, { recursive: true, force: true });
  execFileSync(
    process.execPath,
    [
      GENERATOR,
      '--keepCase',
      '--longs=String',
      '--enums=String',
      '--defaults',
      '--oneofs',
      '--includeComments',
      '--grpcLib=@grpc/grpc-js',
      '--importFileExtension=.ts',
      '--includeDirs=proto/',
      `--outDir=${outDir}`,
      ...PROTO_FILES,
    ],
    { cwd: REPO_ROOT, stdio: ['ignore', 'ignore', 'inherit'] },
  );
  writeFileSync(path.join(outDir, 'root.json'), schemaJsonText());
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) generateTypes();
