// A local copy of the registry for a scheduler that reads it often: RegistryMirror lists
// everything once, then follows the watch feed (and lists again if the feed was compacted
// away). Reads are then local; waitForRevision(r) waits until the mirror has seen a write.
// Run: node mirror.js <address>.
import { DevcompatClient, RegistryMirror } from '@devcompat/client';

const address = process.argv[2] ?? 'localhost:7443';
const client = new DevcompatClient({ address, actor: 'example-scheduler' });
const vf = { vendor: '8086', device_api: 'vfio-pci', type: 'iavf', software_version: '4.8.2' };
await client.syncHost({ name: 'hosts/m-1', labels: { zone: 'z1' }, devices: [{ device_id: 'vf0', descriptor: vf }] });

const mirror = new RegistryMirror(client);
mirror.on('error', (error) => console.error(`mirror stopped: ${error.message}`));
await mirror.start();
console.log(`mirror at revision ${mirror.revision}: ${mirror.hosts().length} host(s)`);

const write = await client.syncHost({ name: 'hosts/m-2', devices: [{ device_id: 'vf0', descriptor: vf }, { device_id: 'vf1', descriptor: vf }] });
await mirror.waitForRevision(write.revision, 10_000);
const iavf = mirror.devices({ vendor: '8086', type: 'iavf' });
console.log(`after revision ${write.revision}: ${iavf.length} iavf device(s) on ${new Set(iavf.map((d) => d.name.split('/devices/')[0])).size} host(s)`);
await mirror.close();
client.close();
