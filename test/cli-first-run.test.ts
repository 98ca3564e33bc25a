// The first page as a new user meets it, with real CLI processes: the README's worked example
// run as written against a server started as the README starts it; `find` saying which hosts
// it left out and why; `check` naming a target host that is not READY; `| head` exiting 0
// quietly; one-line usage errors; a missing file called a missing file.

import test from 'ava';
import { readFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { ManualClock } from '../server/core/clock.ts';
import { DevcompatClient } from '../client/client.ts';
import { CLI, REPO_ROOT, cleanEnv, devcompat, fixture, jsonLines, lines, startSharedServer } from './helpers/cli.ts';
import { spawnServer } from './helpers/process.ts';
import { tempDir } from './helpers/server.ts';
import { eventually } from './helpers/watch.ts';

/** The README's "A worked example" section: its console blocks' commands and expected output. */
function readmeExample(): { start: string[]; steps: { command: string; expected: string[] }[] } {
  const readme = readFileSync(path.join(REPO_ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## A worked example'), readme.indexOf('\n## ', readme.indexOf('## A worked example') + 1));
  const steps: { command: string; expected: string[] }[] = [];
  for (const block of section.matchAll(/```console\n([\s\S]*?)```/g)) {
    for (const line of block[1].split('\n')) {
      if (line.startsWith('$ ')) steps.push({ command: line.slice(2), expected: [] });
      else if (line !== '' || steps.at(-1)?.expected.length) steps.at(-1)?.expected.push(line);
    }
  }
  const [start, ...rest] = steps;
  if (!start?.command.startsWith('npm start')) throw new Error(`the example does not start with npm start: ${start?.command}`);
  // `npm start -- <flags>`: the server's own flags.
  return { start: words(start.command).slice(3), steps: rest };
}

/** A command line split as a shell would (double quotes only, which is all the README uses). */
function words(command: string): string[] {
  return [...command.matchAll(/"([^"]*)"|(\S+)/g)].map((match) => match[1] ?? match[2]);
}

const TIME = /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/g;

test.serial("the README's worked example works as written, and its hosts stay READY long after", async (t) => {
  const { start, steps } = readmeExample();
  t.is(start[0], '--lease-ttl', 'the example starts the server with leases of its own');
  const dir = tempDir(t);
  const server = await spawnServer([...start, '--address', '127.0.0.1:0', '--db', path.join(dir, 'registry.db')]);
  t.teardown(() => server.child.kill('SIGKILL'));
  let env: Record<string, string> = {};
  t.true(steps.length >= 6, 'sync, sync, find, check, check, drain, history');
  for (const step of steps) {
    let args = words(step.command);
    if (args[0] === 'export') {
      const [key, value] = args[1].split('=');
      env = { ...env, [key]: value };
      continue;
    }
    const stepEnv = { ...env };
    while (/^[A-Z_]+=/.test(args[0])) {
      const [key, value] = args[0].split('=');
      stepEnv[key] = value;
      args = args.slice(1);
    }
    t.deepEqual(args.slice(0, 2), ['npx', 'devcompat'], step.command);
    const result = await devcompat(server.address, args.slice(2), { env: stepEnv });
    t.not(result.code, 2, `${step.command}: ${result.stderr}`);
    // The README's output, line for line, up to its "..." (times differ run to run).
    const shown = step.expected.indexOf('...') >= 0 ? step.expected.slice(0, step.expected.indexOf('...')) : step.expected;
    t.deepEqual(
      lines(result.stdout).slice(0, shown.filter((line) => line !== '').length).map((line) => line.replace(TIME, 'TIME')),
      shown.filter((line) => line !== '').map((line) => line.replace(TIME, 'TIME')),
      step.command,
    );
  }
  // However slowly it is followed: the hosts the example synced keep their leases for hours.
  const host = JSON.parse((await devcompat(server.address, ['-o', 'json', 'hosts', 'get', 'gvt-01'])).stdout);
  t.is(host.state, 'HOST_STATE_READY');
  t.true(Date.parse(host.leaseExpireTime) - Date.now() > 12 * 3_600_000, host.leaseExpireTime);
});

test.serial('find counts the hosts it left out and why; check names a target host that is not READY', async (t) => {
  const clock = new ManualClock(Date.parse('2026-06-01T00:00:00Z'));
  const shared = await startSharedServer({ leaseTtlMs: 1_000, clock });
  t.teardown(() => shared.close());
  const client = new DevcompatClient({ address: shared.address });
  t.teardown(() => client.close());
  const cli = (...args: string[]) => devcompat(shared.address, args);
  const hosts = { 'gvt-a': 'gvt-host.json', 'gvt-b': 'gvt-host-newer.json', 'gvt-c': 'gvt-host-newer.json', 'gvt-d': 'gvt-host-newer.json' };
  for (const [host, file] of Object.entries(hosts)) t.is((await cli('sync', host, fixture(file))).code, 0);
  // Nobody keeps the leases: a second later every host has lapsed.
  clock.advance(1_000);
  for (const host of Object.keys(hosts)) {
    await eventually(async () => (await client.getHost(`hosts/${host}`)).state === 'HOST_STATE_UNREACHABLE', 20_000, `${host} lapsed`);
  }
  // Agents come back for a, b and d; d is then drained. c stays unreachable.
  for (const host of ['gvt-a', 'gvt-b', 'gvt-d']) t.is((await cli('sync', host, fixture(hosts[host as keyof typeof hosts]))).code, 0);
  t.is((await cli('hosts', 'drain', 'gvt-d')).code, 0);

  const source = 'hosts/gvt-a/devices/0000:00:02.0';
  const found = await cli('find', source);
  t.is(found.code, 0, found.stderr);
  t.regex(
    lines(found.stdout).at(-1)!,
    /^1 candidates \(1 distinct descriptors\): 1 compatible, 0 rejected, at revision \d+; left out: 1 host UNREACHABLE \(lease lapsed; --include-unreachable\), 1 host DRAINING \(--include-draining\)$/,
  );
  const json = jsonLines((await cli('-o', 'json', 'find', source, '--include-unreachable')).stdout);
  t.like(json.at(-1).summary, { candidates: 2, compatible: 2, drainingHostsLeftOut: 1 });
  t.false('unreachableHostsLeftOut' in json.at(-1).summary, 'kept, so none left out (0 is left out of proto3 JSON)');
  const everything = await cli('find', source, '--include-unreachable', '--include-draining');
  t.regex(lines(everything.stdout).at(-1)!, /^3 candidates .* at revision \d+$/);

  const toUnreachable = await cli('check', source, 'hosts/gvt-c/devices/0000:00:02.0');
  t.is(toUnreachable.code, 0, 'the devices are compatible: the exit code is the verdict');
  t.is(lines(toUnreachable.stdout)[2], 'target host hosts/gvt-c: UNREACHABLE');
  t.is(
    toUnreachable.stderr,
    "devcompat: warning: the target's host hosts/gvt-c is UNREACHABLE (its lease lapsed: its agent is not keeping it alive): find leaves its devices out\n",
  );
  const toDraining = await cli('-o', 'json', 'check', source, 'hosts/gvt-d/devices/0000:00:02.0');
  t.is(JSON.parse(toDraining.stdout).verdict, 'VERDICT_COMPATIBLE');
  t.regex(toDraining.stderr, /^devcompat: warning: the target's host hosts\/gvt-d is DRAINING \(an operator is emptying it\)/);
  const toReady = await cli('check', source, 'hosts/gvt-b/devices/0000:00:02.0');
  t.is(lines(toReady.stdout)[2], 'target host hosts/gvt-b: READY');
  t.is(toReady.stderr, '');
});

test.serial('piped into a reader that is gone (| head), the CLI exits 0 without a word', async (t) => {
  const shared = await startSharedServer();
  t.teardown(() => shared.close());
  t.is((await devcompat(shared.address, ['sync', 'gvt-a', fixture('gvt-host.json')])).code, 0);
  const child = spawn(process.execPath, [CLI, '--address', shared.address, 'history'], { cwd: REPO_ROOT, env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  // The reader goes away before the CLI (which takes a while to start) writes anything.
  child.stdout.destroy();
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const code = await new Promise((resolve) => child.on('close', (exitCode) => resolve(exitCode)));
  t.is(stderr, '');
  t.is(code, 0);
});

test.serial('usage errors are one line; a missing file is "no such file"', async (t) => {
  const [typo, subTypo, missing, missingCheck, badJson] = await Promise.all([
    devcompat('127.0.0.1:1', ['hots', 'list']),
    devcompat('127.0.0.1:1', ['hosts', 'lst']),
    devcompat('127.0.0.1:1', ['sync', 'gvt-a', 'no-such-devices.json']),
    devcompat('127.0.0.1:1', ['check', 'no-such-vm.json', 'hosts/a/devices/b']),
    devcompat('127.0.0.1:1', ['sync', 'gvt-a', fixture('README.md')]),
  ]);
  t.is(typo.code, 2);
  t.is(typo.stderr, "devcompat: error: unknown command 'hots' (Did you mean hosts?) (see devcompat --help)\n");
  t.is(subTypo.stderr, "devcompat: error: unknown command 'lst' (Did you mean list?) (see devcompat --help)\n");
  t.is(missing.code, 2);
  t.is(missing.stderr, 'devcompat: error: no-such-devices.json: no such file\n');
  t.is(missingCheck.stderr, 'devcompat: error: no-such-vm.json: no such file (nor a device name hosts/{host}/devices/{device})\n');
  t.is(lines(badJson.stderr).length, 1);
  t.regex(badJson.stderr, /README\.md: not valid JSON \(/);
});
