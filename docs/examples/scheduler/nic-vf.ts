// Where can a VM's NIC VF go? A scheduler's first question, for a ConnectX VF bound to
// mlx5_vfio_pci. Run: node nic-vf.js <registry address>. The example registers two hosts
// itself (a host agent does that in production) so that it runs against an empty registry.
import { DevcompatClient, DevcompatError, type DescriptorInput } from '@devcompat/client';

const address = process.argv[2] ?? 'localhost:7443';
const client = new DevcompatClient({ address, actor: 'example-scheduler' });

// The descriptor the mlx5-vfio-pci profile makes of a ConnectX-6 Dx VF: firmware and PSID must match.
const connectx = (firmware: string): DescriptorInput => ({
  vendor: '15b3',
  device_api: 'vfio-pci',
  type: 'mlx5_vfio_pci',
  software_version: firmware,
  attributes: { psid: { string_value: 'MT_0000000359' }, pci_device: { string_value: '101e' } },
  rules: { software_version: { op: 'COMPARE_OP_EQUAL' }, psid: { op: 'COMPARE_OP_EQUAL' }, pci_device: { op: 'COMPARE_OP_EQUAL' } },
});
for (const [host, firmware] of [['nic-a', '22.36.1010'], ['nic-b', '22.36.1010'], ['nic-c', '22.39.1002']] as const) {
  await client.syncHost({
    name: `hosts/${host}`,
    devices: [0, 1].map((i) => ({ device_id: `0000:3b:00.${i + 2}`, descriptor: connectx(firmware), capacity: { total: 1, available: 1 } })),
  });
}

// FindTargets: compatible targets best first, then (includeRejected) why the others are not.
const controller = new AbortController();
try {
  for await (const item of client.findTargets('hosts/nic-a/devices/0000:3b:00.2', {
    requireAvailable: true,
    includeRejected: true,
    limit: 10,
    deadlineMs: 5_000,
    signal: controller.signal,
  })) {
    if ('target' in item) {
      const { target } = item;
      const why = target.result.checks.filter((c) => c.result === 'CHECK_RESULT_FAIL').map((c) => c.attribute);
      console.log(target.rank > 0 ? `target ${target.rank}: ${target.name}` : `rejected: ${target.name} (${why.join(', ')})`);
    } else {
      console.log(`summary: ${item.summary.compatible} compatible of ${item.summary.candidates} at revision ${item.summary.revision}`);
    }
  }
} catch (error) {
  // Every failure is a DevcompatError with a gRPC code and, for the registry's own errors, a reason.
  if (error instanceof DevcompatError) console.error(`find failed: ${error.codeName} ${error.reason ?? ''} ${error.message}`);
  throw error;
} finally {
  client.close();
}
