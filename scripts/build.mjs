// `npm run build` (and `prepare`, with --clean): compiles the TypeScript sources to dist/ with
// tsconfig.build.json, then copies the files the code reads at run time beside the compiled
// code, at the same relative places as in the checkout (proto/ for the .proto files, migrations/,
// profiles/), so that every `new URL('../x', import.meta.url)` resolves in both layouts; last,
// the schema's JSON made from those .proto files (with the project's modules: --out stays inside
// the checkout, whose node_modules the build's code needs anyway).
// --clean removes dist/ first, so that a deleted source leaves no stale module behind;
// --out <dir> builds somewhere else than dist/ (a test builds into a folder of its own).
import { cpSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = process.argv.indexOf('--out');
const dist = out > 0 ? path.resolve(process.argv[out + 1]) : path.join(root, 'dist');
if (process.argv.includes('--clean')) rmSync(dist, { recursive: true, force: true });

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
const compiled = spawnSync(
  process.execPath,
  [tsc, '-p', path.join(root, 'tsconfig.build.json'), '--outDir', dist, '--tsBuildInfoFile', path.join(dist, '.tsbuildinfo')],
  { stdio: 'inherit' },
);
if (compiled.status !== 0) process.exit(compiled.status ?? 1);

const copy = (from, filter) => cpSync(path.join(root, from), path.join(dist, from), { recursive: true, filter });
copy('proto', (source) => !source.endsWith('.ts') && !source.endsWith('buf.yaml'));
copy('migrations');
copy('profiles');

// The schema's JSON that proto/load.js reads (proto/generated/root.json), made again from the
// .proto files this build ships: a .proto edited without `npm run generate-types` still gives
// a build whose server and CLI speak it (the tests fail on the stale committed copy).
const { ROOT_JSON, schemaJsonText } = await import(pathToFileURL(path.join(dist, 'proto', 'load.js')).href);
writeFileSync(ROOT_JSON, schemaJsonText());
