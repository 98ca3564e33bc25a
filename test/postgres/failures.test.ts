// What replicas over PostgreSQL do when things fail (issue 13), each test on its own
// throwaway cluster: a replica killed with SIGKILL during writes loses no acknowledged write;
// a PostgreSQL restart during writes turns the replicas NOT_SERVING and back to SERVING by
// themselves, and nothing acknowledged is lost; a replica frozen inside a write holds the
// others for about 10 s (its transaction is ended by PostgreSQL), not for as long as it sleeps;
// a replica frozen while it holds the lease-expiry duty loses it, and leases lapse all the same.

import test, { type ExecutionContext } from 'ava';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { Client as pgClient } from 'pg';
import { protoPath as healthProtoPath } from 'grpc-health-check';
import { DevcompatClient, type SyncHostRequest } from '../../client/client.ts';
import { historyQuery } from '../../server/core/store.ts';
import type { RunningServer } from '../../server/server.ts';
import { postgresStore } from '../../server/store/postgres-store.ts';
import { PostgresCluster } from '../helpers/postgres-cluster.ts';
import { spawnServer } from '../helpers/process.ts';
import { capturedLog } from '../helpers/log.ts';
import { startTestServer } from '../helpers/server.ts';
import { eventually } from '../helpers/watch.ts';

const GPU = (version: string) => ({ vendor: 'nvidia', device_api: 'vfio-pci', type: 'nvidia-a10-4q', software_version: version });
const host = (name: string, version: string) => ({ name, devices: [{ device_id: 'gpu0', descriptor: GPU(version) }] }) as SyncHostRequest;

async function cluster(t: ExecutionContext): Promise<PostgresCluster> {
  const created = await PostgresCluster.create();
  t.teardown(() => created.destroy());
  return created;
}

function healthOf(address: string): () => Promise<string> {
  const definition = protoLoader.loadSync(healthProtoPath, { keepCase: true, enums: String });
  const Health = (grpc.loadPackageDefinition(definition) as any).grpc.health.v1.Health;
  const client = new Health(address, grpc.credentials.createInsecure());
  return () =>
    new Promise((resolve, reject) =>
      client.Check({ service: '' }, (error: Error | null, response: { status: string }) => (error ? reject(error) : resolve(response.status))),
    );
}

/** Waits until a woken replica acknowledges a write again (syncing `name`). */
async function writesAgain(client: DevcompatClient, name: string): Promise<void> {
  await eventually(
    async () => {
      try {
        await client.syncHost(host(name, '1.0.0'));
        return true;
      } catch {
        return false;
      }
    },
    30_000,
    'the woken replica writing again',
  );
}

/** Every (host, version) a replica's history holds, once it has caught up with the database. */
async function writtenVersions(server: RunningServer): Promise<Set<string>> {
  await server.registry.catchUp();
  const seen = new Set<string>();
  for (const entry of await server.registry.listHistory(historyQuery({ limit: 100_000 }))) {
    if (entry.after?.kind !== 'device') continue;
    const version = (JSON.parse(server.registry.descriptorById(entry.after.device.descriptorId).key) as { software_version: string }).software_version;
    seen.add(`${entry.hostId}@${version}`);
  }
  return seen;
}

test('SIGKILL of a replica during writes loses no acknowledged write; the other replica serves them all', async (t) => {
  const pg = await cluster(t);
  const url = await pg.createDatabase();
  const victim = await spawnServer(['--store', url, '--address', '127.0.0.1:0']);
  t.teardown(() => victim.child.kill('SIGKILL'));
  const survivor = await startTestServer(t, { store: postgresStore({ url }) });
  const victimClient = new DevcompatClient({ address: victim.address, retry: { maxAttempts: 1 } });
  t.teardown(() => victimClient.close());

  const acknowledged: string[] = [];
  let killed = false;
  const writer = async (w: number) => {
    for (let i = 0; i < 40 && !killed; i++) {
      const name = `w${w}`;
      const version = `1.${i}.0`;
      const through = i % 2 === 0 ? victimClient : survivor.client;
      try {
        await through.syncHost(host(name, version));
        acknowledged.push(`${name}@${version}`);
      } catch {
        // Cut off by the kill: not acknowledged, may or may not have landed.
      }
      if (w === 0 && i === 10) {
        victim.child.kill('SIGKILL');
        killed = true;
      }
    }
  };
  await Promise.all([0, 1, 2].map(writer));
  await victim.exited;
  t.true(acknowledged.length >= 10, `writes acknowledged before the kill: ${acknowledged.length}`);
  const written = await writtenVersions(survivor.server);
  for (const write of acknowledged) t.true(written.has(write), `acknowledged ${write} is in the history`);
  // And the survivor keeps writing, at the next revision of the one sequence.
  await survivor.server.registry.catchUp();
  const before = survivor.server.registry.revision;
  const after = await survivor.client.syncHost(host('after-kill', '9.0.0'));
  t.is(Number(after.revision), before + 1);
  const verified = await survivor.server.registry.verifyHistory(undefined);
  t.is(verified.broken, undefined);
});

test('a PostgreSQL restart during writes: replicas go NOT_SERVING, recover by themselves, and nothing acknowledged is lost', async (t) => {
  const pg = await cluster(t);
  const url = await pg.createDatabase();
  const replicas = [
    await startTestServer(t, { store: postgresStore({ url }) }),
    await startTestServer(t, { store: postgresStore({ url }) }),
  ];
  const health = replicas.map((replica) => healthOf(replica.server.address));
  for (const check of health) t.is(await check(), 'SERVING');

  const acknowledged: string[] = [];
  const write = async (i: number) => {
    try {
      await replicas[i % 2].client.syncHost(host(`h${i % 5}`, `2.${i}.0`));
      acknowledged.push(`h${i % 5}@2.${i}.0`);
      return true;
    } catch {
      return false;
    }
  };
  for (let i = 0; i < 10; i++) t.true(await write(i));

  pg.stop();
  for (const check of health) await eventually(async () => (await check()) === 'NOT_SERVING', 20_000, 'NOT_SERVING while the database is down');
  // A write while it is down is refused, not acknowledged.
  t.false(await write(100));

  pg.start();
  for (const check of health) await eventually(async () => (await check()) === 'SERVING', 30_000, 'SERVING once the database is back');
  for (let i = 10; i < 20; i++) t.true(await write(i), `write ${i} after the restart`);

  for (const replica of replicas) {
    const written = await writtenVersions(replica.server);
    for (const ack of acknowledged) t.true(written.has(ack), `acknowledged ${ack} survived the restart`);
    await replica.server.registry.catchUp();
  }
  t.is(replicas[0].server.registry.revision, replicas[1].server.registry.revision);
  t.is(replicas[0].server.registry.headHash, replicas[1].server.registry.headHash);
});

test('a replica frozen inside a write (SIGSTOP, holding the head lock) holds the other replicas\' writes for about 10 s, not until it wakes; woken, it writes again', async (t) => {
  const pg = await cluster(t);
  const url = await pg.createDatabase();
  const victim = await spawnServer(['--store', url, '--address', '127.0.0.1:0']);
  t.teardown(() => {
    victim.child.kill('SIGCONT');
    victim.child.kill('SIGKILL');
  });
  const survivor = await startTestServer(t, { store: postgresStore({ url }) });
  const victimClient = new DevcompatClient({ address: victim.address, retry: { maxAttempts: 1 } });
  t.teardown(() => victimClient.close());
  await survivor.client.syncHost(host('before', '1.0.0'));

  // Hold the head lock from outside, so that the victim's next write stops inside its transaction, waiting for it.
  const blocker = new pgClient({ connectionString: url });
  await blocker.connect();
  t.teardown(() => blocker.end().catch(() => undefined));
  await blocker.query('BEGIN');
  await blocker.query('SELECT revision FROM registry_head FOR UPDATE');
  const frozenWrite = victimClient.syncHost(host('frozen', '1.0.0'), { deadlineMs: 120_000 }).then(
    () => 'acknowledged',
    (error: Error) => `failed: ${error.message}`,
  );
  const waiting = async () =>
    (await blocker.query("SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'devcompat' AND wait_event_type = 'Lock'")).rows[0].n > 0;
  await eventually(waiting, 20_000, 'the victim waiting for the head lock inside its write');
  // Frozen there; then the lock is let go: PostgreSQL hands it to the frozen replica's transaction, which now waits on a process that does not run.
  victim.child.kill('SIGSTOP');
  await blocker.query('COMMIT');

  const started = Date.now();
  const after = await survivor.client.syncHost(host('while-frozen', '1.0.0'), { deadlineMs: 60_000 });
  const heldMs = Date.now() - started;
  t.true(Number(after.revision) > 1);
  t.true(heldMs > 8_000 && heldMs < 20_000, `the survivor's write waited ${heldMs} ms: about the 10 s idle-in-transaction timeout`);
  t.log(`the survivor's write waited ${heldMs} ms for the frozen replica's transaction to be ended`);

  victim.child.kill('SIGCONT');
  // Its own write was cut off with its transaction: not acknowledged, and not in the history.
  t.regex(await frozenWrite, /^failed: /);
  await writesAgain(victimClient, 'woken');
  const written = await writtenVersions(survivor.server);
  t.true(written.has('while-frozen@1.0.0') && written.has('woken@1.0.0'));
  t.false(written.has('frozen@1.0.0'), 'the write that was cut off was not stored');
  t.is((await survivor.server.registry.verifyHistory(undefined)).broken, undefined);
});

test('a replica frozen while it holds the lease-expiry duty (SIGSTOP) loses it after about 10 s: another expires the leases; woken, it rejoins and expires none again', async (t) => {
  const pg = await cluster(t);
  const url = await pg.createDatabase();
  const ttlMs = 2_000;
  const victim = await spawnServer(['--store', url, '--address', '127.0.0.1:0', '--lease-ttl', `${ttlMs}ms`]);
  t.teardown(() => {
    victim.child.kill('SIGCONT');
    victim.child.kill('SIGKILL');
  });
  const db = new pgClient({ connectionString: url });
  db.on('error', () => undefined);
  await db.connect();
  t.teardown(() => db.end().catch(() => undefined));
  const dutyHolders = async () =>
    (await db.query("SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND classid = 0 AND objid = 7341002 AND objsubid = 1")).rows.map(
      (row: { pid: number }) => row.pid,
    );
  // The only replica running takes the duty at its first probe.
  await eventually(async () => (await dutyHolders()).length === 1, 20_000, 'the first replica to hold the duty');
  const [victimSession] = await dutyHolders();

  const log = capturedLog();
  const survivor = await startTestServer(t, { store: postgresStore({ url }), leaseTtlMs: ttlMs, logger: log.logger });
  await survivor.client.syncHost(host('kept', '1.0.0'));
  await survivor.client.syncHost(host('silent', '1.0.0'));
  const keeper = survivor.client.keepAlive();
  t.teardown(() => keeper.close());
  keeper.hold('hosts/kept');

  victim.child.kill('SIGSTOP');
  const frozenAt = Date.now();
  const lapses = async () =>
    (await survivor.server.registry.listHistory(historyQuery({ limit: 1000 }))).filter((entry) => entry.after?.kind === 'host' && !entry.after.host.reachable);
  await eventually(async () => (await lapses()).length > 0, 60_000, 'the silent host to lapse while the duty holder is frozen');
  const lapsedAfterMs = Date.now() - frozenAt;
  t.log(`the silent host lapsed ${lapsedAfterMs} ms after the duty holder froze`);
  t.true(lapsedAfterMs >= 9_000, `not before the holder was idle for about 10 s (${lapsedAfterMs} ms)`);
  const took = await log.waitFor('this replica took the lease-expiry duty from a replica that stopped answering (its database session was idle too long, and was ended)');
  t.is(took.ended_session_pid, victimSession, 'the frozen replica\'s session was the one ended');
  const holders = await dutyHolders();
  t.is(holders.length, 1);
  t.not(holders[0], victimSession, 'the survivor holds the duty now');

  // Woken, the frozen replica finds its session gone, reconnects and writes again; it does not
  // take the duty back, and the host kept alive through the survivor stays READY.
  victim.child.kill('SIGCONT');
  const victimClient = new DevcompatClient({ address: victim.address, retry: { maxAttempts: 1 } });
  t.teardown(() => victimClient.close());
  await writesAgain(victimClient, 'woken');
  await survivor.server.registry.catchUp();
  keeper.hold('hosts/woken');
  const wokenAt = Date.now();
  const keptExpiry = async () => Number((await db.query("SELECT lease_expire_ms FROM hosts WHERE host_id = 'kept'")).rows[0].lease_expire_ms);
  // Three TTLs and the grace past its waking: time enough to expire the kept host, if it would.
  await eventually(async () => (await keptExpiry()) > wokenAt + 3 * ttlMs + 2_000, 30_000, 'renewals well past the woken replica\'s start');
  t.deepEqual((await lapses()).map((entry) => entry.hostId), ['silent'], 'one lapse, of the silent host only');
  t.deepEqual(await dutyHolders(), holders, 'the duty stayed with the survivor');
});
