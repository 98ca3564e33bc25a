// Recorded hosts registered by real `devcompat agent --once` processes into a real server, then
// asked, through the client and the CLI, the public cases of each family
// (../shared/spec/device-families.md): the verdicts are the ones the vendors' rules give.

import test from 'ava';
import { DevcompatClient, type CompatibilityResult } from '../client/client.ts';
import { CLI, jsonLines, run, startSharedServer } from './helpers/cli.ts';
import { hostFlags } from './helpers/agent.ts';

const HOSTS = ['gvt-a', 'gvt-b', 'hisi-a', 'hisi-b', 'mlx-a', 'mlx-b', 'mlx-b-upgraded', 'nv-a10-a', 'nv-a10-b', 'nv-t4', 'qat-a', 'qat-b', 'qat-c', 'qat-401xx', 'virtio-a', 'virtio-b'];

let server: Awaited<ReturnType<typeof startSharedServer>>;
let client: DevcompatClient;

test.before(async () => {
  server = await startSharedServer({ leaseTtlMs: 3_600_000 });
  client = new DevcompatClient({ address: server.address });
  // Two agents at a time (the suite shares two cores): each is a real process that describes its host and syncs it once.
  const queue = [...HOSTS];
  const failures: string[] = [];
  await Promise.all(
    Array.from({ length: 2 }, async () => {
      for (let host = queue.shift(); host !== undefined; host = queue.shift()) {
        const result = await run(process.execPath, [CLI, '--address', server.address, 'agent', '--host', host, '--once', ...hostFlags(host)]);
        if (result.code !== 0) failures.push(`${host}: exit ${result.code}: ${result.stdout}${result.stderr}`);
      }
    }),
  );
  if (failures.length > 0) throw new Error(failures.join('\n'));
});

test.after.always(async () => {
  client?.close();
  await server?.close();
});

const failed = (result: CompatibilityResult) =>
  result.checks.filter((check) => check.result === 'CHECK_RESULT_FAIL').map((check) => `${check.attribute}:${check.reason}`);

async function verdict(source: string, target: string) {
  const result = await client.check(source, target);
  return { verdict: result.verdict, failed: failed(result) };
}

test('every agent registered its whole host', async (t) => {
  const hosts = [];
  for await (const host of client.listHosts()) hosts.push([host.name, host.device_count, host.state]);
  t.is(hosts.length, HOSTS.length);
  t.deepEqual(hosts.find(([name]) => name === 'hosts/gvt-a'), ['hosts/gvt-a', 4, 'HOST_STATE_READY']);
  t.deepEqual(hosts.find(([name]) => name === 'hosts/mlx-a'), ['hosts/mlx-a', 2, 'HOST_STATE_READY']);
});

test('1: a QAT 4xxx VF onto a VF of another generation is incompatible (device differs)', async (t) => {
  t.deepEqual(await verdict('hosts/qat-a/devices/0000:6b:00.1', 'hosts/qat-401xx/devices/0000:6b:00.1'), {
    verdict: 'VERDICT_INCOMPATIBLE',
    failed: ['pci_device:VALUE_MISMATCH'],
  });
});

test('2: QAT capabilities C onto C plus compression is compatible', async (t) => {
  t.deepEqual(await verdict('hosts/qat-a/devices/0000:6b:00.1', 'hosts/qat-b/devices/0000:6b:00.2'), { verdict: 'VERDICT_COMPATIBLE', failed: [] });
  // ...and not the other way: the destination must have every source capability.
  t.deepEqual(await verdict('hosts/qat-b/devices/0000:6b:00.1', 'hosts/qat-a/devices/0000:6b:00.1'), {
    verdict: 'VERDICT_INCOMPATIBLE',
    failed: ['capabilities:NOT_SUPERSET', 'dc_capabilities:NOT_SUPERSET'],
  });
});

test('3: QAT services sym;asym onto dc is incompatible (service map must be equal)', async (t) => {
  t.deepEqual(await verdict('hosts/qat-b/devices/0000:6b:00.1', 'hosts/qat-c/devices/0000:6b:00.1'), {
    verdict: 'VERDICT_INCOMPATIBLE',
    failed: ['services:VALUE_MISMATCH'],
  });
});

test('4: mlx5, same PSID and firmware 28.41.1000 on both: compatible', async (t) => {
  t.deepEqual(await verdict('hosts/mlx-a/devices/0000:3b:00.2', 'hosts/mlx-b/devices/0000:3b:00.3'), { verdict: 'VERDICT_COMPATIBLE', failed: [] });
});

test('5: mlx5 firmware 28.41.1000 onto 28.42.1000 is incompatible (firmware must be the same)', async (t) => {
  t.deepEqual(await verdict('hosts/mlx-a/devices/0000:3b:00.2', 'hosts/mlx-b-upgraded/devices/0000:3b:00.2'), {
    verdict: 'VERDICT_INCOMPATIBLE',
    failed: ['software_version:VALUE_MISMATCH'],
  });
});

test('6: nvidia-525 with ECC on onto ECC off is incompatible', async (t) => {
  t.deepEqual(await verdict('hosts/nv-a10-a/devices/0000:3b:00.0-nvidia-525', 'hosts/nv-a10-b/devices/0000:3b:00.0-nvidia-525'), {
    verdict: 'VERDICT_INCOMPATIBLE',
    failed: ['ecc:VALUE_MISMATCH'],
  });
});

test('7: nvidia-257 onto nvidia-525 is incompatible (another GPU family and type)', async (t) => {
  const { verdict: result, failed: reasons } = await verdict('hosts/nv-t4/devices/0000:3b:00.0-nvidia-257', 'hosts/nv-a10-a/devices/0000:3b:00.0-nvidia-525');
  t.is(result, 'VERDICT_INCOMPATIBLE');
  t.true(reasons.includes('type:TYPE_MISMATCH'));
  t.true(reasons.includes('gpu_device:VALUE_MISMATCH'));
});

test('8: HiSilicon SEC (a256) onto HPRE (a259) is incompatible (device id differs); SEC onto SEC is compatible', async (t) => {
  const { verdict: result, failed: reasons } = await verdict('hosts/hisi-b/devices/0000:76:00.1', 'hosts/hisi-a/devices/0000:79:00.1');
  t.is(result, 'VERDICT_INCOMPATIBLE');
  t.true(reasons.includes('pci_device:VALUE_MISMATCH'));
  t.deepEqual(await verdict('hosts/hisi-b/devices/0000:76:00.1', 'hosts/hisi-a/devices/0000:76:00.1'), { verdict: 'VERDICT_COMPATIBLE', failed: [] });
});

test('9: virtio-net features F onto F plus one bit, same MTU: compatible; back: incompatible', async (t) => {
  t.deepEqual(await verdict('hosts/virtio-a/devices/0000:17:00.1', 'hosts/virtio-b/devices/0000:17:00.1'), { verdict: 'VERDICT_COMPATIBLE', failed: [] });
  t.deepEqual(await verdict('hosts/virtio-b/devices/0000:17:00.1', 'hosts/virtio-a/devices/0000:17:00.1'), {
    verdict: 'VERDICT_INCOMPATIBLE',
    failed: ['features:NOT_SUPERSET'],
  });
});

test('GVT-g: a newer kernel minor accepts the stream, an older one does not', async (t) => {
  t.deepEqual(await verdict('hosts/gvt-a/devices/0000:00:02.0-i915-GVTg_V5_4', 'hosts/gvt-b/devices/0000:00:02.0-i915-GVTg_V5_4'), { verdict: 'VERDICT_COMPATIBLE', failed: [] });
  t.deepEqual(await verdict('hosts/gvt-b/devices/0000:00:02.0-i915-GVTg_V5_4', 'hosts/gvt-a/devices/0000:00:02.0-i915-GVTg_V5_4'), {
    verdict: 'VERDICT_INCOMPATIBLE',
    failed: ['software_version:MINOR_VERSION_DOWNGRADE'],
  });
});

test('devcompat find: an mlx5 VF may go to the other host with the same firmware, not to the upgraded one', async (t) => {
  const result = await run(process.execPath, [CLI, '--address', server.address, '--json', 'find', 'hosts/mlx-a/devices/0000:3b:00.2', '--explain']);
  t.is(result.code, 0, result.stderr);
  const items = jsonLines(result.stdout);
  const compatible = items.filter((item) => item.target?.rank > 0).map((item) => item.target.name);
  const rejected = items.filter((item) => item.target && (item.target.rank ?? 0) === 0).map((item) => item.target.name);
  t.deepEqual(compatible, ['hosts/mlx-b/devices/0000:3b:00.2', 'hosts/mlx-b/devices/0000:3b:00.3']);
  t.deepEqual(rejected.sort(), ['hosts/mlx-b-upgraded/devices/0000:3b:00.2', 'hosts/mlx-b-upgraded/devices/0000:3b:00.3']);
});
