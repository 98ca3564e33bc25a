// What a user sees when something is wrong: one clear line on stderr, nothing on stdout,
// exit 2, and nothing stored.

import test, { type ExecutionContext } from 'ava';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { devcompat, fixture, jsonLines, startSharedServer, type ProcessResult } from './helpers/cli.ts';

const GVT_A = 'hosts/gvt-a/devices/0000:00:02.0';

let shared: Awaited<ReturnType<typeof startSharedServer>>;
const cli = (...args: string[]) => devcompat(shared.address, args);

test.before(async () => {
  shared = await startSharedServer();
  const synced = await cli('sync', 'gvt-a', fixture('gvt-host.json'));
  if (synced.code !== 0) throw new Error(`setup: ${synced.stderr}`);
});

test.after.always(async () => {
  await shared?.close();
});

/** Asserts exit 2, an empty stdout and exactly one stderr line; returns that line. */
function oneErrorLine(t: ExecutionContext, result: ProcessResult): string {
  t.is(result.code, 2, `exit code; stderr: ${result.stderr}`);
  t.is(result.stdout, '');
  t.is(result.stderr.endsWith('\n') ? result.stderr.slice(0, -1).split('\n').length : -1, 1, `one line on stderr: ${JSON.stringify(result.stderr)}`);
  return result.stderr.trimEnd();
}

/** The hosts the registry holds, read through the CLI. */
async function hostNames(): Promise<string[]> {
  const list = await cli('--json', 'hosts', 'list');
  return jsonLines(list.stdout).map((host) => host.name);
}

test('an unknown field in devices.json (warnonly) names its path, and nothing is stored', async (t) => {
  const file = fixture('host-warnonly-typo.json');
  const line = oneErrorLine(t, await cli('sync', 'typo', file));
  t.is(
    line,
    `devcompat: error: ${file}: devices[0].descriptor.rules["manager"].warnonly: unknown field "warnonly" in Rule (known: op, values, range, warn_only)`,
  );
  t.false((await hostNames()).includes('hosts/typo'));
});

test('an unknown field in a descriptor file given to check names its path', async (t) => {
  const file = fixture('descriptor-warnonly-typo.json');
  const line = oneErrorLine(t, await cli('check', file, GVT_A));
  t.true(line.startsWith(`devcompat: error: ${file}: rules["manager"].warnonly: unknown field "warnonly"`), line);
});

test('invalid descriptor content is INVALID_ARGUMENT naming the field, and nothing is stored', async (t) => {
  const line = oneErrorLine(t, await cli('sync', 'bad-name', fixture('host-bad-attribute-name.json')));
  t.is(line, 'devcompat: INVALID_ARGUMENT: devices[0].descriptor.attributes["Bad Name"]: attribute names must match ^[a-z][a-z0-9_.-]{0,62}$');
  t.false((await hostNames()).includes('hosts/bad-name'));

  const inline = oneErrorLine(t, await cli('check', GVT_A, fixture('descriptor-bad-attribute-name.json')));
  t.regex(inline, /^devcompat: INVALID_ARGUMENT: target\.descriptor\.attributes\["Bad Name"\]: /);
});

test('a device name that is not registered is NOT_FOUND', async (t) => {
  const [check, get, find] = await Promise.all([
    cli('check', GVT_A, 'hosts/nowhere/devices/0000:00:02.0'),
    cli('devices', 'get', 'hosts/gvt-a/devices/0000:ff:00.0'),
    cli('find', 'hosts/nowhere/devices/0000:00:02.0'),
  ]);
  t.is(oneErrorLine(t, check), 'devcompat: NOT_FOUND: hosts/nowhere/devices/0000:00:02.0 not found');
  t.is(oneErrorLine(t, get), 'devcompat: NOT_FOUND: hosts/gvt-a/devices/0000:ff:00.0 not found');
  t.is(oneErrorLine(t, find), 'devcompat: NOT_FOUND: hosts/nowhere/devices/0000:00:02.0 not found');
});

test('an unreachable registry is UNAVAILABLE naming the address', async (t) => {
  const result = await devcompat('127.0.0.1:1', ['hosts', 'list']);
  const line = oneErrorLine(t, result);
  t.regex(line, /^devcompat: UNAVAILABLE: cannot reach the registry at 127\.0\.0\.1:1: /);
});

test('the address comes from DEVCOMPAT_ADDRESS when --address is not given', async (t) => {
  const [fromEnv, unreachable] = await Promise.all([
    devcompat(null, ['hosts', 'list', '--json'], { env: { DEVCOMPAT_ADDRESS: shared.address } }),
    devcompat(null, ['hosts', 'list'], { env: { DEVCOMPAT_ADDRESS: '127.0.0.1:1' } }),
  ]);
  t.is(fromEnv.code, 0, fromEnv.stderr);
  t.deepEqual(jsonLines(fromEnv.stdout).map((host) => host.name), ['hosts/gvt-a']);
  t.regex(oneErrorLine(t, unreachable), /cannot reach the registry at 127\.0\.0\.1:1/);
});

test('an argument that is neither a file nor a device name is refused before any call', async (t) => {
  const line = oneErrorLine(t, await devcompat('127.0.0.1:1', ['check', 'no-such-file.json', GVT_A]));
  t.is(line, 'devcompat: error: no-such-file.json: no such file (nor a device name hosts/{host}/devices/{device})');
});

test('a devices.json that is not JSON is refused with the file name', async (t) => {
  const file = path.join(shared.dir, 'broken.json');
  writeFileSync(file, '{"labels": {"zone": "a"},\n "devices": [\n');
  const line = oneErrorLine(t, await cli('sync', 'broken', file));
  t.true(line.startsWith(`devcompat: error: ${file}: not valid JSON (`), line);
  t.false((await hostNames()).includes('hosts/broken'));
});

test('usage errors (a missing argument, an unknown command, a bad option value) are one line too', async (t) => {
  t.is(
    oneErrorLine(t, await cli('check', GVT_A)),
    "devcompat: error: missing required argument 'target' (see devcompat --help)",
  );
  t.is(oneErrorLine(t, await cli('bogus')), "devcompat: error: unknown command 'bogus' (see devcompat --help)");
  t.regex(oneErrorLine(t, await cli('find', GVT_A, '--limit', '-3')), /^devcompat: error: option '--limit <n>' argument '-3' is invalid/);
  // A revision that is not a number must not become 0 ("must not exist").
  t.regex(
    oneErrorLine(t, await cli('sync', 'gvt-a', fixture('gvt-host.json'), '--expected-revision', 'abc')),
    /^devcompat: error: option '--expected-revision <n>' argument 'abc' is invalid\. must be a whole number/,
  );
  t.regex(oneErrorLine(t, await cli('history', '--from-revision', '1x')), /argument '1x' is invalid/);
});
