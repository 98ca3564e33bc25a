// Discovery: which assignable devices a host has, read from a sysfs tree in the kernel's own
// layout (`/sys`, or a recorded tree with --sysfs-root). It lists candidates and the paths a
// profile may read facts from; it does not judge them (describe.ts does, through profiles).
//
// A candidate is either
// - an mdev type of a parent device (`/sys/class/mdev_bus/<parent>/mdev_supported_types/<type>`):
//   the model registers one device per parent and type, with the type's available_instances;
// - a PCI device bound to a VFIO driver (`vfio-pci` or a variant such as `mlx5_vfio_pci`);
// - an SR-IOV VF of an NVIDIA GPU that carries the vGPU manager's `nvidia/` directory (the
//   SR-IOV based vGPU of recent drivers, whose type is chosen per VF).
// PCI devices used by the host itself (a VF bound to `iavf`, a PF bound to `mlx5_core`) are not
// assignable and are not listed. Whether a process holds a device open is vfio-in-use.ts's.
//
// Only "does not exist" (ENOENT, or ENOTDIR where a path component is not a directory) reads as
// absent. A directory that exists but does not list (EACCES, EIO, ENOMEM) throws a
// SysfsListingError and fails the whole look: an empty listing of bus/pci/devices would
// otherwise be synced as "no devices", deleting every device of the host. A device's own
// unreadable file or link skips that device alone (`unreadable`).

import { readdirSync, readFileSync, readlinkSync, existsSync, statSync } from 'node:fs';
import path from 'node:path';

export interface PciCandidate {
  readonly kind: 'pci';
  /** The device's PCI address (`0000:3b:00.2`): its device id in the registry. */
  readonly address: string;
  /** The device's directory (symlinks resolved), where `device`-relative facts are read. */
  readonly dir: string;
  readonly vendor: string | undefined;
  readonly device: string | undefined;
  /** The bound driver's name, from the `driver` symlink; undefined when unbound. */
  readonly driver: string | undefined;
  /** The PF's address for a VF (the `physfn` symlink). */
  readonly parent: string | undefined;
  readonly parentDir: string | undefined;
  /**
   * A VF's index among its PF's VFs: the N of the PF's `virtfnN` link that points to it (0
   * for the first VF; the kernel's `pci_iov_vf_id`, devlink's `vfnum`). Undefined without a PF.
   */
  readonly vfIndex: number | undefined;
  readonly iommuGroup: string | undefined;
  /**
   * The name of its VFIO device cdev (`vfio3` for `/dev/vfio/devices/vfio3`), from its
   * `vfio-dev/` directory; undefined on kernels before 6.6 or without CONFIG_VFIO_DEVICE_CDEV.
   */
  readonly vfioDevice: string | undefined;
  /** Why its identity could not be read (a read error, a device going away): it is skipped, the others are not. */
  readonly unreadable?: string;
}

export interface MdevTypeCandidate {
  readonly kind: 'mdev_type';
  /** The parent device's address. */
  readonly address: string;
  /** The parent device's directory. */
  readonly dir: string;
  /** The type id, the directory name under mdev_supported_types (`i915-GVTg_V5_4`). */
  readonly typeId: string;
  readonly typeDir: string;
  readonly vendor: string | undefined;
  readonly device: string | undefined;
  readonly driver: string | undefined;
  readonly parent: string;
  readonly parentDir: string;
  /** Created mdevs of this type (`/sys/bus/mdev/devices/<uuid>`), by uuid. */
  readonly instances: readonly string[];
  /** Why its parent's identity could not be read: it is skipped, the others are not. */
  readonly unreadable?: string;
}

export type Candidate = PciCandidate | MdevTypeCandidate;

/** The id a candidate gets in the registry: the PCI address, or `<parent>-<type>` for an mdev type. */
export function candidateId(candidate: Candidate): string {
  return candidate.kind === 'mdev_type' ? `${candidate.address}-${candidate.typeId}` : candidate.address;
}

/** Reads one sysfs attribute; undefined when it does not exist. Throws on other errors (EACCES, EIO). */
export function readAttribute(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' || (error as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
    throw error;
  }
}

/** Whether a failed call means "it is not there" (or, for readlink, "it is not a link"). */
function absent(error: unknown, alsoNotALink = false): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR' || (alsoNotALink && code === 'EINVAL');
}

/**
 * The name a symlink points to (`driver` -> its driver's name); undefined when it does not exist
 * or is not a link. Throws on other errors (EACCES, EIO).
 */
export function linkName(file: string): string | undefined {
  try {
    return path.basename(readlinkSync(file));
  } catch (error) {
    if (absent(error, true)) return undefined;
    throw error;
  }
}

/** A sysfs directory that exists but could not be listed: the look at the host fails, naming it and the errno. */
export class SysfsListingError extends Error {
  readonly code: string | undefined;
  readonly path: string;
  constructor(dir: string, cause: unknown) {
    // The errno's own message (it names the path too), not a `cause`: a log would repeat it.
    super(`cannot list ${dir}: ${(cause as Error).message}`);
    this.name = 'SysfsListingError';
    this.code = (cause as NodeJS.ErrnoException).code;
    this.path = dir;
  }
}

/** A directory's entries, sorted; [] when it does not exist. Throws SysfsListingError on other errors. */
function list(dir: string): string[] {
  try {
    return readdirSync(dir).sort();
  } catch (error) {
    if (absent(error)) return [];
    throw new SysfsListingError(dir, error);
  }
}

function realDir(file: string): string {
  // Resolve symlinks relative to the tree, never escaping into the live /sys of the machine
  // running a test: sysfs links are relative, so path.resolve on readlink keeps us inside.
  let current = file;
  for (let hops = 0; hops < 40; hops++) {
    let target: string;
    try {
      target = readlinkSync(current);
    } catch (error) {
      if (absent(error, true)) return current;
      throw error;
    }
    current = path.resolve(path.dirname(current), target);
  }
  return current;
}

function hexId(text: string | undefined): string | undefined {
  if (text === undefined) return undefined;
  return text.trim().toLowerCase().replace(/^0x/, '');
}

/**
 * A device's `vendor` and `device` ids. A file that exists but does not read (EACCES, EIO, a
 * device being unplugged) makes that one device unreadable, with why: never the whole pass.
 */
function identity(dir: string): { vendor: string | undefined; device: string | undefined; unreadable?: string } {
  try {
    return { vendor: hexId(readAttribute(path.join(dir, 'vendor'))), device: hexId(readAttribute(path.join(dir, 'device'))) };
  } catch (error) {
    return { vendor: undefined, device: undefined, unreadable: `cannot read its vendor and device ids: ${(error as Error).message}` };
  }
}

/**
 * Every assignable device of the tree rooted at `sysfsRoot` (`/sys`), in address order. Throws
 * SysfsListingError when a directory that says which devices there are does not list.
 */
export function discover(sysfsRoot: string): Candidate[] {
  const candidates: Candidate[] = [];
  const pciDevices = path.join(sysfsRoot, 'bus/pci/devices');
  const mdevsByType = createdMdevs(sysfsRoot);
  const vfIndexes = new Map<string, Map<string, number>>();
  for (const address of list(pciDevices)) {
    const entry = path.join(pciDevices, address);
    const candidate = ownFilesOf(
      () => pciCandidate(entry, address, vfIndexes),
      (reason) => ({ ...UNKNOWN_PCI, address, dir: entry, unreadable: reason }),
    );
    if (candidate) candidates.push(candidate);
  }
  const mdevBus = path.join(sysfsRoot, 'class/mdev_bus');
  for (const address of list(mdevBus)) {
    // Without its directory its types cannot be listed: as a listing that failed.
    let dir: string;
    try {
      dir = realDir(path.join(mdevBus, address));
    } catch (error) {
      throw new SysfsListingError(path.join(mdevBus, address), error);
    }
    const typesDir = path.join(dir, 'mdev_supported_types');
    const parent = ownFilesOf(
      () => ({ ...identity(dir), driver: linkName(path.join(dir, 'driver')) }),
      (reason) => ({ vendor: undefined, device: undefined, driver: undefined, unreadable: reason }),
    );
    for (const typeId of list(typesDir)) {
      const typeDir = path.join(typesDir, typeId);
      if (!isDir(typeDir)) continue;
      candidates.push({
        kind: 'mdev_type',
        address,
        dir,
        typeId,
        typeDir,
        ...parent,
        parent: address,
        parentDir: dir,
        instances: mdevsByType.get(`${address}/${typeId}`) ?? [],
      });
    }
  }
  return candidates.sort((a, b) => (candidateId(a) < candidateId(b) ? -1 : candidateId(a) > candidateId(b) ? 1 : 0));
}

const UNKNOWN_PCI = {
  kind: 'pci',
  vendor: undefined,
  device: undefined,
  driver: undefined,
  parent: undefined,
  parentDir: undefined,
  vfIndex: undefined,
  iommuGroup: undefined,
  vfioDevice: undefined,
} as const;

/** One PCI device, or undefined when it is not assignable (bound to a host driver, not a vGPU VF). */
function pciCandidate(entry: string, address: string, vfIndexes: Map<string, Map<string, number>>): PciCandidate | undefined {
  const dir = realDir(entry);
  const driver = linkName(path.join(dir, 'driver'));
  const vgpuVf = existsSync(path.join(dir, 'nvidia/current_vgpu_type'));
  if (!(driver !== undefined && /vfio/.test(driver)) && !vgpuVf) return undefined;
  const parent = linkName(path.join(dir, 'physfn'));
  const parentDir = parent === undefined ? undefined : realDir(path.join(dir, 'physfn'));
  return {
    kind: 'pci',
    address,
    dir,
    ...identity(dir),
    driver,
    parent,
    parentDir,
    vfIndex: parentDir === undefined ? undefined : vfIndexOf(vfIndexes, parentDir, dir),
    iommuGroup: linkName(path.join(dir, 'iommu_group')),
    vfioDevice: ownEntries(path.join(dir, 'vfio-dev')).find((entry) => /^vfio\d+$/.test(entry)),
  };
}

/**
 * `read()`, or `unreadable(why)` when one of the device's own links or directories exists but
 * does not read (EACCES, EIO): that device is skipped, the others are not. A listing that says
 * which devices there are (SysfsListingError) is not one device's: it fails the look.
 */
function ownFilesOf<T>(read: () => T, unreadable: (reason: string) => T): T {
  try {
    return read();
  } catch (error) {
    if (error instanceof SysfsListingError || !/^E[A-Z]+$/.test(String((error as NodeJS.ErrnoException).code))) throw error;
    return unreadable(`cannot read its sysfs entries: ${(error as Error).message}`);
  }
}

/** A device's own directory's entries: one that does not list makes that device unreadable, not the look. */
function ownEntries(dir: string): string[] {
  try {
    return readdirSync(dir).sort();
  } catch (error) {
    if (absent(error)) return [];
    throw error;
  }
}

/**
 * The N of the PF's `virtfnN` link that resolves to `vfDir`; each PF's links are read once a
 * pass. A PF whose entries do not read fails the look: its VFs' indexes would silently go.
 */
function vfIndexOf(cache: Map<string, Map<string, number>>, pfDir: string, vfDir: string): number | undefined {
  let byDir = cache.get(pfDir);
  if (byDir === undefined) {
    byDir = new Map();
    for (const entry of list(pfDir)) {
      const link = /^virtfn(\d+)$/.exec(entry);
      if (!link) continue;
      try {
        byDir.set(realDir(path.join(pfDir, entry)), Number(link[1]));
      } catch (error) {
        throw new SysfsListingError(pfDir, error);
      }
    }
    cache.set(pfDir, byDir);
  }
  return byDir.get(vfDir);
}

function isDir(file: string): boolean {
  try {
    return statSync(file).isDirectory();
  } catch {
    return false;
  }
}

/**
 * Created mdevs by `<parent>/<type>`, from each mdev's `mdev_type` symlink. One that does not
 * read fails the look, as a failed listing does: the totals would be understated.
 */
function createdMdevs(sysfsRoot: string): Map<string, string[]> {
  const byType = new Map<string, string[]>();
  const devices = path.join(sysfsRoot, 'bus/mdev/devices');
  for (const uuid of list(devices)) {
    let typeDir: string;
    try {
      typeDir = realDir(path.join(realDir(path.join(devices, uuid)), 'mdev_type'));
    } catch (error) {
      throw new SysfsListingError(devices, error);
    }
    const typeId = path.basename(typeDir);
    const parent = path.basename(path.dirname(path.dirname(typeDir)));
    const key = `${parent}/${typeId}`;
    byType.set(key, [...(byType.get(key) ?? []), uuid]);
  }
  return byType;
}
