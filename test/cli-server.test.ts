// The `npm start` contract: server/main.ts as its own process. It creates the database and its
// folder, logs the address it really bound (port 0 resolved) as JSON, serves, honours
// DEVCOMPAT_DB / DEVCOMPAT_ADDRESS, and stops cleanly with exit 0 on SIGTERM.

import test, { type ExecutionContext } from 'ava';
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { CLI, devcompat, fixture, jsonLines, spawnWithOutput, type ChildOutput } from './helpers/cli.ts';
import { tempDir } from './helpers/server.ts';

interface LogLine {
  level: number;
  msg: string;
  address?: string;
  db?: string;
  revision?: number;
  hosts?: number;
}

const parseLog = (line: string): LogLine | undefined => {
  try {
    return JSON.parse(line) as LogLine;
  } catch {
    return undefined;
  }
};

/** Starts `devcompat serve` (what `npm start` runs) and waits for its 'devcompat serving' log line. */
async function startMain(t: ExecutionContext, args: string[], env: Record<string, string> = {}): Promise<{ main: ChildOutput; serving: LogLine }> {
  const main = spawnWithOutput(process.execPath, [CLI, 'serve', ...args], { env });
  t.teardown(async () => {
    if (main.child.exitCode === null && main.child.signalCode === null) {
      main.child.kill('SIGKILL');
      await main.exited;
    }
  });
  const line = await main.waitForLine((text) => parseLog(text)?.msg === 'devcompat serving', 60_000);
  return { main, serving: parseLog(line)! };
}

async function stop(t: ExecutionContext, main: ChildOutput): Promise<void> {
  main.child.kill('SIGTERM');
  const { code, signal } = await main.exited;
  t.is(code, 0, `exit on SIGTERM; stderr: ${main.stderr.join('\n')}`);
  t.is(signal, null);
  const messages = main.stdout.map(parseLog).map((log) => log?.msg);
  t.true(messages.includes('shutting down'));
  t.true(messages.includes('devcompat stopped'));
}

test('devcompat serve creates the database folder, logs the real port, serves and stops with 0 on SIGTERM', async (t) => {
  const dir = tempDir(t);
  const db = path.join(dir, 'sub', 'dir', 'x.db');
  const { main, serving } = await startMain(t, ['--db', db, '--address', '127.0.0.1:0']);

  t.regex(serving.address ?? '', /^127\.0\.0\.1:\d+$/);
  const port = Number(serving.address!.split(':')[1]);
  t.true(port > 0 && port < 65536, `a real port, not 0: ${serving.address}`);
  t.is(serving.db, db);
  t.is(serving.revision, 0);
  t.true(statSync(path.join(dir, 'sub', 'dir')).isDirectory());
  t.true(existsSync(db));
  // Every stdout line is a JSON log record (pino), nothing else.
  t.true(main.stdout.filter((line) => line !== '').every((line) => parseLog(line)?.level !== undefined));

  const synced = await devcompat(serving.address!, ['sync', 'gvt-a', fixture('gvt-host.json')]);
  t.is(synced.code, 0, synced.stderr);
  t.regex(synced.stdout, /^hosts\/gvt-a: revision 1 \(1 created/);

  await stop(t, main);
});

test('DEVCOMPAT_DB and DEVCOMPAT_LISTEN_ADDRESS configure devcompat serve (not the clients\' DEVCOMPAT_ADDRESS); the registry survives a restart', async (t) => {
  const dir = tempDir(t);
  const db = path.join(dir, 'state', 'registry.db');
  // DEVCOMPAT_ADDRESS is where clients connect: serve must not listen there.
  const env = { DEVCOMPAT_DB: db, DEVCOMPAT_LISTEN_ADDRESS: '127.0.0.1:0', DEVCOMPAT_ADDRESS: '127.0.0.1:1' };

  const first = await startMain(t, [], env);
  t.is(first.serving.db, db);
  t.regex(first.serving.address ?? '', /^127\.0\.0\.1:[1-9]\d*$/);
  t.true(existsSync(db));
  const synced = await devcompat(first.serving.address!, ['sync', 'nv-a', fixture('nvidia-host.json')]);
  t.is(synced.code, 0, synced.stderr);
  await stop(t, first.main);

  const second = await startMain(t, [], env);
  t.is(second.serving.db, db);
  t.is(second.serving.revision, 1);
  t.is(second.serving.hosts, 1);
  const list = await devcompat(second.serving.address!, ['--json', 'hosts', 'list']);
  t.deepEqual(jsonLines(list.stdout).map((host) => host.name), ['hosts/nv-a']);

  // A flag wins over its environment variable.
  const flagged = path.join(dir, 'flagged.db');
  const third = await startMain(t, ['--db', flagged], env);
  t.is(third.serving.db, flagged);
  t.is(third.serving.revision, 0);
  await Promise.all([stop(t, second.main), stop(t, third.main)]);
});
