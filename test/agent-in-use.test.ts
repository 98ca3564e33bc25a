// Whether a VF is in use, as the agent registers it: a VF a process holds open is taken (0 of
// 1 free), through its VFIO group or through its VFIO cdev (iommufd: `vfio-dev/vfioN` in sysfs,
// `/dev/vfio/devices/vfioN` in the holder's fds); and a process whose fds the agent cannot
// read (it is not root) is not silently taken as holding nothing: the agent warns, once, that
// free capacity may be overstated, and says when it can see everything again.

import test, { type ExecutionContext } from 'ava';
import { chmodSync, mkdirSync, readdirSync, readlinkSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { replayCommands } from '../agent/commands.ts';
import { describeJson, describeText } from '../agent/describe-format.ts';
import { takeInventory } from '../agent/inventory.ts';
import { HostAgent } from '../agent/loop.ts';
import type { ProcReader } from '../agent/vfio-in-use.ts';
import { copyHost, describeRecorded } from './helpers/agent.ts';
import { startTestServer } from './helpers/server.ts';
import { capturedLog } from './helpers/log.ts';

const WARNING =
  'in-use detection incomplete: the open files of some processes could not be read, so a device they hold looks free and free capacity may be overstated; run the agent as root, or with CAP_DAC_READ_SEARCH and CAP_SYS_PTRACE';

/** What the kernel (6.6+, CONFIG_VFIO_DEVICE_CDEV) adds when a VFIO driver registers the device: <device>/vfio-dev/vfioN/dev. */
function addVfioCdev(host: string, address: string, name: string): void {
  const dir = path.join(realpathSync(path.join(host, 'sys/bus/pci/devices', address)), 'vfio-dev', name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(path.join(dir, 'dev'), `511:${name.replace('vfio', '')}\n`);
}

/** A process holding `target` open: /proc/<pid>/fd/<fd> -> target. */
function holdOpen(host: string, pid: number, fd: number, target: string): void {
  const at = path.join(host, 'proc', String(pid), 'fd', String(fd));
  mkdirSync(path.dirname(at), { recursive: true });
  symlinkSync(target, at);
}

/** mlx-a (two mlx5 VFs: 0000:3b:00.2 in group 41, 0000:3b:00.3 in group 42) with VFIO cdevs vfio3 and vfio4. */
function iommufdHost(t: ExecutionContext): string {
  const host = copyHost(t, 'mlx-a');
  addVfioCdev(host, '0000:3b:00.2', 'vfio3');
  addVfioCdev(host, '0000:3b:00.3', 'vfio4');
  return host;
}

function inventoryOptions(host: string, procReader?: ProcReader) {
  return { sysfsRoot: path.join(host, 'sys'), devicesDir: path.join(host, 'devices.d'), runCommand: replayCommands(path.join(host, 'commands.json')), procReader };
}

/**
 * QEMU of another user holds 0000:3b:00.2 through its cdev, and its fds cannot be read: mode 000
 * as a non-root user; as root (which reads such a directory anyway) the EACCES a non-root agent
 * gets is injected at the same directory. `unblock` makes it readable again.
 */
function unreadableQemu(t: ExecutionContext, host: string): { procReader: ProcReader | undefined; unblock: () => void } {
  holdOpen(host, 4711, 17, '/dev/vfio/devices/vfio3');
  holdOpen(host, 4712, 3, '/dev/null'); // a readable process that holds no VFIO device
  mkdirSync(path.join(host, 'proc/4713')); // exited between the listing and the read (ENOENT): not counted
  const fds = path.join(host, 'proc/4711/fd');
  if (process.getuid?.() !== 0) {
    chmodSync(fds, 0o000);
    t.teardown(() => chmodSync(fds, 0o755));
    return { procReader: undefined, unblock: () => chmodSync(fds, 0o755) };
  }
  let blocked = true;
  const procReader: ProcReader = {
    readdir(dir) {
      if (blocked && dir === fds) throw Object.assign(new Error(`EACCES: permission denied, scandir '${dir}'`), { code: 'EACCES', errno: -13, syscall: 'scandir', path: dir });
      return readdirSync(dir);
    },
    readlink: (file) => readlinkSync(file),
  };
  return { procReader, unblock: () => (blocked = false) };
}

function capacities(devices: readonly { device_id: string; capacity?: unknown }[]): Record<string, unknown> {
  return Object.fromEntries(devices.map((device) => [device.device_id, device.capacity]));
}

test('a VF opened through its VFIO cdev (iommufd) is taken; a VF whose cdev nobody holds is free', async (t) => {
  const host = iommufdHost(t);
  holdOpen(host, 4711, 17, '/dev/vfio/devices/vfio3'); // QEMU with iommufd holds 0000:3b:00.2
  holdOpen(host, 4711, 18, '/dev/iommu');
  holdOpen(host, 4711, 19, '/dev/vfio/devices/vfio42'); // no device's cdev: the group of 0000:3b:00.3 is 42, its cdev vfio4
  const inventory = await describeRecorded(host);
  t.deepEqual(inventory.skipped, []);
  t.deepEqual(capacities(inventory.devices), { '0000:3b:00.2': { total: 1, available: 0 }, '0000:3b:00.3': { total: 1, available: 1 } });
  t.is(inventory.unreadableProcesses, 0);
  t.notRegex(describeText(inventory), /warning/);
});

test('a VF held through its group is still taken when it has a cdev too', async (t) => {
  const host = iommufdHost(t);
  holdOpen(host, 9001, 31, '/dev/vfio/42'); // QEMU without iommufd holds 0000:3b:00.3's group
  const inventory = await describeRecorded(host);
  t.deepEqual(capacities(inventory.devices), { '0000:3b:00.2': { total: 1, available: 1 }, '0000:3b:00.3': { total: 1, available: 0 } });
});

test('agent describe says when it could not read some processes: their devices look free', async (t) => {
  const host = iommufdHost(t);
  const { procReader } = unreadableQemu(t, host);
  const inventory = await takeInventory(inventoryOptions(host, procReader));
  t.deepEqual(capacities(inventory.devices), { '0000:3b:00.2': { total: 1, available: 1 }, '0000:3b:00.3': { total: 1, available: 1 } });
  t.is(describeJson(undefined, inventory).unreadable_processes, 1);
  t.true(
    describeText(inventory).includes(
      'warning: the open files of 1 process could not be read: in-use detection is incomplete, a device they hold looks free, FREE may be overstated (run as root, or with CAP_DAC_READ_SEARCH and CAP_SYS_PTRACE)',
    ),
  );
});

test.serial('the running agent warns once that in-use detection is incomplete, registers what it saw, and says when it sees again', async (t) => {
  const { client } = await startTestServer(t);
  const host = iommufdHost(t);
  const { procReader, unblock } = unreadableQemu(t, host);
  const log = capturedLog('debug');
  const stop = new AbortController();
  t.teardown(() => stop.abort());
  const agent = new HostAgent({
    host: 'mlx-a',
    intervalMs: 100,
    labels: {},
    drainOnExit: false,
    once: false,
    inventory: inventoryOptions(host, procReader),
    client,
    actor: 'agent@mlx-a',
    log: log.logger,
  });
  const running = agent.run(stop.signal);
  const vf = 'hosts/mlx-a/devices/0000:3b:00.2';

  const warning = await log.waitForLine((line) => line.msg === WARNING);
  t.is(warning.level, 40, 'a warning');
  t.is(warning.unreadable_processes, 1, 'the process that exited meanwhile is not counted');
  const synced = await log.waitForLine((line) => line.msg === 'synced');
  t.is(synced.unreadable_processes, 1);
  // What the registry was told: the VF QEMU holds looks free. The warning is why it may be wrong.
  t.deepEqual((await client.getDevice(vf)).capacity, { total: 1, available: 1 });

  // Three more passes that see the same: the warning is not repeated.
  await log.waitForLine((line) => line.msg === 'unchanged', 3);
  t.is(log.lines.filter((line) => line.msg === WARNING).length, 1);

  unblock();
  const again = await log.waitForLine((line) => line.msg === 'in-use detection complete again');
  t.is(again.level, 30);
  const resynced = await log.waitForLine((line) => line.msg === 'synced' && log.lines.indexOf(line) > log.lines.indexOf(again));
  t.true(resynced.changed);
  t.false('unreadable_processes' in resynced);
  t.deepEqual((await client.getDevice(vf)).capacity, { total: 1, available: 0 });
  t.is(log.lines.filter((line) => line.msg === WARNING).length, 1);

  stop.abort();
  t.is(await running, 0);
});
