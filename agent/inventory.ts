// One look at the host: load the profiles, discover the devices, describe them, add the static
// descriptors. `agent describe` prints it; the run loop syncs it. Everything that went wrong
// is in the result (skipped devices, profile errors); nothing here throws for a bad profile,
// a missing file or a failing command (only for a sysfs root that is not one).

import { existsSync } from 'node:fs';
import path from 'node:path';
import { describeCandidates, type DescribedDevice, type SkippedDevice } from './describe.ts';
import type { CommandRunner } from './commands.ts';
import type { ProcReader } from './vfio-in-use.ts';
import { loadProfiles, SHIPPED_PROFILES_DIR } from './profiles.ts';
import type { ProfileError } from './profile-schema.ts';
import { readStaticDevices } from './static-devices.ts';
import { discover } from './sysfs.ts';
import { inferBudgets } from './budgets.ts';
import type { Budget } from '../client/types.ts';

export interface InventoryOptions {
  readonly sysfsRoot: string;
  /** Default: `proc` beside the sysfs root (`/proc` for `/sys`). */
  readonly procRoot?: string;
  /** An operator's profile directory, overriding shipped profiles of the same name. */
  readonly profilesDir?: string;
  /** Leave out the shipped profiles (tests of a single profile). */
  readonly noShippedProfiles?: boolean;
  readonly devicesDir: string;
  readonly runCommand: CommandRunner;
  /** How `/proc/<pid>/fd` is read; node:fs by default (a test injects the EACCES that root never gets). */
  readonly procReader?: ProcReader;
}

export interface Inventory {
  /** In device id order. */
  readonly devices: DescribedDevice[];
  readonly skipped: SkippedDevice[];
  readonly profileErrors: ProfileError[];
  /** Shared budgets inferred from sysfs (agent/budgets.ts), over the devices synced. */
  readonly budgets: Budget[];
  /**
   * Processes whose open files could not be read (EACCES: the agent is not root): a device one
   * of them holds looks free, so free capacity may be overstated. 0 when the look was complete.
   */
  readonly unreadableProcesses: number;
}

export function defaultProcRoot(sysfsRoot: string): string {
  return path.resolve(sysfsRoot, '..', 'proc');
}

/** Throws when `sysfsRoot` is not a sysfs tree at all (a mistyped --sysfs-root must not read as "no devices"). */
export async function takeInventory(options: InventoryOptions): Promise<Inventory> {
  if (!existsSync(path.join(options.sysfsRoot, 'bus'))) throw new Error(`${options.sysfsRoot}: not a sysfs tree (it has no bus/ directory)`);
  const dirs = [...(options.noShippedProfiles ? [] : [SHIPPED_PROFILES_DIR]), ...(options.profilesDir ? [options.profilesDir] : [])];
  const { profiles, errors } = loadProfiles(dirs);
  const candidates = discover(options.sysfsRoot);
  const described = await describeCandidates(candidates, profiles, {
    sysfsRoot: options.sysfsRoot,
    procRoot: options.procRoot ?? defaultProcRoot(options.sysfsRoot),
    runCommand: options.runCommand,
    procReader: options.procReader,
  });
  const fixed = readStaticDevices(options.devicesDir);
  // A static descriptor is the operator's word: it replaces a profile's description of the same device.
  const staticIds = new Set(fixed.devices.map((device) => device.device_id));
  const devices = [...described.devices.filter((device) => !staticIds.has(device.device_id)), ...fixed.devices].sort((a, b) =>
    a.device_id < b.device_id ? -1 : a.device_id > b.device_id ? 1 : 0,
  );
  const skipped = [...described.skipped.filter((skip) => !staticIds.has(skip.device_id)), ...fixed.skipped];
  // A device a static descriptor replaced is not described by its profile: it draws on no inferred budget.
  const draws = new Map([...described.draws].filter(([deviceId]) => !staticIds.has(deviceId)));
  return { devices, skipped, profileErrors: errors, budgets: inferBudgets(draws), unreadableProcesses: described.unreadableProcesses };
}
