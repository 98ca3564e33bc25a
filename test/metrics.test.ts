// Metrics as an operator's Prometheus sees them: a real server with --metrics-address on
// 127.0.0.1:0, calls through the real client, then GET /metrics. Calls are counted by method
// and status code and timed; the registry's sizes, revision, lease states, commits and verdict
// cache match what was written; streams and watchers are counted while open; a call shed over
// the memory budget is counted under its own code. docs/operations.md lists exactly the metrics
// the server exposes.

import test from 'ava';
import { readFileSync } from 'node:fs';
import * as http2 from 'node:http2';
import path from 'node:path';
import type { SyncHostRequest } from '../client/client.ts';
import { DevcompatError } from '../client/client.ts';
import { ManualClock } from '../server/core/clock.ts';
import { isLeaseExpiry, type Registry } from '../server/core/registry.ts';
import { REPO_ROOT } from './helpers/cli.ts';
import { capturedLog } from './helpers/log.ts';
import { scrape } from './helpers/metrics.ts';
import { startTestServer } from './helpers/server.ts';
import { rawClients, WatchRecorder } from './helpers/watch.ts';

const A10 = { vendor: 'nvidia', device_api: 'vfio-pci', type: 'nvidia-a10-4q', software_version: '1.0.0' };
const A10_NEWER = { ...A10, software_version: '2.0.0' };

function host(name: string, descriptors: object[]): SyncHostRequest {
  return { name, devices: descriptors.map((descriptor, i) => ({ device_id: `gpu${i}`, descriptor })) } as SyncHostRequest;
}

const method = (service: string, name: string) => ({ grpc_service: `devcompat.v1.${service}`, grpc_method: name });

/** Resolves once `count` leases have lapsed (each recorded as a revision). */
function leaseExpiries(registry: Registry, count: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let seen = 0;
    const timer = setTimeout(() => {
      stop();
      reject(new Error(`only ${seen} of ${count} leases lapsed`));
    }, 20_000);
    const stop = registry.subscribe((change) => {
      seen += change.entries.filter(isLeaseExpiry).length;
      if (seen < count) return;
      stop();
      clearTimeout(timer);
      resolve();
    });
  });
}

test('calls are counted by method and code and timed; sizes, revision, commits and lease states match the registry', async (t) => {
  const clock = new ManualClock(1_800_000_000_000);
  const log = capturedLog();
  const { server, client } = await startTestServer(t, {
    metricsAddress: '127.0.0.1:0',
    clock,
    leaseTtlMs: 400,
    logger: log.logger,
    client: { actor: 'metrics-test' },
  });
  t.truthy(server.metricsAddress);

  await client.syncHost(host('hosts/a', [A10, A10]));
  await client.syncHost(host('hosts/b', [A10]));
  const last = await client.syncHost(host('hosts/c', [A10_NEWER]));
  await client.check('hosts/a/devices/gpu0', 'hosts/b/devices/gpu0');
  const afterFirstCheck = await scrape(server.metricsAddress!);
  await client.check('hosts/a/devices/gpu0', 'hosts/b/devices/gpu0');
  const missing = await client.getHost('hosts/nowhere').catch((error: DevcompatError) => error);
  t.is((missing as DevcompatError).code, 5);

  const metrics = await scrape(server.metricsAddress!);
  const sync = method('RegistryService', 'SyncHost');
  t.is(metrics.value('grpc_server_started_total', sync), 3);
  t.is(metrics.value('grpc_server_handled_total', { ...sync, grpc_code: 'OK', grpc_type: 'unary' }), 3);
  t.is(metrics.value('grpc_server_handled_total', { ...method('CompatibilityService', 'CheckCompatibility'), grpc_code: 'OK' }), 2);
  t.is(metrics.value('grpc_server_handled_total', { ...method('RegistryService', 'GetHost'), grpc_code: 'NOT_FOUND' }), 1);
  t.is(metrics.value('grpc_server_handled_total', { ...method('RegistryService', 'GetHost'), grpc_code: 'OK' }), 0);

  // The latency histogram: cumulative buckets ending in +Inf with every call, and a sum.
  const buckets = metrics.find('grpc_server_handling_seconds_bucket', sync);
  t.true(buckets.length > 5);
  const counts = buckets.map((bucket) => bucket.value);
  t.deepEqual(counts, [...counts].sort((x, y) => x - y), 'buckets are cumulative');
  t.is(buckets.find((bucket) => bucket.labels.le === '+Inf')?.value, 3);
  t.is(metrics.value('grpc_server_handling_seconds_count', sync), 3);
  t.true(metrics.value('grpc_server_handling_seconds_sum', sync) > 0);

  // The registry as written.
  t.is(metrics.value('devcompat_hosts'), 3);
  t.is(metrics.value('devcompat_devices'), 4);
  t.is(metrics.value('devcompat_descriptors'), 2, 'two distinct descriptors among four devices');
  t.is(metrics.value('devcompat_claims'), 0);
  t.is(metrics.value('devcompat_revision'), Number(last.revision));
  t.is(Number(last.revision), 3);
  t.is(metrics.value('devcompat_hosts_by_state', { state: 'READY' }), 3);
  t.is(metrics.value('devcompat_hosts_by_state', { state: 'UNREACHABLE' }), 0);
  // Every revision was written by exactly one commit, whatever the batching.
  t.is(metrics.value('devcompat_commit_batch_revisions_sum'), 3);
  t.true(metrics.value('devcompat_commit_batch_revisions_count') >= 1);
  t.true(metrics.value('devcompat_store_commit_seconds_count') >= metrics.value('devcompat_commit_batch_revisions_count'));
  t.is(metrics.value('devcompat_store_commit_failures_total'), 0);
  // The verdict cache: the first check evaluated the pair, the second was served from the cache.
  t.is(afterFirstCheck.value('devcompat_verdict_cache_lookups_total', { result: 'miss' }), 1);
  t.is(afterFirstCheck.value('devcompat_verdict_cache_lookups_total', { result: 'hit' }), 0);
  t.is(metrics.value('devcompat_verdict_cache_lookups_total', { result: 'miss' }), 1);
  t.is(metrics.value('devcompat_verdict_cache_lookups_total', { result: 'hit' }), 1);
  t.is(metrics.value('devcompat_verdict_cache_entries'), 1);
  t.true(metrics.value('process_resident_memory_bytes') > 0, 'process metrics are there');

  // Leases lapse: the lease-state gauges move, each expiry is counted and logged.
  const lapsed = leaseExpiries(server.registry, 3);
  clock.advance(400);
  await lapsed;
  const after = await scrape(server.metricsAddress!);
  t.is(after.value('devcompat_hosts_by_state', { state: 'UNREACHABLE' }), 3);
  t.is(after.value('devcompat_hosts_by_state', { state: 'READY' }), 0);
  t.is(after.value('devcompat_lease_expiries_total'), 3);
  t.is(after.value('devcompat_revision'), 6);
  t.is(after.value('devcompat_commit_batch_revisions_sum'), 6);
  const expiryLines = log.lines.filter((line) => line.msg === 'lease expired: host is UNREACHABLE');
  t.deepEqual(expiryLines.map((line) => line.host).sort(), ['a', 'b', 'c']);
  t.is(expiryLines[0].level, 30, 'at info');
});

test('open streams and watchers are counted while open and released when they end', async (t) => {
  const log = capturedLog();
  log.logger.level = 'debug';
  const { server, client } = await startTestServer(t, { metricsAddress: '127.0.0.1:0', logger: log.logger });
  await client.syncHost(host('hosts/a', [A10]));
  const raw = rawClients(server.address);
  t.teardown(() => raw.close());
  const watcher = new WatchRecorder(raw.watch, {});
  await watcher.waitFor((w) => w.messages.length > 0, 20_000, 'the created message');

  const open = await scrape(server.metricsAddress!);
  const watch = method('WatchService', 'Watch');
  t.is(open.value('devcompat_open_streams', watch), 1);
  t.is(open.value('devcompat_watchers', { phase: 'live' }), 1);
  t.is(open.value('devcompat_watchers', { phase: 'catching_up' }), 0);
  t.is(open.value('devcompat_watch_lag_revisions'), 0);
  t.is(open.value('grpc_server_handled_total', watch), 0, 'not ended yet');

  watcher.cancel();
  const ended = await log.waitFor('stream ended');
  t.is(ended.method, '/devcompat.v1.WatchService/Watch');
  const closed = await scrape(server.metricsAddress!);
  t.is(closed.value('devcompat_open_streams', watch), 0);
  t.is(closed.value('devcompat_watchers'), 0);
  t.is(closed.value('grpc_server_handled_total', { ...watch, grpc_code: 'CANCELLED', grpc_type: 'server_stream' }), 1);
  t.is(closed.value('grpc_server_msg_received_total', watch), 1);
  t.true(closed.value('grpc_server_msg_sent_total', watch) >= 1);
});

test('a call shed over the memory budget is counted as RESOURCE_EXHAUSTED, and by the shed counter', async (t) => {
  const log = capturedLog();
  const { server, client } = await startTestServer(t, {
    metricsAddress: '127.0.0.1:0',
    logger: log.logger,
    limits: { memoryBudgetBytes: 1 },
  });
  const refused = await client.syncHost(host('hosts/a', [A10])).catch((error: DevcompatError) => error);
  t.is((refused as DevcompatError).code, 8);
  const line = await log.waitFor('request');
  t.is(line.code, 'RESOURCE_EXHAUSTED');
  t.is(line.level, 30, 'a load signal is logged at info');
  const metrics = await scrape(server.metricsAddress!);
  const sync = method('RegistryService', 'SyncHost');
  t.is(metrics.value('grpc_server_handled_total', { ...sync, grpc_code: 'RESOURCE_EXHAUSTED' }), metrics.value('grpc_server_started_total', sync));
  t.true(metrics.value('grpc_server_started_total', sync) >= 1);
  t.is(metrics.value('devcompat_calls_shed_total'), metrics.value('grpc_server_started_total', sync));
  t.is(metrics.value('devcompat_hosts'), 0, 'nothing was stored');
});

test('a request that does not arrive within the receive timeout is counted as DEADLINE_EXCEEDED', async (t) => {
  const log = capturedLog();
  const { server } = await startTestServer(t, { metricsAddress: '127.0.0.1:0', logger: log.logger, limits: { receiveTimeoutMs: 300 } });
  const session = http2.connect(`http://${server.address}`);
  session.on('error', () => {});
  t.teardown(() => session.destroy());
  const stream = session.request({ ':method': 'POST', ':path': '/devcompat.v1.RegistryService/SyncHost', 'content-type': 'application/grpc', te: 'trailers' });
  stream.on('error', () => {});
  stream.resume();
  const prefix = Buffer.alloc(5);
  prefix.writeUInt32BE(100, 1); // a 100-byte message announced, none of it sent
  stream.write(prefix);
  const line = await log.waitFor('request');
  t.is(line.code, 'DEADLINE_EXCEEDED');
  t.is(line.method, '/devcompat.v1.RegistryService/SyncHost');
  const metrics = await scrape(server.metricsAddress!);
  t.is(metrics.value('grpc_server_handled_total', { grpc_method: 'SyncHost', grpc_code: 'DEADLINE_EXCEEDED' }), 1);
  t.is(metrics.value('devcompat_receive_timeouts_total'), 1);
});

test('metrics are off unless an address is given; the listener serves /metrics only', async (t) => {
  const off = await startTestServer(t);
  t.is(off.server.metricsAddress, undefined);
  const { server } = await startTestServer(t, { metricsAddress: '127.0.0.1:0' });
  const elsewhere = await fetch(`http://${server.metricsAddress}/`);
  t.is(elsewhere.status, 404);
  const metrics = await fetch(`http://${server.metricsAddress}/metrics`);
  t.is(metrics.status, 200);
  t.regex(metrics.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  await t.throwsAsync(startTestServer(t, { metricsAddress: 'nonsense' }), { message: /--metrics-address must be host:port/ });
});

/** The metrics table of docs/operations.md: name → type. */
function documentedMetrics(): Map<string, string> {
  const text = readFileSync(path.join(REPO_ROOT, 'docs/operations.md'), 'utf8');
  const section = text.slice(text.indexOf('## Metrics'));
  const table = section.slice(0, section.indexOf('\n## ', 1) === -1 ? undefined : section.indexOf('\n## ', 1));
  const rows = new Map<string, string>();
  for (const match of table.matchAll(/^\| `([a-z_:][a-z0-9_:]*)` \| (counter|gauge|histogram|summary) \|/gm)) rows.set(match[1], match[2]);
  return rows;
}

test('docs/operations.md lists every metric the server exposes, with its type, and no other', async (t) => {
  const { server } = await startTestServer(t, { metricsAddress: '127.0.0.1:0' });
  const exposed = (await scrape(server.metricsAddress!)).types;
  const documented = documentedMetrics();
  t.true(documented.size > 20, 'the table was found');
  const undocumented = [...exposed.keys()].filter((name) => !documented.has(name));
  const stale = [...documented.keys()].filter((name) => !exposed.has(name));
  t.deepEqual(undocumented, [], 'exposed but not in the table');
  t.deepEqual(stale, [], 'in the table but not exposed');
  for (const [name, type] of exposed) if (documented.has(name)) t.is(documented.get(name), type, `type of ${name}`);
});
