// The operator's commands as a user runs them (the CLI from the sources, a real server):
// `devcompat health`, the --config files of `serve` and of the client's global options, and
// the bash completion script run by a real bash.

import test from 'ava';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { CLI, devcompat, fixture, lines, run, spawnWithOutput } from './helpers/cli.ts';
import { startTestServer, tempDir } from './helpers/server.ts';

test('health: SERVING exits 0; an unreachable server exits 1 with one line saying why', async (t) => {
  const { server } = await startTestServer(t);
  const ok = await devcompat(server.address, ['health']);
  t.is(ok.code, 0, ok.stderr);
  t.is(ok.stdout.trim(), 'SERVING');
  const one = await devcompat(server.address, ['health', '--service', 'devcompat.v1.AdminService']);
  t.is(one.code, 0, one.stderr);

  const unknown = await devcompat(server.address, ['health', '--service', 'no.such.Service']);
  t.is(unknown.code, 1);
  t.regex(unknown.stderr, /knows no service "no\.such\.Service"/);

  await server.close();
  const down = await devcompat(server.address, ['--timeout', '3000', 'health']);
  t.is(down.code, 1);
  t.is(lines(down.stderr).length, 1, down.stderr);
  t.regex(down.stderr, /^devcompat: (UNAVAILABLE|DEADLINE_EXCEEDED): /);
});

test('serve --config: the file sets any flag; environment and flags win; an unknown key is refused by name', async (t) => {
  const dir = tempDir(t);
  const config = path.join(dir, 'server.yaml');
  writeFileSync(config, `db: ${path.join(dir, 'from-file.db')}\naddress: 127.0.0.1:0\nlease_ttl: 1h\nmax-finite-streams: 3\nmax_lag: 30s\n`);
  const start = async (args: string[], env: Record<string, string> = {}) => {
    const child = spawnWithOutput(process.execPath, [CLI, 'serve', '--config', config, '--log-level', 'info', ...args], { env });
    t.teardown(() => child.child.kill('SIGKILL'));
    const line = await child.waitForLine((text) => text.includes('"msg":"devcompat serving"'), 30_000);
    return JSON.parse(line) as { db: string; lease_ttl_ms: number; max_lag_ms: number; limits: { maxFiniteStreams: number } };
  };
  const fromFile = await start([]);
  t.is(fromFile.db, path.join(dir, 'from-file.db'));
  t.is(fromFile.lease_ttl_ms, 3_600_000);
  t.is(fromFile.limits.maxFiniteStreams, 3);
  t.is(fromFile.max_lag_ms, 30_000);

  const overridden = await start(['--db', path.join(dir, 'from-flag.db')], { DEVCOMPAT_LEASE_TTL: '2h', DEVCOMPAT_MAX_LAG: '5s' });
  t.is(overridden.db, path.join(dir, 'from-flag.db'));
  t.is(overridden.lease_ttl_ms, 7_200_000);
  t.is(overridden.max_lag_ms, 5_000);

  writeFileSync(config, 'lease_tll: 1h\n');
  const typo = await run(process.execPath, [CLI, 'serve', '--config', config]);
  t.is(typo.code, 2);
  t.regex(typo.stderr, /server\.yaml: lease_tll: unknown key/);
  writeFileSync(config, 'lease_ttl: soon\n');
  const bad = await run(process.execPath, [CLI, 'serve', '--config', config]);
  t.is(bad.code, 2);
  t.regex(bad.stderr, /lease_ttl: must be a duration/);
  // A lag bound a healthy replica reaches (the head is probed about once a second) is refused.
  writeFileSync(config, 'max_lag: 1s\n');
  const flapping = await run(process.execPath, [CLI, 'serve', '--config', config]);
  t.is(flapping.code, 2);
  t.regex(flapping.stderr, /max_lag: must be 0 \(off\) or at least 3s/);
  const flag = await run(process.execPath, [CLI, 'serve', '--max-lag', '2s']);
  t.not(flag.code, 0);
  t.regex(flag.stderr, /--max-lag.*must be 0 \(off\) or at least 3s/);
});

test('the global --config sets where clients connect; a flag wins over it', async (t) => {
  const { server } = await startTestServer(t);
  const synced = await devcompat(server.address, ['sync', 'h1', fixture('gvt-host.json')]);
  t.is(synced.code, 0, synced.stderr);
  const dir = tempDir(t);
  const config = path.join(dir, 'client.json');
  writeFileSync(config, JSON.stringify({ address: server.address, timeout: 5000 }));
  const listed = await devcompat(null, ['--config', config, 'hosts', 'list']);
  t.is(listed.code, 0, listed.stderr);
  t.regex(listed.stdout, /h1/);
  const flagged = await devcompat(null, ['--config', config, '--address', '127.0.0.1:1', '--timeout', '2000', 'hosts', 'list']);
  t.is(flagged.code, 2);
  t.regex(flagged.stderr, /127\.0\.0\.1:1/);
  writeFileSync(config, JSON.stringify({ adress: server.address }));
  const typo = await devcompat(null, ['--config', config, 'hosts', 'list']);
  t.is(typo.code, 2);
  t.regex(typo.stderr, /client\.json: adress: unknown key/);
});

test('completion bash: a real bash completes commands, subcommands and serve\'s own flags', async (t) => {
  const script = await run(process.execPath, [CLI, 'completion', 'bash']);
  t.is(script.code, 0, script.stderr);
  const dir = tempDir(t);
  const file = path.join(dir, 'devcompat.bash');
  writeFileSync(file, script.stdout);
  const complete = async (...words: string[]) => {
    const array = words.map((word) => `'${word}'`).join(' ');
    const result = await run('bash', ['-c', `source '${file}'; COMP_WORDS=(${array}); COMP_CWORD=${words.length - 1}; _devcompat; printf '%s\\n' "\${COMPREPLY[@]}"`]);
    t.is(result.code, 0, result.stderr);
    return lines(result.stdout);
  };
  t.true((await complete('devcompat', 'ho')).includes('hosts'));
  const hostsWords = await complete('devcompat', 'hosts', '');
  t.true(hostsWords.includes('list') && hostsWords.includes('get'), hostsWords.join(' '));
  t.false(hostsWords.includes('serve'));
  const serveFlags = await complete('devcompat', 'serve', '--lea');
  t.deepEqual(serveFlags, ['--lease-ttl']);
  // The client's global flags are offered after a client command, not after serve.
  t.true((await complete('devcompat', 'hosts', 'list', '--addr')).includes('--address'));
  t.deepEqual(await complete('devcompat', 'serve', '--js'), []);
});
