// `npm start --retain 7d`: time-based retention. At start-up the server compacts history older
// than seven days, keeping the last revision before the cut (the state as of seven days ago is
// still answerable), and the chain stays verifiable from the checkpoint.

import test from 'ava';
import { openDatabase } from '../server/store/open-database.ts';
import { DevcompatClient } from '../client/client.ts';
import { collect } from './helpers/integration.ts';
import { spawnServer } from './helpers/process.ts';
import { startTestServer } from './helpers/server.ts';

const DAY_MS = 86_400_000;
const GPU = (version: string) => ({ vendor: 'nvidia', device_api: 'vfio-pci', type: 'nvidia-a10-4q', software_version: version });

test('--retain 7d compacts the history older than seven days at start-up', async (t) => {
  const first = await startTestServer(t);
  let head = '';
  for (let i = 0; i < 10; i++) {
    head = (await first.client.syncHost({ name: `h${i % 3}`, devices: [{ device_id: 'gpu0', descriptor: GPU(`1.${i}.0`) }] } as any)).head_hash;
  }
  await first.server.close();
  // Revisions 1-5 were made eight days ago (revision times only: the chained entries are as
  // written, and never go backwards in time).
  const db = openDatabase(first.dbPath);
  t.is(db.prepare('UPDATE revisions SET time_ms = time_ms - ? WHERE revision <= 5').run(8 * DAY_MS).changes, 5);
  db.close();

  const server = await spawnServer(['--db', first.dbPath, '--address', '127.0.0.1:0', '--lease-ttl', '1h', '--retain', '7d']);
  t.teardown(() => void server.child.kill('SIGKILL'));
  const compacted = JSON.parse(await server.waitForLine((line) => line.includes('"msg":"history compacted"')));
  // Revision 5 is the registry as it was seven days ago: it stays; 1-4 go (three creations of a
  // host and its device, one device update).
  t.like(compacted, { checkpoint: { revision: 4 }, removed: 7 });

  const client = new DevcompatClient({ address: server.address });
  t.teardown(() => client.close());
  const history = await collect(client.history({ order: 'HISTORY_ORDER_OLDEST_FIRST' }));
  t.deepEqual([...new Set(history.map((entry) => Number(entry.revision)))], [5, 6, 7, 8, 9, 10]);
  const verified = await client.verifyHistory({ expectedHead: head });
  t.like(verified, { intact: true, checkpoint_revision: '4', head_hash: head });
  t.is((await client.getDevice('hosts/h1/devices/gpu0', { asOfRevision: '5' })).descriptor.software_version, '1.4.0');
});
