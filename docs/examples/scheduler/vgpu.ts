// Can these vGPU VMs move? One check, then a batch on one stream. NVIDIA vGPU (mdev) type
// nvidia-525 (A40-8Q): the driver branch, ECC and frame buffer must match. Run: node vgpu.js <address>.
import { DevcompatClient, type DescriptorInput } from '@devcompat/client';

const address = process.argv[2] ?? 'localhost:7443';
const client = new DevcompatClient({ address, actor: 'example-scheduler' });

const a40 = (driver: string, ecc: boolean): DescriptorInput => ({
  vendor: '10de',
  device_api: 'vfio-pci',
  type: 'nvidia-525',
  software_version: driver,
  attributes: { ecc: { bool_value: ecc }, framebuffer_mb: { int_value: 8192 }, gpu_device: { string_value: '2235' } },
  rules: {
    software_version: { op: 'COMPARE_OP_EQUAL' },
    ecc: { op: 'COMPARE_OP_EQUAL' },
    framebuffer_mb: { op: 'COMPARE_OP_EQUAL' },
    gpu_device: { op: 'COMPARE_OP_EQUAL' },
  },
});
await client.syncHost({ name: 'hosts/gpu-a', devices: [{ device_id: 'vgpu0', descriptor: a40('535.161.08', true), capacity: { total: 4, available: 3 } }] });
await client.syncHost({ name: 'hosts/gpu-b', devices: [{ device_id: 'vgpu0', descriptor: a40('535.161.08', true), capacity: { total: 4, available: 4 } }] });
await client.syncHost({ name: 'hosts/gpu-c', devices: [{ device_id: 'vgpu0', descriptor: a40('535.161.08', false), capacity: { total: 4, available: 4 } }] });

// One pair: a unary call with its own deadline.
const one = await client.check('hosts/gpu-a/devices/vgpu0', 'hosts/gpu-b/devices/vgpu0', { deadlineMs: 2_000 });
console.log(`gpu-a -> gpu-b: ${one.verdict}`);

// Many pairs: checkMany sends them on one stream (reconnecting if the server restarts) and
// resolves with one result per item, in order; an item that fails has `error`, the rest go on.
const pairs = ['gpu-b', 'gpu-c', 'missing'].map((host) => ({ source: 'hosts/gpu-a/devices/vgpu0', target: `hosts/${host}/devices/vgpu0` }));
const results = await client.checkMany(pairs, { deadlineMs: 10_000 });
for (const [i, outcome] of results.entries()) {
  console.log(`${pairs[i].target}: ${outcome.result ? outcome.result.verdict : `error ${outcome.error!.reason} ${outcome.error!.message}`}`);
}
client.close();
