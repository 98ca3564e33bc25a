// Every recorded host of test/fixtures/sysfs/ described through the shipped profiles gives
// exactly its golden file (expected.json beside the tree): the descriptors, capacities and
// labels the agent would register, and every device it skips with why. UPDATE_GOLDEN=1
// rewrites the golden files (review the diff).

import test from 'ava';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describeJson } from '../agent/describe-format.ts';
import { describeRecorded, recordedHosts, SYSFS_FIXTURES } from './helpers/agent.ts';

const hosts = recordedHosts();

test('every family has a recorded host, and a host mixes families', (t) => {
  t.true(hosts.length >= 12);
  for (const name of ['gvt-a', 'nv-a10-a', 'nv-l4-sriov', 'nv-a100-mdev', 'mlx-a', 'hisi-a', 'qat-a', 'virtio-a', 'mixed-01']) t.true(hosts.includes(name), name);
});

for (const host of hosts) {
  test(`${host}: described as its golden file says`, async (t) => {
    const inventory = await describeRecorded(host);
    const actual = `${JSON.stringify(describeJson(undefined, inventory), null, 2)}\n`;
    const golden = path.join(SYSFS_FIXTURES, host, 'expected.json');
    if (process.env.UPDATE_GOLDEN === '1') writeFileSync(golden, actual);
    t.true(existsSync(golden), `no golden file ${golden} (UPDATE_GOLDEN=1 writes it)`);
    t.deepEqual(JSON.parse(actual), JSON.parse(readFileSync(golden, 'utf8')));
  });
}
