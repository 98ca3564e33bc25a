// The compiled build, as the installed package runs it (dist/client/main.js, no TypeScript
// loader anywhere, the storage worker included), driven through a backup taken while writes
// go on, a restore, and a restart: a broken build, a module that only runs under tsx, or a
// backup whose head does not match its contents fails here.
//
// The build goes to a folder of its own inside the checkout (.tmp/, so that the compiled code
// finds node_modules as the installed package would find its dependencies), never to dist/.

import test from 'ava';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { DevcompatClient } from '../client/client.ts';
import { REPO_ROOT, fixture, run, spawnWithOutput, type ChildOutput } from './helpers/cli.ts';
import { tempDir } from './helpers/server.ts';

let buildRoot: string | undefined;
let built: Promise<string> | undefined;
test.after.always(() => {
  if (buildRoot) rmSync(buildRoot, { recursive: true, force: true });
});

/** Builds once into .tmp/build-*, with package.json beside dist/ as in the package; resolves to the CLI. */
function build(): Promise<string> {
  built ??= (async () => {
    mkdirSync(path.join(REPO_ROOT, '.tmp'), { recursive: true });
    buildRoot = mkdtempSync(path.join(REPO_ROOT, '.tmp', 'build-'));
    const result = await run(process.execPath, ['scripts/build.mjs', '--clean', '--out', path.join(buildRoot, 'dist')], { timeoutMs: 600_000 });
    if (result.code !== 0) throw new Error(`the build failed:\n${result.stdout}\n${result.stderr}`);
    copyFileSync(path.join(REPO_ROOT, 'package.json'), path.join(buildRoot, 'package.json'));
    return path.join(buildRoot, 'dist', 'client', 'main.js');
  })();
  return built;
}

/** A field of --json output, by its proto name or its proto3 JSON (lowerCamel) name. */
function field(object: Record<string, unknown>, name: string): string {
  const camel = name.replace(/_([a-z])/g, (_, letter: string) => letter.toUpperCase());
  return String(object[name] ?? object[camel]);
}

interface Serving {
  readonly child: ChildOutput;
  readonly address: string;
}

async function serve(main: string, db: string): Promise<Serving> {
  const child = spawnWithOutput(process.execPath, [main, 'serve', '--db', db, '--address', '127.0.0.1:0', '--lease-ttl', '1h', '--log-level', 'info']);
  const line = await child.waitForLine((text) => text.includes('"msg":"devcompat serving"'), 60_000);
  return { child, address: (JSON.parse(line) as { address: string }).address };
}

async function stop(server: Serving): Promise<void> {
  server.child.child.kill('SIGTERM');
  const { code } = await server.child.exited;
  if (code !== 0) throw new Error(`the server exited ${code}: ${server.child.stderr.join('\n')}`);
}

test('the compiled CLI runs without tsx: --version, --help, and no .ts module is loaded', async (t) => {
  t.timeout(600_000);
  const main = await build();
  const version = await run(process.execPath, [main, '--version']);
  t.is(version.code, 0, version.stderr);
  t.is(version.stdout.trim(), JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')).version);
  const help = await run(process.execPath, [main, '--help']);
  t.is(help.code, 0, help.stderr);
  t.regex(help.stdout, /serve .*run the registry server/);
  t.regex(help.stdout, /backup <file>/);
  // The compiled tree holds JavaScript, declarations and the files read at run time; no TypeScript source.
  const dist = path.dirname(path.dirname(main));
  const files = readdirSync(dist, { recursive: true }).map(String);
  t.false(files.some((file) => file.endsWith('.ts') && !file.endsWith('.d.ts')), 'no .ts source in dist');
  t.true(files.includes(path.join('server', 'store', 'sqlite-worker.js')));
  t.true(files.includes(path.join('server', 'server.d.ts')));
  t.true(files.some((file) => file.startsWith('migrations') && file.endsWith('.sql')));
  t.true(files.some((file) => file.endsWith('admin.proto')));
});

test('backup while writes go on, restore, verify --expect-head, and serve the restored file (compiled build)', async (t) => {
  t.timeout(600_000);
  const main = await build();
  const dir = tempDir(t);
  const db = path.join(dir, 'registry.db');
  const cli = (address: string, ...args: string[]) => run(process.execPath, [main, '--address', address, ...args], { timeoutMs: 120_000 });

  const first = await serve(main, db);
  t.teardown(() => first.child.child.kill('SIGKILL'));
  const synced = await cli(first.address, 'sync', 'gvt-a', fixture('gvt-host.json'));
  t.is(synced.code, 0, synced.stderr);

  // Writes keep coming while the backup is taken: a label bumped on every write.
  const client = new DevcompatClient({ address: first.address, actor: 'writer' });
  t.teardown(() => client.close());
  const hostSpec = JSON.parse(readFileSync(fixture('gvt-host.json'), 'utf8'));
  let writing = true;
  let written = 0;
  const writer = (async () => {
    for (let i = 0; writing && i < 2000; i++) {
      await client.syncHost({ ...hostSpec, name: 'hosts/gvt-b', labels: { ...(hostSpec.labels ?? {}), seq: String(i) } });
      written++;
    }
  })();
  while (written < 3) await client.getHost('hosts/gvt-a');
  const backupFile = path.join(dir, 'copy.db');
  const backup = await cli(first.address, '--json', 'backup', backupFile);
  const duringBackup = written;
  while (written < duringBackup + 3) await client.getHost('hosts/gvt-a');
  writing = false;
  await writer;
  t.is(backup.code, 0, backup.stderr);
  const response = JSON.parse(backup.stdout) as Record<string, unknown>;
  const taken = { revision: field(response, 'revision'), headHash: field(response, 'head_hash'), sizeBytes: field(response, 'size_bytes') };
  t.regex(taken.headHash, /^[0-9a-f]{64}$/);
  t.true(existsSync(backupFile));
  t.true(Number(taken.sizeBytes) > 0);
  // A backup never overwrites.
  const again = await cli(first.address, 'backup', backupFile);
  t.is(again.code, 2);
  t.regex(again.stderr, /never overwrites/);

  const beforeStop = await cli(first.address, '--json', 'audit', 'verify');
  const highest = Number(field(JSON.parse(beforeStop.stdout), 'head_revision'));
  t.true(highest > Number(taken.revision), 'writes went on after the backup');
  // The restore is refused while the server holds the database.
  const busy = await run(process.execPath, [main, 'restore', backupFile, '--db', db]);
  t.is(busy.code, 2);
  t.regex(busy.stderr, /in use by another devcompat server/);
  await stop(first);

  const restored = await run(process.execPath, [main, '--json', 'restore', backupFile, '--db', db]);
  t.is(restored.code, 0, restored.stderr);
  const report = JSON.parse(restored.stdout) as { revision: string; headHash: string; restoreRevision: string | null; replacedTo: string };
  t.is(report.revision, taken.revision);
  t.is(report.headHash, taken.headHash);
  // Numbering resumes above every revision the replaced database had.
  t.is(Number(report.restoreRevision), highest + 1);
  t.true(existsSync(report.replacedTo), 'the replaced database is kept');

  const second = await serve(main, db);
  t.teardown(() => second.child.child.kill('SIGKILL'));
  const verified = await cli(second.address, 'audit', 'verify', '--expect-head', taken.headHash);
  t.is(verified.code, 0, `${verified.stdout}\n${verified.stderr}`);
  // The restored registry holds what the backup held: gvt-b's label as of the backup's revision.
  const host = await cli(second.address, '--json', 'hosts', 'get', 'gvt-b');
  t.is(host.code, 0, host.stderr);
  const seq = Number((JSON.parse(host.stdout) as { labels: Record<string, string> }).labels.seq);
  t.true(seq < written - 1, `the restored host is the backup's (seq ${seq}), not the last write's (${written - 1})`);
  const next = await cli(second.address, '--json', 'sync', 'gvt-c', fixture('gvt-host.json'));
  t.is(next.code, 0, next.stderr);
  t.is(Number(field(JSON.parse(next.stdout), 'revision')), highest + 2);
  const health = await cli(second.address, 'health');
  t.is(health.code, 0, health.stderr);
  t.is(health.stdout.trim(), 'SERVING');
  await stop(second);
});
