// The types say what the values are: this file type-checks against the package's .d.ts and
// then checks, at run time, that every value is what its type says. Run: node types-at-runtime.js <address>.
import assert from 'node:assert/strict';
import { compareRevisions, DevcompatClient, DevcompatError, type AttributeValue, type DescriptorInput, type Host } from '@devcompat/client';

const address = process.argv[2] ?? 'localhost:7443';
const client = new DevcompatClient({ address, actor: 'types-example' });
const descriptor = {
  vendor: '10de',
  device_api: 'vfio-pci',
  type: 'nvidia-525',
  software_version: '535.161.08',
  attributes: {
    framebuffer_mb: { int_value: 8192n }, // an int64 goes in as a bigint, a number or a string
    ecc: { bool_value: true },
    gpu_device: { string_value: '2235' },
    heads: { set_value: { values: ['1', '2'] } },
    driver: { version_value: '535.161.08' },
  },
  rules: { ecc: { op: 'COMPARE_OP_EQUAL' as const, warn_only: true } },
};
const before = new Date();
const write = await client.syncHost({ name: 'hosts/typed', devices: [{ device_id: 'vgpu0', descriptor }] });

// Timestamps are Dates.
const host: Host = await client.getHost('typed');
const created: Date = host.create_time;
assert.ok(created instanceof Date && host.last_sync_time instanceof Date);
assert.ok(created.getTime() >= before.getTime() - 1000);
assert.ok(host.lease_expire_time === null || host.lease_expire_time instanceof Date);

// Attribute values are a union discriminated by `kind`, which the switch narrows.
const device = await client.getDevice('hosts/typed/devices/vgpu0');
const text = (value: AttributeValue): string => {
  switch (value.kind) {
    case 'int_value':
      return `int ${BigInt(value.int_value)}`; // a decimal string: exact beyond 2^53
    case 'string_value':
      return `string ${value.string_value}`;
    case 'bool_value':
      return `bool ${value.bool_value}`;
    case 'version_value':
      return `version ${value.version_value}`;
    case 'set_value':
      return `set ${value.set_value.values.join(',')}`;
    default: {
      const unreachable: never = value;
      throw new Error(`no such kind: ${JSON.stringify(unreachable)}`);
    }
  }
};
const attributes = device.descriptor.attributes;
assert.deepEqual(Object.keys(attributes).sort(), ['driver', 'ecc', 'framebuffer_mb', 'gpu_device', 'heads']);
assert.equal(text(attributes.framebuffer_mb), 'int 8192');
assert.equal(typeof (attributes.framebuffer_mb as { int_value: unknown }).int_value, 'string');
assert.equal(text(attributes.ecc), 'bool true');
assert.equal(text(attributes.heads), 'set 1,2');
assert.equal(device.descriptor.rules.ecc.warn_only, true);

// Revisions are decimal strings; compareRevisions compares them as numbers ('9' < '10').
assert.equal(typeof write.revision, 'string');
assert.ok(compareRevisions(device.revision, write.revision) === 0);
assert.ok(compareRevisions('9', '10') < 0);

// A descriptor read back is a valid input: the `kind` it carries is accepted.
const result = await client.check(device.descriptor, 'hosts/typed/devices/vgpu0');
assert.equal(result.verdict, 'VERDICT_COMPATIBLE');

// An unknown field is refused before anything is sent, naming it: `warnOnly` is not `warn_only`.
// TypeScript refuses it at compile time; a value from JavaScript or from a parsed file meets
// the same check at run time.
const misspelled = { ...descriptor, rules: { ecc: { op: 'COMPARE_OP_EQUAL', warnOnly: true } } };
await assert.rejects(
  client.syncHost({ name: 'hosts/typed', devices: [{ device_id: 'vgpu0', descriptor: misspelled as unknown as DescriptorInput }] }),
  (error: unknown) => error instanceof DevcompatError && error.codeName === 'INVALID_ARGUMENT' && error.fieldViolations[0].field.endsWith('.warnOnly'),
);
client.close();
console.log('types match the values');
