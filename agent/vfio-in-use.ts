// Which VFIO devices some process holds open, from `/proc/<pid>/fd`. Sysfs says nothing about a
// VM holding a VF; QEMU (or any VFIO user) holds it open for as long as it uses it, in one of
// two ways (the kernel's Documentation/driver-api/vfio.rst):
// - its IOMMU group, `/dev/vfio/<group>` (the group/container interface);
// - its VFIO device cdev, `/dev/vfio/devices/vfioN` (iommufd: kernels 6.6+ with
//   CONFIG_VFIO_DEVICE_CDEV, QEMU's `iommufd` backend), which sysfs names by the device's
//   `vfio-dev/vfioN` directory ("VFIO device cdev").
// A process whose open files cannot be read (another user's, when the agent is neither root nor
// holds CAP_DAC_READ_SEARCH and CAP_SYS_PTRACE) may hold any device: the scan counts such
// processes, so that the agent can say its answer is incomplete instead of calling them free.

import { readdirSync, readlinkSync } from 'node:fs';
import path from 'node:path';

/** How the scan reads /proc: node:fs, or a test's double (root reads a mode-000 directory anyway). */
export interface ProcReader {
  readdir(dir: string): string[];
  readlink(file: string): string;
}

export const PROC_FS: ProcReader = { readdir: (dir) => readdirSync(dir), readlink: (file) => readlinkSync(file) };

export interface VfioInUse {
  /** IOMMU groups held open (`/dev/vfio/<group>`), by group number. */
  readonly groups: ReadonlySet<string>;
  /** VFIO device cdevs held open (`/dev/vfio/devices/<name>`), by name (`vfio3`). */
  readonly devices: ReadonlySet<string>;
  /** Processes whose open files could not be read (EACCES): what they hold is unknown. */
  readonly unreadableProcesses: number;
}

/** A process that exited between the listing of /proc and the reading of its fds: it holds nothing. */
function gone(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ESRCH';
}

/** One look at every process's open files under `procRoot` (`/proc`); a tree without one holds nothing. */
export function scanVfioInUse(procRoot: string, reader: ProcReader = PROC_FS): VfioInUse {
  const groups = new Set<string>();
  const devices = new Set<string>();
  let unreadableProcesses = 0;
  let pids: string[];
  try {
    pids = reader.readdir(procRoot).filter((entry) => /^\d+$/.test(entry));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { groups, devices, unreadableProcesses };
    throw error;
  }
  for (const pid of pids) {
    const fdDir = path.join(procRoot, pid, 'fd');
    let fds: string[];
    try {
      fds = reader.readdir(fdDir);
    } catch (error) {
      if (!gone(error)) unreadableProcesses++;
      continue;
    }
    let unreadable = false;
    for (const fd of fds) {
      let target: string;
      try {
        target = reader.readlink(path.join(fdDir, fd));
      } catch (error) {
        // Closed meanwhile, or the process exited: nothing held. Anything else (EACCES: listing
        // allowed, ptrace access not) leaves what it holds unknown.
        if (!gone(error)) unreadable = true;
        continue;
      }
      const group = /^\/dev\/vfio\/(\d+)$/.exec(target);
      if (group) groups.add(group[1]);
      const device = /^\/dev\/vfio\/devices\/(vfio\d+)$/.exec(target);
      if (device) devices.add(device[1]);
    }
    if (unreadable) unreadableProcesses++;
  }
  return { groups, devices, unreadableProcesses };
}

/** Is the device held open, through its group or through its cdev? */
export function heldOpen(inUse: VfioInUse, device: { readonly iommuGroup?: string; readonly vfioDevice?: string }): boolean {
  return (device.iommuGroup !== undefined && inUse.groups.has(device.iommuGroup)) || (device.vfioDevice !== undefined && inUse.devices.has(device.vfioDevice));
}
