// `-o json` is the canonical proto3 JSON mapping: for the same server and the same RPC it
// prints what `buf curl` (Go's protojson, the schema from reflection) prints, compared as
// parsed objects. `-o yaml` is the same data; `-o wide` adds columns; `--json` is `-o json`.

import test from 'ava';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { BUF, devcompat, fixture, jsonLines, lines, run, startSharedServer } from './helpers/cli.ts';

const GVT_A = 'hosts/gvt-a/devices/0000:00:02.0';
const NV_A = 'hosts/nv-a/devices/0000:3b:00.0';

let shared: Awaited<ReturnType<typeof startSharedServer>>;
const cli = (...args: string[]) => devcompat(shared.address, args);

/** `buf curl` over gRPC (h2c), one method; its messages parsed (a stream prints one object after another). */
async function bufCurl(method: string, body: unknown): Promise<any[]> {
  const result = await run(BUF, ['curl', '--protocol', 'grpc', '--http2-prior-knowledge', `http://${shared.address}/${method}`, '-d', JSON.stringify(body)]);
  if (result.code !== 0) throw new Error(`buf curl ${method}: ${result.stderr}`);
  return result.stdout
    .trim()
    .replace(/^}\n{$/gm, '}\u0000{')
    .split('\u0000')
    .map((text) => JSON.parse(text));
}

async function ok(...args: string[]) {
  const result = await cli(...args);
  if (result.code !== 0 && result.code !== 1) throw new Error(`devcompat ${args.join(' ')}: ${result.stderr}`);
  return result;
}

test.before(async () => {
  shared = await startSharedServer();
  for (const [host, file] of [
    ['gvt-a', 'gvt-host.json'],
    ['gvt-b', 'gvt-host-newer.json'],
    ['gvt-c', 'gvt-host-older.json'],
    ['nv-a', 'nvidia-host.json'],
  ]) {
    const synced = await devcompat(shared.address, ['--reason', 'rack 4', 'sync', host, fixture(file)]);
    if (synced.code !== 0) throw new Error(synced.stderr);
  }
  const drained = await devcompat(shared.address, ['hosts', 'drain', 'gvt-c']);
  if (drained.code !== 0) throw new Error(drained.stderr);
});

test.after.always(async () => {
  await shared?.close();
});

test.serial('hosts get and hosts list print what GetHost and ListHosts print in proto3 JSON', async (t) => {
  const [get, [viaBuf], list, [listed]] = await Promise.all([
    ok('-o', 'json', 'hosts', 'get', 'gvt-c'),
    bufCurl('devcompat.v1.RegistryService/GetHost', { name: 'hosts/gvt-c' }),
    ok('--json', 'hosts', 'list'),
    bufCurl('devcompat.v1.RegistryService/ListHosts', {}),
  ]);
  const host = JSON.parse(get.stdout);
  t.deepEqual(host, viaBuf.host);
  // What a reader of the old output would notice: lowerCamelCase, RFC 3339 times, int64 as strings.
  t.like(host, { name: 'hosts/gvt-c', deviceCount: 1, draining: true, state: 'HOST_STATE_DRAINING' });
  t.regex(host.createTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{3})?Z$/);
  t.regex(host.revision, /^\d+$/);
  t.deepEqual(jsonLines(list.stdout), listed.hosts);
});

test.serial('devices get and devices list print what GetDevice and ListDevices print', async (t) => {
  const [get, [viaBuf], list, [listed]] = await Promise.all([
    ok('-o', 'json', 'devices', 'get', NV_A),
    bufCurl('devcompat.v1.RegistryService/GetDevice', { name: NV_A }),
    ok('-o', 'json', 'devices', 'list', '--vendor', '8086'),
    bufCurl('devcompat.v1.RegistryService/ListDevices', { filter: { vendor: '8086' } }),
  ]);
  const device = JSON.parse(get.stdout);
  t.deepEqual(device, viaBuf.device);
  // A warn-only rule, a version value and an int64 attribute, as every proto3 JSON printer writes them.
  t.like(device.descriptor, {
    deviceApi: 'vfio-pci',
    softwareVersion: '17.3.0',
    attributes: { manager: { versionValue: '535.104.5' }, framebuffer_mb: { intValue: '2048' } },
    rules: { manager: { op: 'COMPARE_OP_VERSION_GE', warnOnly: true } },
  });
  t.deepEqual(jsonLines(list.stdout), listed.devices);
  t.is(jsonLines(list.stdout).length, 3);
});

test.serial('check and find print what CheckCompatibility and the FindTargets stream print', async (t) => {
  const [check, [checked], find, found] = await Promise.all([
    ok('-o', 'json', 'check', 'hosts/gvt-b/devices/0000:00:02.0', GVT_A),
    bufCurl('devcompat.v1.CompatibilityService/CheckCompatibility', { source: { name: 'hosts/gvt-b/devices/0000:00:02.0' }, target: { name: GVT_A } }),
    ok('-o', 'json', 'find', GVT_A, '--explain', '--include-draining'),
    bufCurl('devcompat.v1.CompatibilityService/FindTargets', { source: { name: GVT_A }, includeRejected: true, includeDrainingHosts: true }),
  ]);
  t.is(check.code, 1, 'gvt-a is older: incompatible');
  t.deepEqual(JSON.parse(check.stdout), checked.result);
  const items = jsonLines(find.stdout);
  t.deepEqual(items, found);
  // A rejected candidate's rank 0 is a default: left out, as protojson does.
  t.true(items.some((item) => item.target && !('rank' in item.target)));
});

test.serial('history and audit verify print what ListHistory and VerifyHistory print', async (t) => {
  const [history, [listed], verify, [verified]] = await Promise.all([
    ok('-o', 'json', 'history', '--oldest-first'),
    bufCurl('devcompat.v1.HistoryService/ListHistory', { order: 'HISTORY_ORDER_OLDEST_FIRST' }),
    ok('-o', 'json', 'audit', 'verify'),
    bufCurl('devcompat.v1.HistoryService/VerifyHistory', {}),
  ]);
  const entries = jsonLines(history.stdout);
  t.deepEqual(entries, listed.entries);
  t.is(entries[0].reason, 'rack 4');
  t.false('before' in entries[0], 'a creation has no before');
  t.deepEqual(JSON.parse(verify.stdout), verified);
});

test.serial('-o yaml prints the same data as -o json: one document, or one per list item', async (t) => {
  const [json, yaml, jsonList, yamlList] = await Promise.all([
    ok('-o', 'json', 'devices', 'get', NV_A),
    ok('-o', 'yaml', 'devices', 'get', NV_A),
    ok('-o', 'json', 'hosts', 'list'),
    ok('-o', 'yaml', 'hosts', 'list'),
  ]);
  t.deepEqual(parseYaml(yaml.stdout), JSON.parse(json.stdout));
  const documents = parseAllDocuments(yamlList.stdout).map((document) => document.toJS());
  t.deepEqual(documents, jsonLines(jsonList.stdout));
  t.is(documents.length, 4);
});

test.serial('-o wide adds columns; -o table is the default; --json with another -o is one usage error', async (t) => {
  const [table, plain, wide, history, conflict, bad] = await Promise.all([
    ok('-o', 'table', 'hosts', 'list'),
    ok('hosts', 'list'),
    ok('-o', 'wide', 'hosts', 'list'),
    ok('-o', 'wide', 'history', 'gvt-a'),
    cli('--json', '-o', 'yaml', 'hosts', 'list'),
    cli('-o', 'xml', 'hosts', 'list'),
  ]);
  t.is(table.stdout, plain.stdout);
  t.deepEqual(lines(wide.stdout)[0].split(/\s{2,}/), ['HOST', 'STATE', 'DEVICES', 'REVISION', 'LAST SYNC', 'LEASE EXPIRES', 'CREATED', 'LABELS']);
  t.regex(lines(wide.stdout)[1], /^hosts\/gvt-a\s+READY\s+1\s+\d+\s+\S+Z\s+\S+Z\s+\S+Z\s+gpu=intel,zone=a$/);
  t.deepEqual(lines(history.stdout)[0].split(/\s{2,}/), ['REVISION', 'INDEX', 'TIME', 'CHANGE', 'RESOURCE', 'ACTOR', 'WHAT', 'REASON', 'HASH']);
  t.regex(lines(history.stdout)[1], /\s[0-9a-f]{64}$/);
  t.is(conflict.code, 2);
  t.is(conflict.stderr, 'devcompat: error: --json is -o json: it cannot go with -o yaml\n');
  t.is(bad.code, 2);
  t.is(lines(bad.stderr).length, 1);
  t.regex(bad.stderr, /^devcompat: error: option '-o, --output <format>' argument 'xml' is invalid\. Allowed choices are json, yaml, table, wide\./);
});

test.serial('input files keep accepting both field-name forms and refusing unknown fields', async (t) => {
  // A descriptor printed by -o json (lowerCamelCase) is a descriptor file check takes back.
  const printed = JSON.parse((await ok('-o', 'json', 'devices', 'get', GVT_A)).stdout);
  const file = path.join(shared.dir, 'camel.json');
  writeFileSync(file, JSON.stringify(printed.descriptor));
  const check = await cli('check', file, GVT_A);
  t.is(check.code, 0, check.stderr);
  t.regex(check.stdout, /^VERDICT_COMPATIBLE /);
  const typo = path.join(shared.dir, 'typo.json');
  writeFileSync(typo, JSON.stringify({ ...printed.descriptor, softwareVersion: undefined, sofwareVersion: '1.2.0' }));
  const refused = await cli('check', typo, GVT_A);
  t.is(refused.code, 2);
  t.regex(refused.stderr, /sofwareVersion: unknown field "sofwareVersion" in Descriptor/);
});
