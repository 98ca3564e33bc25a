// The agent as a long-running process against a real server: it registers its host and keeps
// the lease, writes nothing while nothing changes, re-syncs a recorded upgrade (a WatchTargets
// client sees the diff), comes back when its host is deleted, survives a broken profile and an
// unreadable file without registering a half-described device, drains on exit only when told
// and clears only its own drain; killed with SIGKILL, its host becomes UNREACHABLE after the lease.

import test, { type ExecutionContext } from 'ava';
import { mkdirSync, realpathSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DevcompatClient, type WatchTargetsResponse } from '../client/client.ts';
import { parsePolicy } from '../server/core/authz.ts';
import { issue, issueServer, makeCa } from './helpers/certs.ts';
import { DRAIN_REASON } from '../agent/loop.ts';
import { CLI, run } from './helpers/cli.ts';
import { AGENT_WAIT_MS, copyHost, hostFlags, logLine, spawnAgent } from './helpers/agent.ts';
import { startTestServer, tempDir } from './helpers/server.ts';

/** Waits for the first watch event that `predicate` accepts, for `host`. */
async function waitForHostEvent(client: DevcompatClient, host: string, predicate: (after: any) => boolean, timeoutMs = AGENT_WAIT_MS): Promise<any> {
  const stop = new AbortController();
  const timer = setTimeout(() => stop.abort(), timeoutMs);
  try {
    for await (const message of client.watch({ startRevision: 1, filter: { host }, signal: stop.signal })) {
      for (const event of message.events) if (event.resource === host && predicate(event.after?.host)) return event;
    }
    throw new Error(`no such event for ${host} within ${timeoutMs} ms`);
  } finally {
    clearTimeout(timer);
    stop.abort();
  }
}

/** Points `link` at `target` atomically, as a host's /sys changes under a running agent. */
function pointAt(link: string, target: string): void {
  const next = `${link}.next`;
  rmSync(next, { force: true });
  symlinkSync(target, next);
  renameSync(next, link);
}

test.serial('it holds the lease without writing, and re-syncs a recorded firmware upgrade; WatchTargets sees the diff', async (t) => {
  const { client, server } = await startTestServer(t, { leaseTtlMs: 1200 });
  const source = await run(process.execPath, [CLI, '--address', server.address, 'agent', '--host', 'mlx-a', '--once', ...hostFlags('mlx-a')]);
  t.is(source.code, 0, source.stdout + source.stderr);

  const dir = tempDir(t);
  const before = copyHost(t, 'mlx-b');
  const after = copyHost(t, 'mlx-b-upgraded');
  const live = path.join(dir, 'live');
  symlinkSync(before, live);
  const agent = spawnAgent(t, server.address, ['--host', 'mlx-b', '--interval', '150ms', ...hostFlags(live)]);
  const synced = JSON.parse(await agent.waitForLine(logLine('synced', { changed: true })));
  t.is(synced.created, 2);

  const stop = new AbortController();
  t.teardown(() => stop.abort());
  const targets = new Map<string, string>();
  const changes: WatchTargetsResponse[] = [];
  let initialDone!: () => void;
  const initial = new Promise<void>((resolve) => (initialDone = resolve));
  let removedDone!: () => void;
  const removed = new Promise<void>((resolve) => (removedDone = resolve));
  void (async () => {
    for await (const message of client.watchTargets('hosts/mlx-a/devices/0000:3b:00.2', { signal: stop.signal })) {
      changes.push(message);
      for (const change of message.changes) {
        if (change.kind === 'TARGET_CHANGE_KIND_REMOVED') targets.delete(change.name);
        else targets.set(change.name, change.kind);
      }
      if (message.initial_complete) initialDone();
      if (!message.initial && targets.size === 0) removedDone();
    }
  })().catch(() => undefined);
  await initial;
  t.deepEqual([...targets.keys()].sort(), ['hosts/mlx-b/devices/0000:3b:00.2', 'hosts/mlx-b/devices/0000:3b:00.3']);

  // Nothing changes: the agent looks again and again, renews its lease past its TTL, and writes nothing.
  const revision = (await client.getHost('hosts/mlx-b')).revision;
  let looks = 0;
  let renewals = 0;
  await agent.waitForLine((line) => {
    if (logLine('unchanged')(line)) looks++;
    if (logLine('lease renewed')(line)) renewals++;
    return looks >= 3 && renewals >= 5; // five renewals at TTL/3: well past one TTL
  });
  const quiet = await client.getHost('hosts/mlx-b');
  t.is(quiet.revision, revision, 'no write while nothing changed');
  t.is(quiet.state, 'HOST_STATE_READY', 'kept alive by keepalives alone');

  // The firmware upgrade (and a VM taking one VF) appear: one sync, both devices updated.
  pointAt(live, after);
  const upgrade = JSON.parse(await agent.waitForLine(logLine('synced', { changed: true, updated: 2 })));
  t.is(upgrade.created, 0);
  await removed;
  t.deepEqual([...targets.keys()], [], 'the upgraded firmware is no longer a target of 28.41.1000');
  const device = await client.getDevice('hosts/mlx-b/devices/0000:3b:00.3');
  t.is(device.descriptor.software_version, '28.42.1000');
  t.deepEqual(device.capacity, { total: 1, available: 0 }, 'a VF whose VFIO group a process holds is taken');

  agent.child.kill('SIGTERM');
  t.deepEqual(await agent.exited, { code: 0, signal: null });
});

test.serial('killed with SIGKILL, its host becomes UNREACHABLE after the lease', async (t) => {
  const { client, server } = await startTestServer(t, { leaseTtlMs: 800 });
  const agent = spawnAgent(t, server.address, ['--host', 'gvt-a', '--interval', '1h', ...hostFlags('gvt-a')]);
  await agent.waitForLine(logLine('synced', { changed: true }));
  await agent.waitForLine(logLine('lease renewed'));
  agent.child.kill('SIGKILL');
  await agent.exited;
  const lapse = await waitForHostEvent(client, 'hosts/gvt-a', (host) => host?.state === 'HOST_STATE_UNREACHABLE');
  t.regex(lapse.reason, /lease expired/);
  t.is((await client.getHost('hosts/gvt-a')).device_count, 4, 'its devices stay registered, out of FindTargets');
});

test.serial('a deleted host is registered again at once (its keepalive says unknown)', async (t) => {
  const { client, server } = await startTestServer(t, { leaseTtlMs: 900 });
  // An hour-long interval: only the keepalive's NOT_FOUND can bring the host back this fast.
  const agent = spawnAgent(t, server.address, ['--host', 'hisi-b', '--interval', '1h', ...hostFlags('hisi-b')]);
  await agent.waitForLine(logLine('synced', { changed: true }));
  await client.deleteHost('hosts/hisi-b');
  await agent.waitForLine(logLine('the registry does not know the host: re-syncing'));
  let syncs = 0;
  const again = JSON.parse(await agent.waitForLine((line) => logLine('synced', { changed: true, created: 1 })(line) && ++syncs === 2));
  t.is(again.devices, 1);
  t.is((await client.getHost('hosts/hisi-b')).device_count, 1);
  agent.child.kill('SIGTERM');
  await agent.exited;
});

test.serial('a registry that holds an older picture of the host (restored from a backup) is set right within 20 passes, though keepalives go on', async (t) => {
  const { client, server } = await startTestServer(t);
  const agent = spawnAgent(t, server.address, ['--host', 'hisi-b', '--interval', '150ms', ...hostFlags('hisi-b')]);
  const first = JSON.parse(await agent.waitForLine(logLine('synced', { changed: true })));
  const own = (await collect(client.listDevices({ host: 'hosts/hisi-b' }))).map((device) => device.name);
  // Another picture of the host, as a restored backup would hold: the host known, its devices not these.
  await client.syncHost({ name: 'hosts/hisi-b', devices: [{ device_id: 'stale0', descriptor: { vendor: '19e5', device_api: 'vfio-pci', type: 'old', software_version: '1.0.0' } }] });
  const back = JSON.parse(await agent.waitForLine((line) => logLine('synced', { changed: true })(line) && Number(JSON.parse(line).revision) > Number(first.revision) + 1));
  t.like(back, { created: own.length, deleted: 1 });
  t.deepEqual((await collect(client.listDevices({ host: 'hosts/hisi-b' }))).map((device) => device.name), own);
  agent.child.kill('SIGTERM');
  t.deepEqual(await agent.exited, { code: 0, signal: null });
});

test.serial('an unreadable file or a broken profile at run time: the agent goes on, no device is half-described', async (t) => {
  const { client, server } = await startTestServer(t);
  const host = copyHost(t, 'hisi-a');
  const profiles = path.join(tempDir(t), 'profiles');
  mkdirSync(profiles);
  const agent = spawnAgent(t, server.address, ['--host', 'hisi-a', '--interval', '150ms', '--profiles', profiles, ...hostFlags(host)]);
  await agent.waitForLine(logLine('synced', { changed: true, created: 2 }));

  // The HPRE PF's queue parameter becomes unreadable: that VF leaves the registry, whole.
  const file = path.join(host, 'sys/module/hisi_hpre/parameters/pf_q_num');
  rmSync(file);
  mkdirSync(file);
  const skipped = JSON.parse(await agent.waitForLine(logLine('device skipped', { device: '0000:79:00.1' })));
  t.regex(skipped.reason, /EISDIR/);
  const firstDeletion = JSON.parse(await agent.waitForLine(logLine('synced', { changed: true, deleted: 1 })));
  const left = [];
  for await (const device of client.listDevices({ host: 'hosts/hisi-a' })) left.push(device.name);
  t.deepEqual(left, ['hosts/hisi-a/devices/0000:76:00.1']);

  // A broken profile appears in the operator's directory: reported, and the agent keeps going.
  writeFileSync(path.join(profiles, 'oops.yaml'), 'match: { kind: pci }\ndescriptor: { vendor: x }\n');
  const error = JSON.parse(await agent.waitForLine(logLine('profile error')));
  t.regex(error.file, /oops\.yaml$/);
  t.is(error.at, 'descriptor.device_api');
  await agent.waitForLine(logLine('unchanged'));

  // The other VF's own vendor id no longer reads (EISDIR here; EIO or EACCES on a real host, or
  // a device being unplugged): that one device is skipped, the pass goes on.
  const vendor = path.join(realpathSync(path.join(host, 'sys/bus/pci/devices/0000:76:00.1')), 'vendor');
  rmSync(vendor);
  mkdirSync(vendor);
  const unreadable = JSON.parse(await agent.waitForLine(logLine('device skipped', { device: '0000:76:00.1' })));
  t.regex(unreadable.reason, /^cannot read its vendor and device ids: EISDIR/);
  await agent.waitForLine((line) => logLine('synced', { changed: true, deleted: 1 })(line) && Number(JSON.parse(line).revision) > Number(firstDeletion.revision));
  t.is((await client.getHost('hosts/hisi-a')).device_count, 0);
  t.is(agent.child.exitCode, null, 'still running');
  agent.child.kill('SIGTERM');
  t.deepEqual(await agent.exited, { code: 0, signal: null });
});

test.serial('a host that cannot be looked at while the registry asks for a re-sync: the agent waits its interval, still answers SIGTERM, and comes back', async (t) => {
  const { client, server } = await startTestServer(t, { leaseTtlMs: 900 });
  const host = copyHost(t, 'hisi-b');
  const agent = spawnAgent(t, server.address, ['--host', 'hisi-b', '--interval', '2s', ...hostFlags(host)]);
  const first = JSON.parse(await agent.waitForLine(logLine('synced', { changed: true })));
  // The sysfs tree goes away (an unmounted /sys), and the host is deleted: the keepalive asks for a re-sync that cannot be made.
  const bus = path.join(host, 'sys/bus');
  renameSync(bus, `${bus}.away`);
  await client.deleteHost('hosts/hisi-b');
  await agent.waitForLine(logLine('the registry does not know the host: re-syncing'));
  await agent.waitForLine(logLine('cannot look at the host'));
  const before = agent.stdout.filter(logLine('cannot look at the host')).length;
  await new Promise((resolve) => setTimeout(resolve, 1500));
  const failures = agent.stdout.filter(logLine('cannot look at the host')).length - before;
  // One look per interval (2 s), or one more per keepalive that asks again (every 300 ms): a
  // handful, not the thousands a spin makes (16,975 in 1.5 s before the fix).
  t.true(failures <= 12, `${failures} failed looks in 1.5 s`);
  renameSync(`${bus}.away`, bus);
  const back = JSON.parse(await agent.waitForLine((line) => logLine('synced', { changed: true, created: 1 })(line) && Number(JSON.parse(line).revision) > Number(first.revision)));
  t.is(back.devices, 1);
  t.is((await client.getHost('hosts/hisi-b')).device_count, 1);
  agent.child.kill('SIGTERM');
  t.deepEqual(await agent.exited, { code: 0, signal: null });
});

test.serial('a device the registry refuses stays out, with the registry\'s reasons; the rest of the host is registered', async (t) => {
  const { client, server } = await startTestServer(t);
  const host = copyHost(t, 'mlx-a');
  // A static descriptor the operator got wrong: a software_version that is not semver.
  const devicesDir = path.join(host, 'devices.d');
  mkdirSync(devicesDir, { recursive: true });
  writeFileSync(
    path.join(devicesDir, 'fpga0.json'),
    JSON.stringify({ device_id: 'fpga0', descriptor: { vendor: '1bd4', device_api: 'vfio-pci', type: 'acme-fpga', software_version: '1.2' } }),
  );
  const once = await run(process.execPath, [CLI, '--address', server.address, 'agent', '--host', 'mlx-a', '--once', '--log-level', 'debug', ...hostFlags(host)]);
  t.is(once.code, 1, 'synced, with a device left out');
  const entries = once.stdout.trim().split('\n').map((line) => JSON.parse(line));
  const refused = entries.find((entry) => entry.msg === 'device refused by the registry');
  t.is(refused?.device, 'fpga0');
  t.is(refused?.violations.length, 1);
  t.regex(refused?.violations[0], /^devices\[\d+\]\.descriptor\.software_version: /);
  t.like(entries.find((entry) => entry.msg === 'synced'), { changed: true, created: 2, devices: 2, refused: 1 });
  const names = [];
  for await (const device of client.listDevices({ host: 'hosts/mlx-a' })) names.push(device.name);
  t.is(names.length, 2);
  t.false(names.includes('hosts/mlx-a/devices/fpga0'));
});

test.serial('a host with more devices than the registry takes is registered with the first 4,096, the rest left out in one log line', async (t) => {
  const { client, server } = await startTestServer(t);
  const host = copyHost(t, 'mlx-a');
  const devicesDir = path.join(host, 'devices.d');
  mkdirSync(devicesDir, { recursive: true });
  // 4,100 static devices beside the host's two VFs: six past the limit, in device id order.
  for (let i = 0; i < 4100; i++) {
    const id = `fpga${String(i).padStart(4, '0')}`;
    writeFileSync(path.join(devicesDir, `${id}.json`), JSON.stringify({ device_id: id, descriptor: { vendor: '1bd4', device_api: 'vfio-pci', type: 'acme-fpga', software_version: '1.2.0' } }));
  }
  const once = await run(process.execPath, [CLI, '--address', server.address, 'agent', '--host', 'mlx-a', '--once', ...hostFlags(host)]);
  t.is(once.code, 1, 'synced, with devices left out');
  const entries = once.stdout.trim().split('\n').map((line) => JSON.parse(line));
  const leftOut = entries.filter((entry) => entry.msg === "devices past the registry's limit per host left out: the host is registered with the rest");
  t.is(leftOut.length, 1, 'one line, not one per device');
  t.like(leftOut[0], { left_out: 6, first: 'fpga4094', last: 'fpga4099' });
  t.regex(leftOut[0].reason, /at most 4096 devices per host, got 4102/);
  t.is(entries.filter((entry) => entry.msg === 'device refused by the registry').length, 0);
  t.like(entries.find((entry) => entry.msg === 'synced'), { devices: 4096, refused: 6 });
  t.is((await client.getHost('hosts/mlx-a')).device_count, 4096);
});

test.serial('--drain-on-exit drains on SIGTERM; the next start clears its own drain, never an operator\'s', async (t) => {
  const { client, server } = await startTestServer(t);
  const first = spawnAgent(t, server.address, ['--host', 'virtio-a', '--interval', '1h', '--drain-on-exit', ...hostFlags('virtio-a')]);
  await first.waitForLine(logLine('synced', { changed: true }));
  first.child.kill('SIGTERM');
  t.deepEqual(await first.exited, { code: 0, signal: null });
  const drained = await client.getHost('hosts/virtio-a');
  t.true(drained.draining);
  t.is(drained.state, 'HOST_STATE_DRAINING');
  const [entry] = await collect(client.history({ resource: 'hosts/virtio-a' }));
  t.is(entry.actor, 'agent@virtio-a');
  t.is(entry.reason, DRAIN_REASON);

  const second = spawnAgent(t, server.address, ['--host', 'virtio-a', '--interval', '1h', ...hostFlags('virtio-a')]);
  await second.waitForLine(logLine('cleared its own drain'));
  await second.waitForLine(logLine('synced'));
  t.false((await client.getHost('hosts/virtio-a')).draining);
  second.child.kill('SIGTERM');
  await second.exited;

  // An operator drains the host: the agent leaves that mark alone.
  await client.setHostDraining('hosts/virtio-a', true, { reason: 'PSU replacement' });
  const third = spawnAgent(t, server.address, ['--host', 'virtio-a', '--interval', '1h', ...hostFlags('virtio-a')]);
  await third.waitForLine(logLine('host drained by someone else: left draining'));
  await third.waitForLine(logLine('synced'));
  t.true((await client.getHost('hosts/virtio-a')).draining);
  third.child.kill('SIGTERM');
  await third.exited;
});

test.serial('DEVCOMPAT_AGENT_DRAIN_ON_EXIT is read by its value: "false" does not drain, "true" does, another word is refused by name', async (t) => {
  const { client, server } = await startTestServer(t);
  const off = spawnAgent(t, server.address, ['--host', 'virtio-a', '--interval', '1h', ...hostFlags('virtio-a')], { DEVCOMPAT_AGENT_DRAIN_ON_EXIT: 'false' });
  await off.waitForLine(logLine('synced', { changed: true }));
  off.child.kill('SIGTERM');
  t.deepEqual(await off.exited, { code: 0, signal: null });
  t.false((await client.getHost('hosts/virtio-a')).draining);

  const on = spawnAgent(t, server.address, ['--host', 'virtio-a', '--interval', '1h', ...hostFlags('virtio-a')], { DEVCOMPAT_AGENT_DRAIN_ON_EXIT: 'true' });
  await on.waitForLine(logLine('synced'));
  on.child.kill('SIGTERM');
  t.deepEqual(await on.exited, { code: 0, signal: null });
  t.true((await client.getHost('hosts/virtio-a')).draining);

  const unknown = spawnAgent(t, server.address, ['--host', 'virtio-a', '--interval', '1h', ...hostFlags('virtio-a')], { DEVCOMPAT_AGENT_DRAIN_ON_EXIT: 'sometimes' });
  t.is((await unknown.exited).code, 2);
  t.true(unknown.stderr.join('\n').includes('DEVCOMPAT_AGENT_DRAIN_ON_EXIT="sometimes": must be true or false'), unknown.stderr.join('\n'));
});

test.serial('under mutual TLS the agent connects with the CLI\'s TLS settings and writes its host as its certificate\'s identity', async (t) => {
  const { server, adminClient, env } = await mutualTlsRegistry(t);
  const once = await run(process.execPath, [CLI, '--address', server.address, 'agent', '--host', 'virtio-a', '--once', ...hostFlags('virtio-a')], { env });
  t.is(once.code, 0, once.stdout + once.stderr);
  t.true((await adminClient.getHost('hosts/virtio-a')).device_count > 0);
  const [entry] = await collect(adminClient.history({ resource: 'hosts/virtio-a' }));
  t.is(entry.actor, 'agent:virtio-a');
  // Another host is not its to write: refused by the server, and the agent says so.
  const other = await run(process.execPath, [CLI, '--address', server.address, 'agent', '--host', 'virtio-b', '--once', ...hostFlags('virtio-a')], { env });
  t.not(other.code, 0);
  t.regex(other.stdout + other.stderr, /agent:virtio-a may not call RegistryService\/SyncHost/);
});

test.serial('under mutual TLS too, --drain-on-exit\'s mark is cleared by the next start of the host\'s agent, never an operator\'s', async (t) => {
  const { server, adminClient, env } = await mutualTlsRegistry(t);
  const agentArgs = ['--host', 'virtio-a', '--interval', '1h', ...hostFlags('virtio-a')];

  const first = spawnAgent(t, server.address, [...agentArgs, '--drain-on-exit'], env);
  await first.waitForLine(logLine('synced', { changed: true }));
  first.child.kill('SIGTERM');
  t.deepEqual(await first.exited, { code: 0, signal: null });
  t.true((await adminClient.getHost('hosts/virtio-a')).draining);
  const [drain] = await collect(adminClient.history({ resource: 'hosts/virtio-a', order: 'HISTORY_ORDER_NEWEST_FIRST' }));
  t.like(drain, { actor: 'agent:virtio-a', reason: DRAIN_REASON }, 'recorded as the certificate\'s identity');

  const second = spawnAgent(t, server.address, agentArgs, env);
  await second.waitForLine(logLine('cleared its own drain'));
  t.false((await adminClient.getHost('hosts/virtio-a')).draining);
  second.child.kill('SIGTERM');
  await second.exited;

  await adminClient.setHostDraining('hosts/virtio-a', true, { reason: 'PSU replacement' });
  const third = spawnAgent(t, server.address, agentArgs, env);
  const left = JSON.parse(await third.waitForLine(logLine('host drained by someone else: left draining')));
  t.like(left, { actor: 'admin:ops', reason: 'PSU replacement' });
  t.true((await adminClient.getHost('hosts/virtio-a')).draining);
  third.child.kill('SIGTERM');
  await third.exited;
});

/**
 * A registry under mutual TLS whose policy makes `agent:*` agents and `admin:*` admins; an
 * admin client, and the environment that gives the agent virtio-a's certificate.
 */
async function mutualTlsRegistry(t: ExecutionContext) {
  const dir = tempDir(t);
  const ca = makeCa(dir, 'ca');
  const serverCert = issueServer(dir, ca);
  const agentCert = issue(dir, ca, 'agent-virtio-a', ['URI:spiffe://example.org/agent/virtio-a']);
  const admin = issue(dir, ca, 'admin', ['URI:spiffe://example.org/admin/ops']);
  const adminTls = { caFile: ca.cert, certFile: admin.cert, keyFile: admin.key };
  const { server } = await startTestServer(t, {
    tls: { certFile: serverCert.cert, keyFile: serverCert.key, clientCaFile: ca.cert },
    authz: parsePolicy({ bindings: [{ identity: 'agent:*', role: 'agent' }, { identity: 'admin:*', role: 'admin' }] }, 'test policy'),
    client: { tls: adminTls },
  });
  const adminClient = new DevcompatClient({ address: server.address, tls: adminTls });
  t.teardown(() => adminClient.close());
  const env = { DEVCOMPAT_CLIENT_TLS_CA: ca.cert, DEVCOMPAT_CLIENT_TLS_CERT: agentCert.cert, DEVCOMPAT_CLIENT_TLS_KEY: agentCert.key };
  return { server, adminClient, env };
}

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of iterable) items.push(item);
  return items;
}
