// Request logs as an operator reads them: the server started as `npm start` starts it, its JSON
// lines read from its stdout. At debug every call ends with one line (method, code, duration,
// peer, actor, a write's revision; message counts for a stream); at the default info a burst of
// OK checks writes nothing, and a slow call is one warning.

import test from 'ava';
import path from 'node:path';
import { DevcompatClient, type SyncHostRequest } from '../client/client.ts';
import { parsePolicy } from '../server/core/authz.ts';
import { sqliteStore } from '../server/store/worker-store.ts';
import { issue, issueServer, makeCa } from './helpers/certs.ts';
import { capturedLog } from './helpers/log.ts';
import { scrape } from './helpers/metrics.ts';
import { spawnServer } from './helpers/process.ts';
import { startTestServer, tempDir } from './helpers/server.ts';
import { rawClients, unaryCall, WatchRecorder } from './helpers/watch.ts';

const A10 = { vendor: 'nvidia', device_api: 'vfio-pci', type: 'nvidia-a10-4q', software_version: '1.0.0' };

function host(name: string): SyncHostRequest {
  return { name, devices: [{ device_id: 'gpu0', descriptor: A10 }, { device_id: 'gpu1', descriptor: A10 }] } as SyncHostRequest;
}

type Line = Record<string, any>;

function jsonLines(stdout: readonly string[]): Line[] {
  return stdout.filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as Line);
}

const CALL_LINES = new Set(['request', 'stream ended', 'slow request']);

test('at debug, every call ends with one line: method, code, duration, peer, actor, revision; streams with their counts', async (t) => {
  const dir = tempDir(t);
  const server = await spawnServer(['--db', path.join(dir, 'r.db'), '--address', '127.0.0.1:0', '--log-level', 'debug'], {
    DEVCOMPAT_METRICS_ADDRESS: '127.0.0.1:0',
  });
  t.teardown(() => server.child.kill('SIGKILL'));
  const client = new DevcompatClient({ address: server.address, actor: 'log-test' });
  t.teardown(() => client.close());
  const raw = rawClients(server.address);
  t.teardown(() => raw.close());

  const synced = await client.syncHost(host('hosts/a'));
  await client.check('hosts/a/devices/gpu0', 'hosts/a/devices/gpu1');
  await client.getHost('hosts/nowhere').catch(() => undefined);
  await server.waitForLine((line) => line.includes('"method":"/devcompat.v1.RegistryService/GetHost"'));
  const watcher = new WatchRecorder(raw.watch, {});
  await watcher.waitFor((w) => w.messages.length > 0, 20_000, 'the created message');
  watcher.cancel();
  await server.waitForLine((line) => line.includes('"msg":"stream ended"'));

  const calls = jsonLines(server.stdout).filter((line) => CALL_LINES.has(line.msg));
  t.deepEqual(
    calls.map((line) => [line.msg, line.method, line.code, line.level]),
    [
      ['request', '/devcompat.v1.RegistryService/SyncHost', 'OK', 20],
      ['request', '/devcompat.v1.CompatibilityService/CheckCompatibility', 'OK', 20],
      ['request', '/devcompat.v1.RegistryService/GetHost', 'NOT_FOUND', 20],
      ['stream ended', '/devcompat.v1.WatchService/Watch', 'CANCELLED', 20],
    ],
    'one line per call, in order',
  );
  const [sync, check, get, watch] = calls;
  t.is(sync.actor, 'log-test');
  t.is(sync.revision, Number(synced.revision));
  t.is(sync.revision, 1);
  t.is(get.revision, undefined, 'an error carries no revision');
  for (const line of calls) {
    t.is(typeof line.duration_ms, 'number');
    t.true(line.duration_ms >= 0);
    t.regex(line.peer, /^127\.0\.0\.1:\d+$/);
  }
  t.is(check.actor, 'log-test');
  t.is(watch.received, 1);
  t.true(watch.sent >= 1, 'the created message at least');
  t.is(sync.received, undefined, 'message counts are for streams');

  // DEVCOMPAT_METRICS_ADDRESS turned metrics on, and they saw the same calls.
  const serving = jsonLines(server.stdout).find((line) => line.msg === 'devcompat serving')!;
  t.regex(serving.metrics, /^127\.0\.0\.1:\d+$/);
  const metrics = await scrape(serving.metrics);
  t.is(metrics.value('grpc_server_handled_total', { grpc_method: 'SyncHost', grpc_code: 'OK' }), 1);
  t.is(metrics.value('devcompat_hosts'), 1);
});

test('at the default info level, a burst of OK checks and a caller’s error write no line', async (t) => {
  const dir = tempDir(t);
  // Slow calls have their own warning (tested below): 200 checks at once on a loaded machine can
  // pass the default threshold, which is not what this test is about.
  const server = await spawnServer(['--db', path.join(dir, 'r.db'), '--address', '127.0.0.1:0', '--slow-request', '1h']);
  t.teardown(() => server.child.kill('SIGKILL'));
  const client = new DevcompatClient({ address: server.address, actor: 'log-test' });
  t.teardown(() => client.close());
  await client.syncHost(host('hosts/a'));
  const checks = await Promise.all(Array.from({ length: 200 }, () => client.check('hosts/a/devices/gpu0', 'hosts/a/devices/gpu1')));
  t.is(checks.length, 200);
  await client.getHost('hosts/nowhere').catch(() => undefined);
  // A compaction is logged at info, after everything above: once its line is out, theirs would be too.
  const raw = rawClients(server.address);
  t.teardown(() => raw.close());
  await unaryCall(raw.history, 'CompactHistory', { revision: 1 });
  await server.waitForLine((line) => line.includes('"msg":"history compacted"'));

  const lines = jsonLines(server.stdout);
  t.deepEqual(lines.filter((line) => CALL_LINES.has(line.msg)), []);
  t.true(lines.length < 10, `a quiet log: ${lines.map((line) => line.msg).join(', ')}`);
});

test('a unary call slower than --slow-request is one warning at info', async (t) => {
  const dir = tempDir(t);
  const log = capturedLog();
  // A store whose commits take at least 400 ms: every write is slower than the threshold.
  const openSqlite = sqliteStore({ path: path.join(dir, 'r.db'), durability: 'full' });
  const { client } = await startTestServer(t, {
    dir,
    logger: log.logger,
    slowRequestMs: 300,
    store: async () => {
      const store = await openSqlite();
      const commit = store.commit.bind(store);
      store.commit = async (batch) => {
        await new Promise((resolve) => setTimeout(resolve, 400));
        return commit(batch);
      };
      return store;
    },
    client: { actor: 'slow-test' },
  });
  await client.syncHost(host('hosts/a'));
  const line = await log.waitFor('slow request');
  t.is(line.level, 40, 'warn');
  t.is(line.method, '/devcompat.v1.RegistryService/SyncHost');
  t.is(line.code, 'OK');
  t.true(line.slow);
  t.true(line.duration_ms >= 300);
  t.is(line.actor, 'slow-test');
  t.is(line.revision, 1);
  t.deepEqual(
    log.lines.filter((candidate) => CALL_LINES.has(candidate.msg)).map((candidate) => candidate.msg),
    ['slow request'],
    'one line for the call',
  );
});

test('under mutual TLS a call’s line names the certificate’s identity beside the actor it claimed', async (t) => {
  const dir = tempDir(t);
  const ca = makeCa(dir, 'ca');
  const serverCert = issueServer(dir, ca);
  const log = capturedLog();
  log.logger.level = 'debug';
  const { server } = await startTestServer(t, {
    dir,
    logger: log.logger,
    tls: { certFile: serverCert.cert, keyFile: serverCert.key, clientCaFile: ca.cert },
    authz: parsePolicy({ trust_domain: 'example.org', bindings: [{ identity: 'agent:host-*', role: 'agent' }] }, 'test policy'),
    client: { tls: { caFile: ca.cert } },
  });
  const agentCert = issue(dir, ca, 'agent', ['URI:spiffe://example.org/agent/host-a']);
  const agent = new DevcompatClient({
    address: server.address,
    tls: { caFile: ca.cert, certFile: agentCert.cert, keyFile: agentCert.key },
    actor: 'ops-ticket-42',
  });
  t.teardown(() => agent.close());
  await agent.syncHost(host('hosts/host-a'));
  const line = await log.waitFor('request');
  t.is(line.method, '/devcompat.v1.RegistryService/SyncHost');
  t.is(line.identity, 'agent:host-a');
  t.is(line.actor, 'ops-ticket-42');
  t.is(line.revision, 1);
});
