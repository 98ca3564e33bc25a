// A sysfs directory that exists but does not list (EACCES, EIO, ENOMEM) is not "no devices":
// the look at the host fails, naming the directory and the errno, and the running agent sends no
// sync that pass, so the host's devices stay registered (an empty bus/pci/devices used to be
// synced as an empty host, deleting every device). Only "does not exist" (ENOENT, ENOTDIR) is
// absent. A device's own directory that does not list skips that device alone.

import test, { type ExecutionContext } from 'ava';
import { chmodSync, mkdirSync, realpathSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { replayCommands } from '../agent/commands.ts';
import { takeInventory } from '../agent/inventory.ts';
import { HostAgent } from '../agent/loop.ts';
import { copyHost } from './helpers/agent.ts';
import { capturedLog } from './helpers/log.ts';
import { startTestServer } from './helpers/server.ts';

/**
 * Makes the directory `dir` exist but not list, as a failing /sys directory does. As a non-root
 * user: mode 000, which gives the EACCES of a real host. Root reads a mode-000 directory anyway,
 * and the obvious stand-ins (a file or a FIFO in its place) give ENOTDIR, which rightly means
 * "not there"; so as root the directory is moved aside and a symlink to itself takes its place:
 * readdir then fails with ELOOP, an error that does not mean "not there" either. Returns the
 * errno to expect and what makes the directory list again.
 */
function unlistable(t: ExecutionContext, dir: string): { code: string; restore: () => void } {
  if (process.getuid?.() !== 0) {
    chmodSync(dir, 0o000);
    let restored = false;
    const restore = () => {
      if (!restored) chmodSync(dir, 0o755);
      restored = true;
    };
    t.teardown(restore);
    return { code: 'EACCES', restore };
  }
  const aside = `${dir}.aside`;
  renameSync(dir, aside);
  symlinkSync(path.basename(dir), dir);
  return {
    code: 'ELOOP',
    restore: () => {
      rmSync(dir);
      renameSync(aside, dir);
    },
  };
}

function inventoryOptions(host: string) {
  return { sysfsRoot: path.join(host, 'sys'), devicesDir: path.join(host, 'devices.d'), runCommand: replayCommands(path.join(host, 'commands.json')) };
}

const listings: { name: string; host: string; dir: (host: string) => string }[] = [
  { name: 'bus/pci/devices (every PCI device)', host: 'mlx-a', dir: (host) => path.join(host, 'sys/bus/pci/devices') },
  { name: "a PF's entries (its VFs' virtfnN links)", host: 'mlx-a', dir: (host) => realpathSync(path.join(host, 'sys/bus/pci/devices/0000:3b:00.0')) },
  { name: 'class/mdev_bus (every mdev parent)', host: 'gvt-c', dir: (host) => path.join(host, 'sys/class/mdev_bus') },
  // gvt-b has no mdev created: a created mdev's mdev_type link resolves through this directory too.
  { name: "an mdev parent's mdev_supported_types", host: 'gvt-b', dir: (host) => realpathSync(path.join(host, 'sys/class/mdev_bus/0000:00:02.0/mdev_supported_types')) },
  { name: 'bus/mdev/devices (the created mdevs a GVT-g total counts)', host: 'gvt-c', dir: (host) => path.join(host, 'sys/bus/mdev/devices') },
];

for (const listing of listings) {
  test(`${listing.name} that does not list fails the look, naming the directory and the errno`, async (t) => {
    const host = copyHost(t, listing.host);
    const before = await takeInventory(inventoryOptions(host));
    t.true(before.devices.length > 0, 'the host has devices to lose');
    const dir = listing.dir(host);
    const { code } = unlistable(t, dir);
    const error = await t.throwsAsync(takeInventory(inventoryOptions(host)));
    t.true(error?.message.startsWith(`cannot list ${dir}: ${code}`), error?.message);
    t.like(error, { code, path: dir });
  });
}

test('a directory that does not exist is absent, not an error: a host without mdevs has none', async (t) => {
  const host = copyHost(t, 'gvt-c');
  rmSync(path.join(host, 'sys/bus/mdev'), { recursive: true });
  const inventory = await takeInventory(inventoryOptions(host));
  t.true(inventory.devices.length > 0);
});

test("a device's own vfio-dev directory that does not list skips that device alone, with why", async (t) => {
  const host = copyHost(t, 'mlx-a');
  const vfioDev = path.join(realpathSync(path.join(host, 'sys/bus/pci/devices/0000:3b:00.2')), 'vfio-dev');
  mkdirSync(path.join(vfioDev, 'vfio3'), { recursive: true });
  const { code } = unlistable(t, vfioDev);
  const inventory = await takeInventory(inventoryOptions(host));
  t.deepEqual(
    inventory.devices.map((device) => device.device_id),
    ['0000:3b:00.3'],
  );
  t.is(inventory.skipped.length, 1);
  t.is(inventory.skipped[0].device_id, '0000:3b:00.2');
  t.true(inventory.skipped[0].reason.startsWith(`cannot read its sysfs entries: ${code}`), inventory.skipped[0].reason);
});

test("a VF whose own links do not read (its driver link) is skipped with why, not dropped as if unbound", async (t) => {
  const host = copyHost(t, 'mlx-a');
  const { code } = unlistable(t, realpathSync(path.join(host, 'sys/bus/pci/devices/0000:3b:00.2')));
  const inventory = await takeInventory(inventoryOptions(host));
  t.deepEqual(
    inventory.devices.map((device) => device.device_id),
    ['0000:3b:00.3'],
  );
  const skip = inventory.skipped.find((skipped) => skipped.device_id === '0000:3b:00.2');
  t.true(skip?.reason.startsWith(`cannot read its sysfs entries: ${code}`), skip?.reason);
});

test.serial('the running agent whose bus/pci/devices stops listing logs why and syncs nothing: the host keeps its devices', async (t) => {
  const { client } = await startTestServer(t);
  const host = copyHost(t, 'mlx-a');
  const log = capturedLog('debug');
  const stop = new AbortController();
  t.teardown(() => stop.abort());
  const agent = new HostAgent({
    host: 'mlx-a',
    intervalMs: 100,
    labels: {},
    drainOnExit: false,
    once: false,
    inventory: inventoryOptions(host),
    client,
    actor: 'agent@mlx-a',
    log: log.logger,
  });
  const running = agent.run(stop.signal);
  await log.waitForLine((line) => line.msg === 'synced' && line.created === 2);
  t.is((await client.getHost('hosts/mlx-a')).device_count, 2);

  const devices = path.join(host, 'sys/bus/pci/devices');
  const { code, restore } = unlistable(t, devices);
  const failed = await log.waitFor('cannot look at the host');
  t.is(failed.level, 50, 'an error');
  t.like(failed.err, { code, path: devices });
  t.regex(failed.err.message, new RegExp(`^cannot list ${devices}: ${code}`));
  // Two more passes that fail the same way: nothing is sent, nothing leaves the registry.
  await log.waitForLine((line) => line.msg === 'cannot look at the host', 3);
  const host_ = await client.getHost('hosts/mlx-a');
  t.is(host_.device_count, 2, 'the host keeps its devices');
  t.is(host_.state, 'HOST_STATE_READY');
  t.deepEqual(
    log.lines.filter((line) => line.msg === 'synced' && line.deleted > 0),
    [],
    'no sync deleted a device',
  );

  // The directory lists again: the agent goes on where it was, with the same two devices.
  restore();
  const lastFailure = log.lines.filter((line) => line.msg === 'cannot look at the host').length;
  await log.waitForLine((line) => line.msg === 'unchanged' || line.msg === 'synced');
  t.is(log.lines.filter((line) => line.msg === 'cannot look at the host').length, lastFailure);
  t.is((await client.getHost('hosts/mlx-a')).device_count, 2);
  stop.abort();
  await running;
});
