// Profiles as an operator meets them: a broken one is reported with its file, the path inside
// it and what is wrong, and never stops the agent; an operator's profile overrides a shipped
// one of the same name; a device whose facts cannot all be read and parsed (a missing or
// unreadable file, a value that does not parse, a command that fails or hangs) is skipped
// whole, with the reason, and never described by half.

import test from 'ava';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { runCommand } from '../agent/commands.ts';
import { fieldOf, MissingValue, parseValue, ParseFailure } from '../agent/parse.ts';
import { loadProfiles, SHIPPED_PROFILES_DIR } from '../agent/profiles.ts';
import { takeInventory } from '../agent/inventory.ts';
import { copyHost, describeRecorded } from './helpers/agent.ts';
import { tempDir } from './helpers/server.ts';

function profileDir(t: Parameters<typeof tempDir>[0], files: Record<string, string>): string {
  const dir = path.join(tempDir(t), 'profiles');
  mkdirSync(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
  return dir;
}

test('the shipped profiles all load, one per family', (t) => {
  const { profiles, errors } = loadProfiles([SHIPPED_PROFILES_DIR]);
  t.deepEqual(errors, []);
  t.deepEqual(
    profiles.map((profile) => profile.name),
    ['hisi-acc-vfio-pci', 'intel-gvt-g', 'mlx5-vfio-pci', 'nvidia-vgpu-mdev', 'nvidia-vgpu-sriov', 'qat-vfio-pci', 'virtio-net-vfio-pci'],
  );
});

test('a profile error names the file, the path inside it and what is wrong', (t) => {
  const dir = profileDir(t, {
    'bad-op.yaml': 'match: { kind: pci }\nfacts: {}\ndescriptor: { vendor: "1", device_api: vfio-pci, type: x, software_version: 1.0.0 }\nattributes:\n  fw: { value: "1", as: string, rule: { op: SAMEISH } }\n',
    'bad-fact.yaml': 'match: { kind: pci }\nfacts:\n  fw: { from: device, path: fw, parse: { as: number } }\ndescriptor: { vendor: "1", device_api: vfio-pci, type: x, software_version: 1.0.0 }\n',
    'bad-ref.yaml': 'match: { kind: pci }\ndescriptor: { vendor: "1", device_api: vfio-pci, type: "${nope}", software_version: 1.0.0 }\n',
    'typo.yaml': 'match: { kind: pci, vendr: ["15b3"] }\ndescriptor: { vendor: "1", device_api: vfio-pci, type: x, software_version: 1.0.0 }\n',
    'not-yaml.yaml': 'match: { kind: pci\n',
    'good.yaml': 'match: { kind: pci, vendor: ["ffff"] }\ndescriptor: { vendor: ffff, device_api: vfio-pci, type: x, software_version: 1.0.0 }\n',
  });
  const { profiles, errors } = loadProfiles([dir]);
  t.deepEqual(profiles.map((profile) => profile.name), ['good']);
  const messages = errors.map((error) => error.message.replace(dir + path.sep, ''));
  t.deepEqual(messages, [
    'bad-fact.yaml: facts.fw.parse.as: must be one of string, int, hex_id, version, bool, set, bits',
    'bad-op.yaml: attributes.fw.rule.op: must be one of EQUAL, SEMVER, VERSION_GE, SEMVER_RANGE, SUPERSET, SUBSET, GE, LE, ONE_OF, CLAIMABLE, IGNORE',
    'bad-ref.yaml: descriptor.type: ${nope} is neither a fact nor a built-in (address, parent, physical, driver, type_id, iommu_group, vendor_id, device_id)',
    messages[3],
    'typo.yaml: match.vendr: unknown field (known: kind, vendor, device, driver, type, parent_driver, files)',
  ]);
  t.regex(messages[3], /^not-yaml\.yaml: line \d+: not valid YAML: /);
});

test('a broken operator profile is reported and its devices are skipped, the others still described', async (t) => {
  const dir = profileDir(t, {
    // Same name as the shipped mlx5 profile: it replaces it, and it is broken.
    'mlx5-vfio-pci.yaml': 'match: { kind: pci, vendor: ["15b3"], driver: [mlx5_vfio_pci] }\ndescriptor: { vendor: 15b3, device_api: vfio-pci, type: "${driver}", software_version: "${fw}" }\n',
  });
  const inventory = await describeRecorded('mixed-01', { profilesDir: dir });
  t.is(inventory.profileErrors.length, 1);
  t.regex(inventory.profileErrors[0].message, /mlx5-vfio-pci\.yaml: descriptor\.software_version: \$\{fw\} is neither a fact nor a built-in/);
  // The shipped mlx5 profile is not used in its place: the operator meant to replace it.
  t.deepEqual(
    inventory.skipped.map((skip) => skip.device_id),
    ['0000:3b:00.2', '0000:5e:01.0'],
  );
  t.true(inventory.devices.some((device) => device.profile === 'intel-gvt-g'));
});

test("an operator's profile overrides the shipped one of the same name", async (t) => {
  const dir = profileDir(t, {
    'mlx5-vfio-pci.yaml': [
      'match: { kind: pci, vendor: ["15b3"], driver: [mlx5_vfio_pci] }',
      'descriptor: { vendor: 15b3, device_api: vfio-pci, type: "${driver}", software_version: 1.0.0 }',
      'attributes:',
      '  site: { value: lab, as: string, rule: { op: IGNORE } }',
      'labels: { rack: r17 }',
    ].join('\n'),
  });
  const inventory = await describeRecorded('mlx-a', { profilesDir: dir });
  t.deepEqual(inventory.profileErrors, []);
  const [first] = inventory.devices;
  t.is(first.descriptor.software_version, '1.0.0');
  t.deepEqual(first.descriptor.attributes, { site: { string_value: 'lab' } });
  t.deepEqual(first.labels, { 'devcompat.io/profile': 'mlx5-vfio-pci', rack: 'r17' });
});

test('a missing file skips the device whole, naming the fact and the file', async (t) => {
  const host = copyHost(t, 'qat-a');
  rmSync(path.join(host, 'sys/devices/pci0000:6b/0000:6b:00.0/qat/cfg_services'));
  const inventory = await describeRecorded(host);
  t.deepEqual(inventory.devices, []);
  t.deepEqual(
    inventory.skipped.map((skip) => [skip.device_id, skip.profile, skip.reason]),
    [
      ['0000:6b:00.1', 'qat-vfio-pci', 'fact services: parent file qat/cfg_services is missing'],
      ['0000:6b:00.2', 'qat-vfio-pci', 'fact services: parent file qat/cfg_services is missing'],
    ],
  );
});

test('an unreadable file skips the device, the agent goes on with the others', async (t) => {
  const host = copyHost(t, 'hisi-a');
  // The HPRE PF's parameter cannot be read (a directory where a file should be: EISDIR).
  const file = path.join(host, 'sys/module/hisi_hpre/parameters/pf_q_num');
  rmSync(file);
  mkdirSync(file);
  const inventory = await describeRecorded(host);
  t.deepEqual(inventory.devices.map((device) => device.device_id), ['0000:76:00.1']);
  t.deepEqual(inventory.skipped, [
    { device_id: '0000:79:00.1', profile: 'hisi-acc-vfio-pci', reason: 'fact pf_q_num: cannot read parent file driver/module/parameters/pf_q_num: EISDIR' },
  ]);
});

test('a value that does not parse skips the device, quoting the value', async (t) => {
  const host = copyHost(t, 'gvt-b');
  const typeDir = path.join(host, 'sys/devices/pci0000:00/0000:00:02.0/mdev_supported_types/i915-GVTg_V5_2');
  writeFileSync(path.join(typeDir, 'description'), 'low_gm_size: 256MB\nhigh_gm_size: lots\nfence: 4\nresolution: 1920x1200\nweight: 8\n');
  writeFileSync(path.join(typeDir, 'available_instances'), 'two\n');
  const inventory = await describeRecorded(host);
  t.deepEqual(inventory.devices.map((device) => device.device_id), ['0000:00:02.0-i915-GVTg_V5_1', '0000:00:02.0-i915-GVTg_V5_4', '0000:00:02.0-i915-GVTg_V5_8']);
  t.deepEqual(inventory.skipped, [
    { device_id: '0000:00:02.0-i915-GVTg_V5_2', profile: 'intel-gvt-g', reason: 'fact available: mdev_type file available_instances: "two" is not an integer' },
  ]);
});

test('a vendor command that fails or hangs skips the device; an optional fact is left out', async (t) => {
  const host = copyHost(t, 'mlx-a');
  writeFileSync(path.join(host, 'commands.json'), JSON.stringify({ 'devlink -j dev info pci/0000:3b:00.0': { exit_code: 1, stderr: 'devlink answers: No such device' } }));
  const failed = await describeRecorded(host);
  t.deepEqual(failed.devices, []);
  t.is(failed.skipped[0].reason, 'fact psid: command "devlink -j dev info pci/0000:3b:00.0" failed: exited with 1: devlink answers: No such device');

  // QAT's capability helper is optional: without it, the capabilities are left out, not the device.
  const qat = copyHost(t, 'qat-a');
  writeFileSync(path.join(qat, 'commands.json'), '{}');
  const described = await describeRecorded(qat);
  t.is(described.devices.length, 2);
  t.deepEqual(Object.keys(described.devices[0].descriptor.attributes ?? {}).sort(), ['pci_device', 'services']);
});

test('a real command is killed after its timeout and the device is skipped', async (t) => {
  const host = copyHost(t, 'mlx-a');
  const dir = profileDir(t, {
    'slow.yaml': [
      'match: { kind: pci, vendor: ["15b3"], driver: [mlx5_vfio_pci] }',
      'commands: { slow: { run: [sleep, "30"], timeout_ms: 200 } }',
      'facts: { fw: { from: command, command: slow, parse: { as: version } } }',
      'descriptor: { vendor: 15b3, device_api: vfio-pci, type: x, software_version: "${fw}" }',
    ].join('\n'),
    // Replace the shipped mlx5 profile so that only the slow one matches.
    'mlx5-vfio-pci.yaml': 'match: { kind: pci, vendor: ["0000"] }\ndescriptor: { vendor: "0000", device_api: vfio-pci, type: x, software_version: 1.0.0 }\n',
  });
  const inventory = await takeInventory({ sysfsRoot: path.join(host, 'sys'), devicesDir: path.join(host, 'devices.d'), profilesDir: dir, runCommand });
  t.deepEqual(inventory.devices, []);
  t.deepEqual(
    inventory.skipped.map((skip) => skip.reason),
    ['fact fw: command "sleep 30" failed: timed out after 200 ms', 'fact fw: command "sleep 30" failed: timed out after 200 ms'],
  );
});

test('two profiles matching one device is an ambiguity the operator must resolve', async (t) => {
  const dir = profileDir(t, {
    'also-mlx.yaml': 'match: { kind: pci, vendor: ["15b3"] }\ndescriptor: { vendor: 15b3, device_api: vfio-pci, type: x, software_version: 1.0.0 }\n',
  });
  const inventory = await describeRecorded('mlx-a', { profilesDir: dir });
  t.deepEqual(inventory.devices, []);
  t.is(inventory.skipped[0].reason, 'several profiles matched (also-mlx, mlx5-vfio-pci); narrow their match');
});

test('a bad static descriptor is skipped with its path; a good one is registered as written', async (t) => {
  const host = copyHost(t, 'mixed-01');
  writeFileSync(path.join(host, 'devices.d/typo.json'), JSON.stringify({ device_id: 'x1', descriptor: { vendor: 'a', device_api: 'vfio-pci', type: 't', software_version: '1.0.0', atributes: {} } }));
  const inventory = await describeRecorded(host);
  t.true(inventory.devices.some((device) => device.device_id === '0000:af:00.0' && device.profile === 'static:0000:af:00.0.json'));
  const skip = inventory.skipped.find((entry) => entry.device_id === 'typo');
  t.truthy(skip);
  t.regex(skip!.reason, /typo\.json: descriptor\.atributes: unknown field/);
});

test('parsing: key: value and key=value fields, bit strings, JSON paths', (t) => {
  t.is(fieldOf('low_gm_size: 128MB\nhigh_gm_size: 512MB', 'high_gm_size'), '512MB');
  t.is(fieldOf('num_heads=4, frl_config=60, framebuffer=2048M', 'framebuffer'), '2048M');
  t.deepEqual(parseValue('1011\n', { as: 'bits' }), { kind: 'bits', value: ['0', '2', '3'] });
  t.deepEqual(parseValue('{"a":{"b.c":"28.41.1000"}}', { as: 'version', json: ['a', 'b.c'] }), { kind: 'version', value: '28.41.1000' });
  t.deepEqual(parseValue('asym;sym;asym', { as: 'set', separator: ';' }), { kind: 'set', value: ['asym', 'sym'] });
  t.deepEqual(parseValue('Enabled', { as: 'bool', map: { Enabled: true, Disabled: false } }), { kind: 'bool', value: true });
  t.throws(() => parseValue('1.2', { as: 'version' }), { message: '"1.2" is not a version (major.minor.patch)' });
  t.throws(() => parseValue('0x1g', { as: 'int' }), { message: '"0x1g" is not an integer' });
});

test('parsing: a JSON selector picks the one member whose name and fields match, and never guesses', (t) => {
  const ports = JSON.stringify({
    port: {
      'pci/0000:af:00.0/1': { flavour: 'pcivf', vfnum: 1, function: { migratable: 'disable' } },
      'pci/0000:3b:00.0/65535': { flavour: 'physical' },
      'pci/0000:3b:00.0/2': { flavour: 'pcivf', vfnum: 1, function: { migratable: 'enable' } },
    },
  });
  const path = (where: Record<string, string>) => ['port', { key: 'pci/0000:3b:00.0/*', where }, 'function', 'migratable'];
  t.deepEqual(parseValue(ports, { as: 'string' }, path({ flavour: 'pcivf', vfnum: '1' })), { kind: 'string', value: 'enable' });
  t.deepEqual(parseValue(JSON.stringify([{ id: 'a', v: 1 }, { id: 'b', v: 2 }]), { as: 'int' }, [{ where: { id: 'b' } }, 'v']), { kind: 'int', value: 2 });
  t.throws(() => parseValue(ports, { as: 'string' }, path({ vfnum: '7' })), {
    instanceOf: MissingValue,
    message: 'no "port.[pci/0000:3b:00.0/* vfnum=7].function.migratable" in the JSON output',
  });
  t.throws(() => parseValue(ports, { as: 'string' }, ['port', { where: { vfnum: '1' } }]), {
    instanceOf: ParseFailure,
    message: '2 members match [vfnum=1]: pci/0000:af:00.0/1, pci/0000:3b:00.0/2',
  });
});

test('profile errors: sriov facts, JSON selectors and required values are checked when the profile loads', (t) => {
  const profile = (facts: string) => `match: { kind: pci }\ncommands: { c: { run: [x] } }\nfacts:\n${facts}\ndescriptor: { vendor: "1", device_api: vfio-pci, type: x, software_version: 1.0.0 }\n`;
  const dir = profileDir(t, {
    'sriov.yaml': profile('  n: { from: sriov, path: position, parse: { as: int } }'),
    'selector.yaml': profile('  n: { from: command, command: c, parse: { as: int, json: [a, {}] } }'),
    'selector-ref.yaml': profile('  n: { from: command, command: c, parse: { as: int, json: [a, { where: { id: "${nope}" } }] } }'),
    'require-kind.yaml': profile('  n: { from: command, command: c, parse: { as: bool }, require: { value: maybe, reason: r } }'),
    'require-optional.yaml': profile('  n: { from: command, command: c, optional: true, parse: { as: bool }, require: { value: true, reason: r } }'),
  });
  const { profiles, errors } = loadProfiles([dir]);
  t.deepEqual(profiles, []);
  t.deepEqual(
    errors.map((error) => error.message.replace(dir + path.sep, '')),
    [
      'require-kind.yaml: facts.n.require.value: "maybe" is not a boolean (the fact is bool)',
      'require-optional.yaml: facts.n.require: a fact the device requires cannot be optional',
      'selector-ref.yaml: facts.n.parse.json[1]: ${nope} is neither a fact nor a built-in (address, parent, physical, driver, type_id, iommu_group, vendor_id, device_id)',
      'selector.yaml: facts.n.parse.json[1]: a selector needs a key pattern, where fields, or both',
      'sriov.yaml: facts.n.path: a sriov fact reads one of index, last',
    ],
  );
});

test("a sriov fact on a device that is not a VF skips it, naming the fact", async (t) => {
  const dir = profileDir(t, {
    'fpga.yaml': [
      'match: { kind: pci, vendor: ["1c2c"] }',
      'facts: { place: { from: sriov, path: index, parse: { as: int } } }',
      'descriptor: { vendor: 1c2c, device_api: vfio-pci, type: x, software_version: 1.0.0 }',
    ].join('\n'),
  });
  const host = copyHost(t, 'mixed-01');
  rmSync(path.join(host, 'devices.d'), { recursive: true });
  const inventory = await describeRecorded(host, { profilesDir: dir });
  t.deepEqual(inventory.skipped.find((skip) => skip.device_id === '0000:af:00.0'), {
    device_id: '0000:af:00.0',
    profile: 'fpga',
    reason: 'fact place: the device is not a VF (it has no physfn)',
  });
});

test('a sysfs root that is not a sysfs tree is an error, not an empty host', async (t) => {
  const dir = tempDir(t);
  await t.throwsAsync(takeInventory({ sysfsRoot: path.join(dir, 'sys'), devicesDir: dir, runCommand }), {
    message: `${path.join(dir, 'sys')}: not a sysfs tree (it has no bus/ directory)`,
  });
});
