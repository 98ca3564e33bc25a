// A restart as `npm start` does it (server/main.ts): the storage worker opens the database while
// the server's modules load, reads the devices a page of hosts at a time and sends them to the
// main thread, which decodes them and builds the live state from them while the worker checks
// the chain, taking the revision and head only with the worker's verdict. What a user notices: the
// restarted server answers exactly as the one before it (hosts, devices across several pages,
// FindTargets' verdicts and ranking), and one whose chain is broken still refuses to start.

import test from 'ava';
import path from 'node:path';
import { DevcompatClient } from '../client/client.ts';
import { DEVICE_PAGE_HOSTS } from '../server/store/sqlite-device-load.ts';
import { failedStart, spawnServer, type ServerProcess } from './helpers/process.ts';
import { editHistory } from './helpers/history-edit.ts';
import { gvt } from './helpers/integration.ts';
import { startTestServer, tempDir } from './helpers/server.ts';
import { openDatabase } from '../server/store/open-database.ts';
import { startServer } from '../server/server.ts';

/** More hosts than one page of the start-up read, so the devices arrive in several pages. */
const HOSTS = DEVICE_PAGE_HOSTS + 44;
const VERSIONS = ['1.2.0', '1.3.0', '1.4.0'];

async function stopped(server: ServerProcess): Promise<void> {
  server.child.kill('SIGTERM');
  const { code } = await server.exited;
  if (code !== 0) throw new Error(`the server exited with ${code}: ${server.stdout.slice(-5).join('\n')}`);
}

/** What a client sees of the registry: every host, every device, a search's targets and verdicts, and the chain's head. */
async function answers(address: string) {
  const client = new DevcompatClient({ address, actor: 'test' });
  try {
    const devices: unknown[] = [];
    for await (const device of client.listDevices({}, { pageSize: 500 })) devices.push(device);
    const found: unknown[] = [];
    for await (const item of client.findTargets('hosts/h000/devices/gpu0', { limit: 50, includeRejected: true })) found.push(item);
    const { intact, head_hash, head_revision } = await client.verifyHistory();
    return {
      chain: { intact, head_hash, head_revision },
      host: await client.getHost('hosts/h123'),
      devices,
      found,
      check: await client.check('hosts/h001/devices/gpu1', 'hosts/h002/devices/gpu0'),
    };
  } finally {
    client.close();
  }
}

test('a restarted server answers as the one before it: hosts, devices over several pages, FindTargets and checks', async (t) => {
  const db = path.join(tempDir(t), 'restart.db');
  const first = await spawnServer(['--db', db, '--address', '127.0.0.1:0', '--lease-ttl', '1d']);
  t.teardown(() => first.child.kill('SIGKILL'));
  const client = new DevcompatClient({ address: first.address, actor: 'test' });
  for (let i = 0; i < HOSTS; i++) {
    const name = `h${String(i).padStart(3, '0')}`;
    await client.syncHost({
      name,
      labels: { rack: `r${i % 7}` },
      devices: [
        { device_id: 'gpu0', descriptor: gvt(VERSIONS[i % 3]), labels: { slot: String(i % 2) } },
        { device_id: 'gpu1', descriptor: gvt(VERSIONS[(i + 1) % 3]) },
      ],
    });
  }
  client.close();
  const before = await answers(first.address);
  t.is(before.devices.length, HOSTS * 2);
  t.true(before.found.length > 10, 'the search finds targets');
  await stopped(first);

  const second = await spawnServer(['--db', db, '--address', '127.0.0.1:0', '--lease-ttl', '1d']);
  t.teardown(() => second.child.kill('SIGKILL'));
  const after = await answers(second.address);
  t.deepEqual(after, before);
  t.true(after.chain.intact);
  // The state built from the pages took the head the worker vouched for: the next write follows it.
  const writer = new DevcompatClient({ address: second.address, actor: 'test' });
  const written = await writer.syncHost({ name: 'h-after', devices: [{ device_id: 'gpu0', descriptor: gvt() }] });
  writer.close();
  t.is(BigInt(written.revision), BigInt(before.chain.head_revision) + 1n);
  await stopped(second);
});

test('a restart on a database whose recent history was altered still refuses to start, and serves nothing', async (t) => {
  const db = path.join(tempDir(t), 'altered.db');
  const first = await spawnServer(['--db', db, '--address', '127.0.0.1:0', '--lease-ttl', '1d']);
  t.teardown(() => first.child.kill('SIGKILL'));
  const client = new DevcompatClient({ address: first.address, actor: 'test' });
  for (let i = 0; i < 3; i++) await client.syncHost({ name: `h${i}`, devices: [{ device_id: 'gpu0', descriptor: gvt() }] });
  client.close();
  await stopped(first);
  t.true(editHistory(db, "UPDATE history_entries SET reason = 'forged' WHERE revision = 2") > 0);

  const refused = await failedStart(['--db', db, '--address', '127.0.0.1:0']);
  t.is(refused.code, 1);
  t.false(refused.served);
  t.regex(refused.fatal ?? '', /the history in .* is corrupt: ALTERED at revision 2/);
});

test('a start that cannot build its state from the database refuses with the cause, and leaves the file to the next start', async (t) => {
  const dir = tempDir(t);
  const first = await startTestServer(t, { dir });
  await first.client.syncHost({ name: 'h0', devices: [{ device_id: 'gpu0', descriptor: gvt() }] });
  await first.restart().then(({ server }) => server.close());
  // A descriptor's stored key that is not JSON: the chain (history) is intact, so the worker's
  // checks pass; the main thread, building the state from the tables, cannot.
  const db = openDatabase(first.dbPath);
  db.exec("UPDATE descriptors SET descriptor_key = 'not json'");
  db.close();

  const cause = /not json|JSON/;
  await t.throwsAsync(startServer({ address: '127.0.0.1:0', dbPath: first.dbPath }), { message: cause });
  // The failed start's storage worker is gone with its single-writer lock: the next start in
  // this process meets the same cause, not a database held by the first.
  await t.throwsAsync(startServer({ address: '127.0.0.1:0', dbPath: first.dbPath }), { message: cause });
});
