// The server and the CLI as processes, configured for security as docs/security.md says: the
// server's flags and env vars, the CLI's own TLS flags and env vars (a key without its
// certificate is refused, never dropped for plaintext), and the refusals at start-up
// (plaintext on a non-loopback address, a policy file with a mistake).

import test from 'ava';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { CLI, devcompat, run } from './helpers/cli.ts';
import { issue, issueServer, makeCa } from './helpers/certs.ts';
import { spawnServer } from './helpers/process.ts';
import { startTestServer, tempDir } from './helpers/server.ts';

const startServer = (args: string[], env: Record<string, string> = {}) =>
  run(process.execPath, ['--import', 'tsx', 'server/main.ts', '--log-level', 'info', ...args], { env });

test('plaintext on 0.0.0.0 refuses to start, naming --insecure; a bad policy names the file and the path', async (t) => {
  const dir = tempDir(t);
  const refused = await startServer(['--db', path.join(dir, 'r.db'), '--address', '0.0.0.0:0']);
  t.is(refused.code, 1);
  t.regex(refused.stdout, /refusing to listen on 0\.0\.0\.0:0 without TLS.*--insecure/);

  const ca = makeCa(dir, 'ca');
  const cert = issueServer(dir, ca);
  const policy = path.join(dir, 'authz.yaml');
  writeFileSync(policy, 'bindings:\n  - identity: "agent:*"\n    role: superuser\n');
  const bad = await startServer(['--db', path.join(dir, 'r.db'), '--address', '127.0.0.1:0', '--tls-cert', cert.cert, '--tls-key', cert.key, '--client-ca', ca.cert, '--authz', policy]);
  t.is(bad.code, 1);
  t.true(bad.stdout.includes(`${policy}: invalid authorization policy: bindings[0].role: must be one of agent, scheduler, auditor, admin`));
});

test('DEVCOMPAT_INSECURE is read by its value: "false" or "0" leave plaintext on 0.0.0.0 refused, a word it does not know is an error naming it', async (t) => {
  const dir = tempDir(t);
  for (const value of ['false', '0', 'no', 'off', '']) {
    const refused = await startServer(['--db', path.join(dir, 'r.db'), '--address', '0.0.0.0:0'], { DEVCOMPAT_INSECURE: value });
    t.is(refused.code, 1, value);
    t.regex(refused.stdout, /refusing to listen on 0\.0\.0\.0:0 without TLS.*--insecure/, value);
  }
  // Refused before anything starts: by `devcompat serve` (what npm start runs) and by the server's own entry.
  const why = 'DEVCOMPAT_INSECURE="maybe": must be true or false (also 1/0, yes/no, on/off)';
  const unknown = await run(process.execPath, [CLI, 'serve', '--db', path.join(dir, 'r.db'), '--address', '0.0.0.0:0'], { env: { DEVCOMPAT_INSECURE: 'maybe' } });
  t.is(unknown.code, 2);
  t.is(unknown.stderr.trim(), `devcompat: error: ${why}`);
  t.false(unknown.stdout.includes('devcompat serving'));
  const direct = await startServer(['--db', path.join(dir, 'r.db'), '--address', '0.0.0.0:0'], { DEVCOMPAT_INSECURE: 'maybe' });
  t.is(direct.code, 2);
  t.is(direct.stderr.trim(), `devcompat-server: ${why}`);
});

test('the CLI speaks mutual TLS with its own flags and env vars; roles apply to it', async (t) => {
  const dir = tempDir(t);
  const ca = makeCa(dir, 'ca');
  const cert = issueServer(dir, ca);
  const policy = path.join(dir, 'authz.json');
  writeFileSync(policy, JSON.stringify({ bindings: [{ identity: 'agent:*', role: 'agent' }, { identity: 'scheduler:*', role: 'scheduler' }] }));
  // The server from its env vars, the names docs/security.md gives.
  const server = await spawnServer(['--db', path.join(dir, 'r.db'), '--address', '127.0.0.1:0'], {
    DEVCOMPAT_TLS_CERT: cert.cert,
    DEVCOMPAT_TLS_KEY: cert.key,
    DEVCOMPAT_CLIENT_CA: ca.cert,
    DEVCOMPAT_AUTHZ: policy,
  });
  t.teardown(() => {
    server.child.kill('SIGKILL');
  });
  const agent = issue(dir, ca, 'agent', ['URI:spiffe://example.org/agent/gvt-01']);
  const scheduler = issue(dir, ca, 'scheduler', ['URI:spiffe://example.org/scheduler/nova']);
  const devices = path.join(dir, 'devices.json');
  writeFileSync(
    devices,
    JSON.stringify({ devices: [{ device_id: 'gpu0', descriptor: { vendor: 'intel', device_api: 'vfio-pci', type: 'i915-GVTg_V5_4', software_version: '1.2.0' } }] }),
  );
  const synced = await devcompat(server.address, ['--tls-ca', ca.cert, '--tls-cert', agent.cert, '--tls-key', agent.key, 'sync', 'gvt-01', devices]);
  t.is(synced.code, 0, synced.stderr);
  const other = await devcompat(server.address, ['--tls-ca', ca.cert, '--tls-cert', agent.cert, '--tls-key', agent.key, 'sync', 'gvt-02', devices]);
  t.is(other.code, 2);
  t.regex(other.stderr, /PERMISSION_DENIED.*agent:gvt-01 may not call RegistryService\/SyncHost/);
  const env = { DEVCOMPAT_CLIENT_TLS_CA: ca.cert, DEVCOMPAT_CLIENT_TLS_CERT: scheduler.cert, DEVCOMPAT_CLIENT_TLS_KEY: scheduler.key };
  const listed = await devcompat(server.address, ['hosts', 'list'], { env });
  t.is(listed.code, 0, listed.stderr);
  t.regex(listed.stdout, /gvt-01/);
  const compact = await devcompat(server.address, ['audit', 'compact', '--revision', '1'], { env });
  t.is(compact.code, 2);
  t.regex(compact.stderr, /PERMISSION_DENIED.*scheduler:nova may not call HistoryService\/CompactHistory/);
  const anonymous = await devcompat(server.address, ['--tls-ca', ca.cert, 'hosts', 'list']);
  t.regex(anonymous.stderr, /UNAUTHENTICATED/);
});

test('a client key without its certificate (flag, env var or config file) is refused, not dropped for plaintext', async (t) => {
  const { server } = await startTestServer(t); // plaintext: a call that ignored the key would succeed
  const dir = tempDir(t);
  const key = path.join(dir, 'client.key');
  writeFileSync(key, 'not read: the pairing is checked first\n');
  const config = path.join(dir, 'client.yaml');
  writeFileSync(config, `tls_key: ${key}\n`);
  const plain = await devcompat(server.address, ['hosts', 'list']);
  t.is(plain.code, 0, plain.stderr);

  const refusal = 'devcompat: error: --tls-cert and --tls-key go together';
  for (const [how, args, env] of [
    ['--tls-key', ['--tls-key', key, 'hosts', 'list'], {}],
    ['DEVCOMPAT_CLIENT_TLS_KEY', ['hosts', 'list'], { DEVCOMPAT_CLIENT_TLS_KEY: key }],
    ['tls_key in --config', ['--config', config, 'hosts', 'list'], {}],
    ['--tls-key with health', ['--tls-key', key, 'health'], {}],
  ] as const) {
    const result = await devcompat(server.address, [...args], { env });
    t.is(result.code, 2, `${how}: ${result.stdout}`);
    t.is(result.stderr.trim(), refusal, how);
    t.is(result.stdout, '', `${how}: nothing was listed`);
  }
});
