// Identities and rights through real TLS connections: certificates made with openssl at test
// time, a real server with mutual TLS and a policy, the real client. Each test is what an
// attacker on the network or a misconfigured agent would try.

import test, { type ExecutionContext } from 'ava';
import * as grpc from '@grpc/grpc-js';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DevcompatClient, type ClientOptions } from '../client/client.ts';
import { startServer } from '../server/server.ts';
import { parsePolicy } from '../server/core/authz.ts';
import { issue, issueServer, makeCa, type CertFiles } from './helpers/certs.ts';
import { gvt, historyOf, rejectsWith } from './helpers/integration.ts';
import { capturedLog } from './helpers/log.ts';
import { startTestServer, tempDir } from './helpers/server.ts';

interface Pki {
  readonly dir: string;
  readonly ca: CertFiles;
  readonly server: CertFiles;
  /** A client certificate for this SAN (made once per name). */
  client(name: string, san: string): CertFiles;
}

function pki(t: ExecutionContext): Pki {
  const dir = tempDir(t);
  const ca = makeCa(dir, 'ca');
  return { dir, ca, server: issueServer(dir, ca), client: (name, san) => issue(dir, ca, name, [san]) };
}

const POLICY = {
  trust_domain: 'example.org',
  bindings: [
    { identity: 'agent:host-*', role: 'agent' },
    { identity: 'scheduler:nova', role: 'scheduler' },
    { identity: 'scheduler:placement', role: 'scheduler' },
    { identity: 'auditor:*', role: 'auditor' },
    { identity: 'admin:ops', role: 'admin' },
  ],
};

async function mtlsServer(t: ExecutionContext, p: Pki) {
  const testServer = await startTestServer(t, {
    tls: { certFile: p.server.cert, keyFile: p.server.key, clientCaFile: p.ca.cert },
    authz: parsePolicy(POLICY, 'test policy'),
    client: { tls: { caFile: p.ca.cert } },
  });
  const as = (kind: string, name: string, options: Partial<ClientOptions> = {}) => {
    const files = p.client(`${kind}-${name}`, `URI:spiffe://example.org/${kind}/${name}`);
    const client = new DevcompatClient({
      address: testServer.server.address,
      tls: { caFile: p.ca.cert, certFile: files.cert, keyFile: files.key },
      retry: { maxAttempts: 1 },
      ...options,
    });
    t.teardown(() => client.close());
    return client;
  };
  return { ...testServer, as };
}

const host = (name: string) => ({ name, devices: [{ device_id: 'gpu0', descriptor: gvt('1.2.0') }] });

test('an agent identity writes its own host and is refused on another, naming the identity and the method', async (t) => {
  const { as } = await mtlsServer(t, pki(t));
  const agentA = as('agent', 'host-a');
  await agentA.syncHost(host('host-a'));
  const admin = as('admin', 'ops');
  await admin.syncHost(host('host-b'));

  const denied = await rejectsWith(t, agentA.syncHost(host('host-b')), grpc.status.PERMISSION_DENIED);
  t.regex(denied.message, /agent:host-a/);
  t.regex(denied.message, /RegistryService\/SyncHost/);
  t.is(denied.reason, 'PERMISSION_DENIED');
  await rejectsWith(t, agentA.setHostDraining('hosts/host-b', true), grpc.status.PERMISSION_DENIED);
  await rejectsWith(t, agentA.deleteHost('hosts/host-a'), grpc.status.PERMISSION_DENIED);
  // Its own draining is its to set; host-b is untouched.
  t.true((await agentA.setHostDraining('hosts/host-a', true)).host.draining);
  t.false((await admin.getHost('hosts/host-b')).draining);
});

test('a KeepAlive stream is checked on every message: an agent cannot keep another host alive', async (t) => {
  const { as } = await mtlsServer(t, pki(t));
  const admin = as('admin', 'ops');
  await admin.syncHost(host('host-b'));
  const agentA = as('agent', 'host-a');
  await agentA.syncHost(host('host-a'));
  const keeper = agentA.keepAlive();
  t.teardown(() => keeper.close());
  t.is((await keeper.renew('host-a')).state, 'HOST_STATE_READY');
  const error = await t.throwsAsync(keeper.renew('hosts/host-b'));
  t.regex(error!.message, /agent:host-a may not call RegistryService\/KeepAlive/);
});

test('a scheduler reads and checks but cannot compact, delete or write', async (t) => {
  const { as } = await mtlsServer(t, pki(t));
  const admin = as('admin', 'ops');
  const written = await admin.syncHost(host('host-a'));
  const scheduler = as('scheduler', 'nova');
  t.is((await scheduler.getHost('hosts/host-a')).name, 'hosts/host-a');
  const result = await scheduler.check('hosts/host-a/devices/gpu0', 'hosts/host-a/devices/gpu0');
  t.truthy(result);
  const denied = await rejectsWith(t, scheduler.compactHistory(written.revision), grpc.status.PERMISSION_DENIED);
  t.regex(denied.message, /scheduler:nova may not call HistoryService\/CompactHistory/);
  await rejectsWith(t, scheduler.deleteHost('hosts/host-a'), grpc.status.PERMISSION_DENIED);
  await rejectsWith(t, scheduler.syncHost(host('host-z')), grpc.status.PERMISSION_DENIED);
  await rejectsWith(t, scheduler.verifyHistory(), grpc.status.PERMISSION_DENIED);
  // An auditor reads history; an identity the policy does not name gets nothing.
  t.true((await as('auditor', 'kim').verifyHistory()).intact);
  const stranger = await rejectsWith(t, as('tenant', 'eve').getHost('hosts/host-a'), grpc.status.PERMISSION_DENIED);
  t.regex(stranger.message, /tenant:eve/);
});

test('claims are a scheduler\'s (and an admin\'s): an agent or an auditor cannot reserve capacity', async (t) => {
  const { as } = await mtlsServer(t, pki(t));
  await as('admin', 'ops').syncHost(host('host-a'));
  const claimed = await as('scheduler', 'nova').claims.create('host-a', 'mig-1', [{ device: 'gpu0' }]);
  t.is(claimed.claim.name, 'hosts/host-a/claims/mig-1');
  t.true(claimed.created);
  for (const [role, name] of [['agent', 'host-a'], ['auditor', 'kim']] as const) {
    const denied = await rejectsWith(t, as(role, name).claims.create('host-a', `mig-${role}`, [{ device: 'gpu0' }]), grpc.status.PERMISSION_DENIED);
    t.regex(denied.message, new RegExp(`${role}:${name} may not call PlacementService/CreateClaim`));
  }
  await rejectsWith(t, as('agent', 'host-a').claims.release('hosts/host-a/claims/mig-1'), grpc.status.PERMISSION_DENIED);
  t.is((await as('scheduler', 'nova').claims.get('hosts/host-a/claims/mig-1')).name, 'hosts/host-a/claims/mig-1');
});

test('a claim is its creator\'s: another scheduler cannot renew, release or take over its id, whatever actor it sends; an admin can end it', async (t) => {
  const { as } = await mtlsServer(t, pki(t));
  await as('admin', 'ops').syncHost(host('host-a'));
  const nova = as('scheduler', 'nova');
  const { claim } = await nova.claims.create('host-a', 'mig-1', [{ device: 'gpu0' }], { ttlMs: 60_000 });
  t.is(claim.owner, 'scheduler:nova');
  // Another scheduler, even claiming to act for nova, is refused and told whose it is.
  const other = as('scheduler', 'placement', { actor: 'scheduler:nova' });
  const renew = await rejectsWith(t, other.claims.renew(claim.name, { ttlMs: 3_600_000 }), grpc.status.PERMISSION_DENIED);
  t.is(renew.message, 'scheduler:placement may not renew hosts/host-a/claims/mig-1: it is held by scheduler:nova (only its owner or an admin may)');
  const release = await rejectsWith(t, other.claims.release(claim.name), grpc.status.PERMISSION_DENIED);
  t.regex(release.message, /may not release hosts\/host-a\/claims\/mig-1: it is held by scheduler:nova/);
  const takeover = await rejectsWith(t, other.claims.create('host-a', 'mig-1', [{ device: 'gpu0' }], { ttlMs: 60_000 }), grpc.status.ALREADY_EXISTS);
  t.regex(takeover.message, /held by scheduler:nova/);
  const held = await nova.claims.get(claim.name);
  t.is(held.state, 'CLAIM_STATE_ACTIVE', 'the refused calls changed nothing');
  t.deepEqual(held.expire_time, claim.expire_time);
  // The owner renews and retries; an admin releases.
  t.false((await nova.claims.create('host-a', 'mig-1', [{ device: 'gpu0' }], { ttlMs: 60_000 })).created);
  t.is((await nova.claims.renew(claim.name)).state, 'CLAIM_STATE_ACTIVE');
  const released = await as('admin', 'ops').claims.release(claim.name);
  t.is(released.state, 'CLAIM_STATE_RELEASED');
  t.is(released.owner, 'scheduler:nova');
  const entries = await historyOf(as('admin', 'ops'), { resource: 'hosts/host-a/claims/mig-1', order: 'HISTORY_ORDER_OLDEST_FIRST' });
  t.deepEqual(entries.map((e) => [e.kind, e.actor]), [
    ['CHANGE_KIND_CREATED', 'scheduler:nova'],
    ['CHANGE_KIND_UPDATED', 'scheduler:nova'],
    ['CHANGE_KIND_DELETED', 'admin:ops'],
  ], 'only the owner\'s and the admin\'s calls are in history');
});

test('a forged x-devcompat-actor does not change the recorded actor: the identity is recorded', async (t) => {
  const { as } = await mtlsServer(t, pki(t));
  const agentA = as('agent', 'host-a', { actor: 'ops@alice' });
  await agentA.syncHost(host('host-a'));
  const entries = await historyOf(as('admin', 'ops'), { resource: 'hosts/host-a' });
  t.true(entries.length > 0);
  for (const entry of entries) t.is(entry.actor, 'agent:host-a');
  // The server's own actor is refused outright.
  await rejectsWith(t, as('agent', 'host-a', { actor: 'devcompat' }).syncHost(host('host-a')), grpc.status.INVALID_ARGUMENT);
});

test('no client certificate (or one from another CA) is UNAUTHENTICATED', async (t) => {
  const p = pki(t);
  const { client, server } = await mtlsServer(t, p);
  const error = await rejectsWith(t, client.getHost('hosts/host-a'), grpc.status.UNAUTHENTICATED);
  t.regex(error.message, /client certificate/);
  const otherCa = makeCa(p.dir, 'rogue-ca');
  const rogue = issue(p.dir, otherCa, 'rogue-admin', ['URI:spiffe://example.org/admin/ops']);
  const impostor = new DevcompatClient({
    address: server.address,
    tls: { caFile: p.ca.cert, certFile: rogue.cert, keyFile: rogue.key },
    retry: { maxAttempts: 1 },
  });
  t.teardown(() => impostor.close());
  await rejectsWith(t, impostor.compactHistory(1), grpc.status.UNAUTHENTICATED);
  // Another trust domain is not an identity.
  const foreign = issue(p.dir, p.ca, 'foreign-admin', ['URI:spiffe://evil.example/admin/ops']);
  const outsider = new DevcompatClient({
    address: server.address,
    tls: { caFile: p.ca.cert, certFile: foreign.cert, keyFile: foreign.key },
    retry: { maxAttempts: 1 },
  });
  t.teardown(() => outsider.close());
  await rejectsWith(t, outsider.getHost('hosts/host-a'), grpc.status.UNAUTHENTICATED);
});

test('names written into another name of the certificate are not read as identities: the certificate\'s own URI is', async (t) => {
  const p = pki(t);
  const { server, as } = await mtlsServer(t, p);
  // A CA that copies a requested DNS name as it is: the requester puts an admin URI inside it.
  // Node prints that name quoted, its commas escaped (\u002c); the same text with bare commas,
  // which splitting at every comma read as an admin, is core-authz.test.ts's.
  const smuggler = issue(p.dir, p.ca, 'smuggler', ['DNS:a, URI:spiffe://example.org/admin/ops, b', 'URI:spiffe://example.org/agent/host-17']);
  const client = new DevcompatClient({
    address: server.address,
    tls: { caFile: p.ca.cert, certFile: smuggler.cert, keyFile: smuggler.key },
    retry: { maxAttempts: 1 },
  });
  t.teardown(() => client.close());
  const denied = await rejectsWith(t, client.compactHistory(1), grpc.status.PERMISSION_DENIED);
  t.regex(denied.message, /^agent:host-17 may not call HistoryService\/CompactHistory/);
  await client.syncHost(host('host-17'));
  const entries = await historyOf(as('admin', 'ops'), { resource: 'hosts/host-17' });
  t.true(entries.length > 0);
  for (const entry of entries) t.is(entry.actor, 'agent:host-17');
});

test('a client certificate that expires while its connection is open: the next call and the next KeepAlive message are UNAUTHENTICATED', async (t) => {
  const p = pki(t);
  const { server } = await mtlsServer(t, p);
  // Time enough to connect, sync and renew on a loaded machine before it expires (8 s was
  // not, once, with two suites running at once).
  const notAfter = new Date(Math.floor(Date.now() / 1000) * 1000 + 20_000);
  const files = issue(p.dir, p.ca, 'short-lived', ['URI:spiffe://example.org/agent/host-e'], { notBefore: new Date(Date.now() - 60_000), notAfter });
  const agent = new DevcompatClient({
    address: server.address,
    tls: { caFile: p.ca.cert, certFile: files.cert, keyFile: files.key },
    retry: { maxAttempts: 1 },
  });
  t.teardown(() => agent.close());
  await agent.syncHost(host('host-e'));
  const keeper = agent.keepAlive();
  t.teardown(() => keeper.close());
  t.is((await keeper.renew('host-e')).state, 'HOST_STATE_READY');
  // The same connection and stream, once the certificate's notAfter has passed.
  await new Promise((resolve) => setTimeout(resolve, notAfter.getTime() + 1_200 - Date.now()));
  const error = await rejectsWith(t, agent.getHost('hosts/host-e'), grpc.status.UNAUTHENTICATED);
  t.regex(error.message, new RegExp(`the client certificate expired at ${notAfter.toISOString()}`));
  const renewal = await t.throwsAsync(keeper.renew('host-e'));
  t.regex(renewal!.message, /KeepAlive: the client certificate expired at/);
});

test('a caller without a certificate, or without a role, is refused, not held, even when it asks for a revision: it learns no revision', async (t) => {
  const { client, as } = await mtlsServer(t, pki(t));
  const admin = as('admin', 'ops');
  await admin.syncHost(host('host-a')); // its connection is up before it is held below
  // Held, a call for a revision the server lacks ends UNAVAILABLE naming the revisions (after
  // at most 5 s, MIN_REVISION_MAX_WAIT_MS, well within these deadlines); refused, it ends with
  // the refusal's own code and no revision. Deadlines far beyond both, so that a loaded machine
  // (a new connection's TLS handshake there can take seconds) cannot turn either into
  // DEADLINE_EXCEEDED.
  const error = await rejectsWith(t, client.getHost('hosts/host-a', { minRevision: 9_007_199_254_740_991, deadlineMs: 60_000 }), grpc.status.UNAUTHENTICATED);
  t.notRegex(error.message, /revision/);
  t.false('revision' in error.metadata);
  // Nor is an identity the policy gives no role (refused PERMISSION_DENIED).
  const roleless = as('agent', 'nobody');
  const nobody = await rejectsWith(t, roleless.getHost('hosts/host-a', { minRevision: 9_007_199_254_740_991, deadlineMs: 60_000 }), grpc.status.PERMISSION_DENIED);
  t.notRegex(nobody.message, /revision/);
  t.false('revision' in nobody.metadata);
  // An identity with a role is held as before, and told where the server is.
  const held = await rejectsWith(t, admin.getHost('hosts/host-a', { minRevision: 9_007_199_254_740_991, deadlineMs: 20_000 }), grpc.status.UNAVAILABLE);
  t.regex(held.message, /this server has applied revision 1/);
  t.is(held.metadata.revision, '1');
});

test('without TLS the server actor is reserved, and other actors are recorded as before', async (t) => {
  const { client, server } = await startTestServer(t, { client: { actor: 'devcompat' } });
  await rejectsWith(t, client.syncHost(host('host-a')), grpc.status.INVALID_ARGUMENT);
  const bob = new DevcompatClient({ address: server.address, actor: 'bob' });
  t.teardown(() => bob.close());
  await bob.syncHost(host('host-a'));
  t.is((await historyOf(bob, { resource: 'hosts/host-a' }))[0]!.actor, 'bob');
});

test('plaintext on a non-loopback address refuses to start unless --insecure', async (t) => {
  const dir = tempDir(t);
  await t.throwsAsync(startServer({ dbPath: path.join(dir, 'r.db'), address: '0.0.0.0:0' }), {
    message: /refusing to listen on 0\.0\.0\.0:0 without TLS.*--insecure/,
  });
  const p = pki(t);
  await t.throwsAsync(
    startServer({ dbPath: path.join(dir, 'r.db'), address: '127.0.0.1:0', tls: { certFile: p.server.cert, keyFile: p.server.key, clientCaFile: p.ca.cert } }),
    { message: /--client-ca needs an authorization policy/ },
  );
});

test('a rotated server certificate is served without a restart', async (t) => {
  const p = pki(t);
  const certFile = path.join(p.dir, 'live.crt');
  const keyFile = path.join(p.dir, 'live.key');
  copyFileSync(p.server.cert, certFile);
  copyFileSync(p.server.key, keyFile);
  const log = capturedLog();
  const { server } = await startTestServer(t, { tls: { certFile, keyFile, reloadIntervalMs: 50 }, logger: log.logger, client: { tls: { caFile: p.ca.cert } } });
  const newCa = makeCa(p.dir, 'new-ca');
  const newServer = issueServer(p.dir, newCa, 'new-server');
  const trustsNew = new DevcompatClient({ address: server.address, tls: { caFile: newCa.cert }, retry: { maxAttempts: 1 } });
  t.teardown(() => trustsNew.close());
  await rejectsWith(t, trustsNew.getHost('hosts/none'), grpc.status.UNAVAILABLE);

  // Key first, then certificate: the reload that sees a mismatched pair keeps the old one.
  writeFileSync(keyFile, readText(newServer.key));
  writeFileSync(certFile, readText(newServer.cert));
  await log.waitFor('TLS certificates reloaded');
  const fresh = new DevcompatClient({ address: server.address, tls: { caFile: newCa.cert }, retry: { maxAttempts: 1 } });
  t.teardown(() => fresh.close());
  await rejectsWith(t, fresh.getHost('hosts/none'), grpc.status.NOT_FOUND);
});

function readText(file: string): string {
  return readFileSync(file, 'utf8');
}
