// @devcompat/client as a scheduler gets it: the package is built (packages/client), linked
// into an empty project as node_modules/@devcompat/client, the scheduler guide's examples
// (docs/examples/scheduler/*.ts) are type-checked against the package's .d.ts and compiled
// there, and each runs in a plain `node` process (no tsx) against a real server. Installing
// the packed tarball from the registry's dependencies is .ci/client-pack-check's job (it
// reinstalls, so it is not part of npm test).

import test, { type ExecutionContext } from 'ava';
import { cpSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { REPO_ROOT, run, type ProcessResult } from './helpers/cli.ts';
import { startTestServer } from './helpers/server.ts';

const PACKAGE = path.join(REPO_ROOT, 'packages/client');
const EXAMPLES = path.join(REPO_ROOT, 'docs/examples/scheduler');
const project = mkdtempSync(path.join(tmpdir(), 'devcompat-scheduler-'));
test.after.always(() => rmSync(project, { recursive: true, force: true }));

/** A plain JavaScript scheduler, as the package README shows one. */
const PLAIN_MJS = `
import { DevcompatClient, DevcompatError } from '@devcompat/client';
const client = new DevcompatClient({ address: process.argv[2], actor: 'plain-js' });
await client.syncHost({ name: 'hosts/plain', devices: [{ device_id: 'vf0', descriptor: { vendor: '8086', device_api: 'vfio-pci', type: 'iavf', software_version: '4.8.2' } }] });
const result = await client.check('hosts/plain/devices/vf0', 'hosts/plain/devices/vf0', { deadlineMs: 5000 });
console.log(result.verdict);
try {
  await client.syncHost({ name: 'hosts/plain', devices: [{ device_id: 'vf0', descriptor: { vendor: '8086', device_api: 'vfio-pci', type: 'iavf', software_version: '4.8.2', rules: { x: { op: 'COMPARE_OP_EQUAL', warnonly: true } } } }] });
} catch (error) {
  console.log(error instanceof DevcompatError, error.codeName, error.fieldViolations[0].field);
}
client.close();
`;

test.before('build the package and compile the examples against its declarations', async (t) => {
  t.timeout(600_000, 'building the package on a loaded machine');
  const build = await run(process.execPath, [path.join(PACKAGE, 'scripts/build.mjs')], { timeoutMs: 540_000 });
  if (build.code !== 0) throw new Error(`the package build failed:\n${build.stdout}${build.stderr}`);
  mkdirSync(path.join(project, 'node_modules/@devcompat'), { recursive: true });
  symlinkSync(PACKAGE, path.join(project, 'node_modules/@devcompat/client'), 'dir');
  cpSync(EXAMPLES, path.join(project, 'src'), { recursive: true });
  writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'a-scheduler', private: true, type: 'module' }));
  writeFileSync(path.join(project, 'plain.mjs'), PLAIN_MJS);
  writeFileSync(
    path.join(project, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        strict: true,
        // The package's own .d.ts are checked too (not the third-party ones below them).
        skipLibCheck: false,
        rootDir: 'src',
        outDir: 'out',
        typeRoots: [path.join(REPO_ROOT, 'node_modules/@types')],
        types: ['node'],
      },
      include: ['src'],
    }),
  );
  const compile = await run(process.execPath, [path.join(REPO_ROOT, 'node_modules/typescript/bin/tsc'), '-p', project], { cwd: project, timeoutMs: 540_000 });
  if (compile.code !== 0) throw new Error(`the examples do not type-check against the package:\n${compile.stdout}${compile.stderr}`);
});

/** `node <file> <address>` in the project, with no loader: what a user's plain node runs. */
async function runAgainstServer(t: ExecutionContext, file: string): Promise<ProcessResult> {
  const { server } = await startTestServer(t);
  const result = await run(process.execPath, [file, server.address], { cwd: project, timeoutMs: 60_000 });
  t.is(result.code, 0, `${file} failed:\n${result.stdout}${result.stderr}`);
  return result;
}

test('a plain .mjs imports the built package and talks to a real server; a misspelled field is refused, named', async (t) => {
  const { stdout } = await runAgainstServer(t, 'plain.mjs');
  t.deepEqual(stdout.trim().split('\n'), ['VERDICT_COMPATIBLE', 'true INVALID_ARGUMENT devices[0].descriptor.rules["x"].warnonly']);
});

test('every guide example is compiled: the examples folder and the compiled output match', (t) => {
  const examples = readdirSync(EXAMPLES).filter((name) => name.endsWith('.ts'));
  t.true(examples.length >= 5);
  t.deepEqual(readdirSync(path.join(project, 'out')).sort(), examples.map((name) => name.replace(/\.ts$/, '.js')).sort());
});

test('types-at-runtime: every value is what the .d.ts says (Dates, kind, revisions, strict fields)', async (t) => {
  const { stdout } = await runAgainstServer(t, 'out/types-at-runtime.js');
  t.is(stdout.trim(), 'types match the values');
});

test('nic-vf: FindTargets ranks the VFs with the same firmware and says why the others are rejected', async (t) => {
  const { stdout } = await runAgainstServer(t, 'out/nic-vf.js');
  t.deepEqual(stdout.trim().split('\n'), [
    'target 1: hosts/nic-b/devices/0000:3b:00.2',
    'target 2: hosts/nic-b/devices/0000:3b:00.3',
    'rejected: hosts/nic-c/devices/0000:3b:00.2 (software_version)',
    'rejected: hosts/nic-c/devices/0000:3b:00.3 (software_version)',
    'summary: 2 compatible of 4 at revision 3',
  ]);
});

test('vgpu: one check, then a batch where one pair is incompatible and one target does not exist', async (t) => {
  const { stdout } = await runAgainstServer(t, 'out/vgpu.js');
  const lines = stdout.trim().split('\n');
  t.is(lines[0], 'gpu-a -> gpu-b: VERDICT_COMPATIBLE');
  t.is(lines[1], 'hosts/gpu-b/devices/vgpu0: VERDICT_COMPATIBLE');
  t.is(lines[2], 'hosts/gpu-c/devices/vgpu0: VERDICT_INCOMPATIBLE');
  t.regex(lines[3], /^hosts\/missing\/devices\/vgpu0: error NOT_FOUND /);
  t.is(lines.length, 4);
});

test('watch-targets: the map the diffs are applied to follows a drained host out and a new host in', async (t) => {
  const { stdout } = await runAgainstServer(t, 'out/watch-targets.js');
  const sets = stdout
    .trim()
    .split('\n')
    .map((line) => line.replace(/^revision \d+: /, '').split(' ').sort().join(' '));
  t.deepEqual(sets, ['hosts/w-1/devices/gvt0 hosts/w-2/devices/gvt0', 'hosts/w-2/devices/gvt0', 'hosts/w-2/devices/gvt0 hosts/w-3/devices/gvt0']);
});

test('mirror: lists, then follows the feed up to a write it waited for', async (t) => {
  const { stdout } = await runAgainstServer(t, 'out/mirror.js');
  t.deepEqual(stdout.trim().split('\n'), ['mirror at revision 1: 1 host(s)', 'after revision 2: 3 iavf device(s) on 2 host(s)']);
});
