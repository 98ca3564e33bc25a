// Builds @devcompat/client into dist/: a clean tsc build of the client library's sources
// (../../client, ../../proto; see tsconfig.json), then the .proto files and the schema's JSON
// the library loads at run time, copied where proto/load.js looks for them. Run by `npm run build` and `prepack`.
// Fails when the build pulls in anything of the server, the agent or the CLI, or a module the
// package does not depend on: installing the client must never bring in the server.

import { execFileSync } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const pkg = fileURLToPath(new URL('..', import.meta.url));
const repo = path.resolve(pkg, '../..');
const dist = path.join(pkg, 'dist');
const require = createRequire(import.meta.url);

rmSync(dist, { recursive: true, force: true });
execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', path.join(pkg, 'tsconfig.json')], { stdio: 'inherit' });

for (const folder of ['devcompat/v1', 'google/rpc', 'grpc/health/v1']) {
  const from = path.join(repo, 'proto', folder);
  for (const file of readdirSync(from).filter((name) => name.endsWith('.proto'))) {
    cpSync(path.join(from, file), path.join(dist, 'proto', folder, file));
  }
}
// The schema as protobufjs JSON, which proto/load.js reads instead of parsing the .proto files:
// made from the .proto files just copied (never a stale committed copy).
const { ROOT_JSON, schemaJsonText } = await import(pathToFileURL(path.join(dist, 'proto', 'load.js')).href);
mkdirSync(path.dirname(ROOT_JSON), { recursive: true });
writeFileSync(ROOT_JSON, schemaJsonText());

// What the build emitted: only client/ and proto/, importing only Node built-ins, relative
// files and the package's dependencies.
const { dependencies } = JSON.parse(readFileSync(path.join(pkg, 'package.json'), 'utf8'));
const allowed = new Set(Object.keys(dependencies));
const problems = [];
const walk = (dir) =>
  readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? walk(full) : [full];
  });
for (const file of walk(dist)) {
  const relative = path.relative(dist, file);
  if (!/^(client|proto)\//.test(relative) || relative.startsWith('client/commands/') || relative === 'client/cli.js') {
    problems.push(`${relative}: not part of the client library`);
  }
  if (!file.endsWith('.js')) continue;
  for (const [, specifier] of readFileSync(file, 'utf8').matchAll(/(?:^|\n)\s*(?:import|export)[^'"]*?from\s*['"]([^'"]+)['"]/g)) {
    if (specifier.startsWith('.') || specifier.startsWith('node:')) continue;
    const name = specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0];
    if (!allowed.has(name)) problems.push(`${relative}: imports ${specifier}, which is not a dependency of @devcompat/client`);
  }
}
if (problems.length > 0) {
  console.error(`@devcompat/client: the build is not self-contained:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
