// What the shipped VF profiles must know beyond a VF's own ids: where the VF sits among its PF's
// VFs (HiSilicon's PF gives its last VF more queue pairs, and the destination refuses a stream
// with another count) and whether its PF lets it migrate at all (an mlx5 VF without
// `migratable` on its devlink port). Recorded hosts are described as `agent describe` does and
// their descriptors judged by the registry's own engine, so a verdict here is the registry's.

import test, { type ExecutionContext } from 'ava';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { DescribedDevice } from '../agent/describe.ts';
import { copyHost, describeRecorded } from './helpers/agent.ts';
import { cachedFor } from './helpers/cached-verdicts.ts';

function byId(devices: readonly DescribedDevice[], id: string): DescribedDevice {
  const device = devices.find((candidate) => candidate.device_id === id);
  if (!device) throw new Error(`${id} was not described (described: ${devices.map((d) => d.device_id).join(', ')})`);
  return device;
}

/** The registry's verdict for a VM on `source` moving onto `target`, with the failed checks. */
function judge(source: DescribedDevice, target: DescribedDevice) {
  const { verdict } = cachedFor({ source: source.descriptor, target: target.descriptor });
  return {
    verdict: verdict.verdict,
    failed: verdict.checks.filter((check) => check.result === 'CHECK_RESULT_FAIL').map((check) => `${check.attribute}:${check.reason}`),
  };
}

test('HiSilicon: the last VF of a PF (which holds the remainder of the queue pairs) is incompatible with its siblings', async (t) => {
  // hisi-c: a SEC PF, pf_q_num 256, five VFs: 153 queue pairs each, 156 on the last (0000:76:00.5).
  const { devices, skipped } = await describeRecorded('hisi-c');
  t.deepEqual(skipped, []);
  const [first, second, fourth, last] = ['0000:76:00.1', '0000:76:00.2', '0000:76:00.4', '0000:76:00.5'].map((id) => byId(devices, id));
  t.deepEqual(judge(first, last), { verdict: 'VERDICT_INCOMPATIBLE', failed: ['last_vf:VALUE_MISMATCH'] });
  t.deepEqual(judge(last, fourth), { verdict: 'VERDICT_INCOMPATIBLE', failed: ['last_vf:VALUE_MISMATCH'] });
  // Non-last VFs hold as many queue pairs as each other: they stay compatible.
  t.deepEqual(judge(first, second), { verdict: 'VERDICT_COMPATIBLE', failed: [] });
  t.deepEqual(judge(fourth, first), { verdict: 'VERDICT_COMPATIBLE', failed: [] });
  t.deepEqual(last.descriptor.attributes?.last_vf, { bool_value: true });
  t.deepEqual(first.descriptor.attributes?.last_vf, { bool_value: false });
  t.deepEqual(last.descriptor.rules?.last_vf, { op: 'COMPARE_OP_EQUAL' });
});

test('HiSilicon: a PF with a single VF: that VF is the last, and a VF of a five-VF PF is not its target', async (t) => {
  const single = byId((await describeRecorded('hisi-b')).devices, '0000:76:00.1');
  const lastOfFive = byId((await describeRecorded('hisi-c')).devices, '0000:76:00.5');
  t.deepEqual(single.descriptor.attributes?.last_vf, { bool_value: true });
  t.deepEqual(judge(single, lastOfFive), { verdict: 'VERDICT_INCOMPATIBLE', failed: ['vf_count:VALUE_MISMATCH'] });
});

test("HiSilicon: a VF of another hardware version (its PCI revision, the driver's qm->ver) is not a target; the uacce error-isolation state is not compared", async (t) => {
  // The same SEC VF on a later Kunpeng (revision 0x30): another register layout and other
  // algorithms, which the stream cannot carry over.
  const host = copyHost(t, 'hisi-b');
  const vf = path.join(host, 'sys/devices/pci0000:76/0000:76:00.1');
  const before = byId((await describeRecorded('hisi-b')).devices, '0000:76:00.1');
  writeFileSync(path.join(vf, 'revision'), '0x30\n');
  // A PF isolated after repeated errors (uacce `isolate` 1) is no other migration target.
  writeFileSync(path.join(host, 'sys/devices/pci0000:76/0000:76:00.0/uacce/hisi_sec2-2/isolate'), '1\n');
  const after = byId((await describeRecorded(host)).devices, '0000:76:00.1');
  t.deepEqual(after.descriptor.attributes?.hw_version, { string_value: '30' });
  t.deepEqual(judge(before, after), { verdict: 'VERDICT_INCOMPATIBLE', failed: ['hw_version:VALUE_MISMATCH'] });
  t.false('isolation' in (after.descriptor.attributes ?? {}));
  writeFileSync(path.join(vf, 'revision'), '0x21\n');
  t.deepEqual(judge(before, byId((await describeRecorded(host)).devices, '0000:76:00.1')), { verdict: 'VERDICT_COMPATIBLE', failed: [] });
});

const NOT_MIGRATABLE =
  'fact migratable: the VF is not migratable: run "devlink port function set pci/0000:3b:00.0/<port> migratable enable" ' +
  'for its port (vfnum 1 in "devlink port show") while the VF is unbound, then bind it to mlx5_vfio_pci again (it reads false)';

test('mlx5: a VF whose devlink port function is not migratable is skipped with the fix; a migratable one is registered as before', async (t) => {
  // mlx-c: mlx-a's card and firmware, but its second VF was bound without `migratable enable`.
  const inventory = await describeRecorded('mlx-c');
  t.deepEqual(inventory.skipped, [{ device_id: '0000:3b:00.3', profile: 'mlx5-vfio-pci', reason: NOT_MIGRATABLE }]);
  t.deepEqual(inventory.devices.map((device) => device.device_id), ['0000:3b:00.2']);
  const reference = byId((await describeRecorded('mlx-a')).devices, '0000:3b:00.2');
  t.deepEqual(inventory.devices[0].descriptor, reference.descriptor);
  t.deepEqual(judge(reference, inventory.devices[0]), { verdict: 'VERDICT_COMPATIBLE', failed: [] });
});

/** mlx-a (two VFs of PF 0000:3b:00.0) with `devlink -j port show` recorded as given. */
function mlxWithPorts(t: ExecutionContext, ports: { stdout?: string; exit_code?: number; stderr?: string }): string {
  const host = copyHost(t, 'mlx-a');
  const file = path.join(host, 'commands.json');
  const recording = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  writeFileSync(file, JSON.stringify({ ...recording, 'devlink -j port show': ports }));
  return host;
}

function vfPort(pf: string, index: number, vf: number, migratable: string) {
  return [`pci/${pf}/${index}`, { type: 'eth', flavour: 'pcivf', controller: 0, pfnum: 0, vfnum: vf, external: false, function: { hw_addr: '00:00:00:00:00:00', migratable } }];
}

test("mlx5: the VF's port is found by its PF and VF index, whatever the port indexes and order", async (t) => {
  // Another card's PF (0000:af:00.0) lists a VF 0 too, first, and not migratable; 0000:3b:00.0's
  // ports carry vhca-based indexes. Only 0000:3b:00.0's vfnum 1 is not migratable.
  const ports = Object.fromEntries([
    vfPort('0000:af:00.0', 1, 0, 'disable'),
    vfPort('0000:3b:00.0', 65538, 1, 'disable'),
    vfPort('0000:3b:00.0', 65537, 0, 'enable'),
  ]);
  const inventory = await describeRecorded(mlxWithPorts(t, { stdout: JSON.stringify({ port: ports }) }));
  t.deepEqual(inventory.devices.map((device) => device.device_id), ['0000:3b:00.2']);
  t.deepEqual(inventory.skipped.map((skip) => [skip.device_id, skip.reason]), [['0000:3b:00.3', NOT_MIGRATABLE]]);
});

test('mlx5: when devlink fails, or does not show the VF as migratable, the VF is skipped as for any failing command', async (t) => {
  const failed = await describeRecorded(mlxWithPorts(t, { exit_code: 1, stderr: 'devlink answers: Operation not supported' }));
  t.deepEqual(failed.devices, []);
  t.deepEqual(
    failed.skipped.map((skip) => skip.reason),
    Array(2).fill('fact migratable: command "devlink -j port show" failed: exited with 1: devlink answers: Operation not supported'),
  );

  // A PF in legacy mode has no VF ports: the VF is not known to be migratable.
  const legacy = await describeRecorded(mlxWithPorts(t, { stdout: JSON.stringify({ port: { 'pci/0000:3b:00.0/65535': { type: 'eth', flavour: 'physical', port: 0 } } }) }));
  t.deepEqual(legacy.devices, []);
  t.deepEqual(legacy.skipped.map((skip) => skip.reason), [
    'fact migratable: command "devlink -j port show": no "port.[pci/0000:3b:00.0/* flavour=pcivf vfnum=0].function.migratable" in the JSON output',
    'fact migratable: command "devlink -j port show": no "port.[pci/0000:3b:00.0/* flavour=pcivf vfnum=1].function.migratable" in the JSON output',
  ]);
});
