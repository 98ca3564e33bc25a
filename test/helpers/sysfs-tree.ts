// Writes sysfs trees in the kernel's own layout, for the recorded hosts under
// test/fixtures/sysfs/ (made by test/fixtures/sysfs/build.ts) and for the benchmark's 64-device
// host: real directories under /sys/devices, and symlinks where the kernel has them (bus and
// class entries, `driver`, `physfn`/`virtfnN`, `iommu_group`, a driver's `module`, an mdev's
// `mdev_type`). `proc/` beside `sys/` holds the kernel release and the open VFIO groups.

import { lstatSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export interface PciSpec {
  readonly vendor: string;
  readonly device: string;
  readonly subsystemVendor?: string;
  readonly subsystemDevice?: string;
  /** PCI class, e.g. `0x020000`. */
  readonly class: string;
  readonly driver?: string;
  /** The module of the driver (`/sys/bus/pci/drivers/<d>/module`); default: the driver's name. */
  readonly module?: string;
  readonly iommuGroup?: number;
  /** For a VF: its PF's address (the `physfn` link; the PF gets `virtfnN`). */
  readonly physfn?: string;
  /** More files relative to the device directory (`qat/cfg_services`, `nvidia/current_vgpu_type`). */
  readonly files?: Readonly<Record<string, string>>;
}

export interface MdevTypeSpec {
  readonly name: string;
  readonly description: string;
  readonly deviceApi?: string;
  readonly availableInstances: number;
}

export class SysfsTree {
  readonly sys: string;
  readonly proc: string;
  private readonly virtfns = new Map<string, number>();

  /** Starts an empty host tree in `root` (removed first): `root/sys`, `root/proc`. */
  constructor(readonly root: string) {
    rmSync(root, { recursive: true, force: true });
    this.sys = path.join(root, 'sys');
    this.proc = path.join(root, 'proc');
    for (const dir of ['bus/pci/devices', 'bus/pci/drivers', 'bus/mdev/devices', 'class/mdev_bus', 'module', 'kernel/iommu_groups', 'devices']) {
      mkdirSync(path.join(this.sys, dir), { recursive: true });
    }
    mkdirSync(path.join(this.proc, 'sys/kernel'), { recursive: true });
  }

  private file(file: string, content: string): void {
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, content);
  }

  private link(at: string, target: string): void {
    mkdirSync(path.dirname(at), { recursive: true });
    symlinkSync(path.relative(path.dirname(at), target), at);
  }

  /** The device's real directory: /sys/devices/pci<domain>:<bus>/<address>. */
  deviceDir(address: string): string {
    const [domain, bus] = address.split(':');
    return path.join(this.sys, 'devices', `pci${domain}:${bus}`, address);
  }

  kernel(osrelease: string): this {
    this.file(path.join(this.proc, 'sys/kernel/osrelease'), `${osrelease}\n`);
    return this;
  }

  /** A module, with `version` when it declares one (out-of-tree drivers do), and parameters. */
  module(name: string, options: { version?: string; parameters?: Record<string, string> } = {}): this {
    const dir = path.join(this.sys, 'module', name);
    mkdirSync(dir, { recursive: true });
    if (options.version !== undefined) this.file(path.join(dir, 'version'), `${options.version}\n`);
    for (const [key, value] of Object.entries(options.parameters ?? {})) this.file(path.join(dir, 'parameters', key), `${value}\n`);
    return this;
  }

  private driver(name: string, module: string): string {
    const dir = path.join(this.sys, 'bus/pci/drivers', name);
    if (!exists(dir)) {
      mkdirSync(dir, { recursive: true });
      const moduleDir = path.join(this.sys, 'module', module);
      mkdirSync(moduleDir, { recursive: true });
      this.link(path.join(dir, 'module'), moduleDir);
    }
    return dir;
  }

  pci(address: string, spec: PciSpec): this {
    const dir = this.deviceDir(address);
    mkdirSync(dir, { recursive: true });
    this.file(path.join(dir, 'vendor'), `0x${spec.vendor}\n`);
    this.file(path.join(dir, 'device'), `0x${spec.device}\n`);
    this.file(path.join(dir, 'subsystem_vendor'), `0x${spec.subsystemVendor ?? spec.vendor}\n`);
    this.file(path.join(dir, 'subsystem_device'), `0x${spec.subsystemDevice ?? '0000'}\n`);
    this.file(path.join(dir, 'class'), `${spec.class}\n`);
    this.file(path.join(dir, 'numa_node'), '0\n');
    this.link(path.join(this.sys, 'bus/pci/devices', address), dir);
    if (spec.driver) {
      const driverDir = this.driver(spec.driver, spec.module ?? spec.driver);
      this.link(path.join(dir, 'driver'), driverDir);
      this.link(path.join(driverDir, address), dir);
    }
    if (spec.iommuGroup !== undefined) {
      const group = path.join(this.sys, 'kernel/iommu_groups', String(spec.iommuGroup));
      mkdirSync(path.join(group, 'devices'), { recursive: true });
      this.link(path.join(dir, 'iommu_group'), group);
      this.link(path.join(group, 'devices', address), dir);
    }
    if (spec.physfn) {
      const pf = this.deviceDir(spec.physfn);
      const index = this.virtfns.get(spec.physfn) ?? 0;
      this.virtfns.set(spec.physfn, index + 1);
      this.link(path.join(dir, 'physfn'), pf);
      this.link(path.join(pf, `virtfn${index}`), dir);
      this.file(path.join(pf, 'sriov_numvfs'), `${index + 1}\n`);
    }
    for (const [relative, content] of Object.entries(spec.files ?? {})) this.file(path.join(dir, relative), content);
    return this;
  }

  /** An mdev type of a parent device (which must exist), and the parent's mdev_bus entry. */
  mdevType(parent: string, typeId: string, spec: MdevTypeSpec): this {
    const dir = this.deviceDir(parent);
    const bus = path.join(this.sys, 'class/mdev_bus', parent);
    if (!exists(bus)) this.link(bus, dir);
    const typeDir = path.join(dir, 'mdev_supported_types', typeId);
    mkdirSync(path.join(typeDir, 'devices'), { recursive: true });
    this.file(path.join(typeDir, 'name'), `${spec.name}\n`);
    this.file(path.join(typeDir, 'description'), `${spec.description}\n`);
    this.file(path.join(typeDir, 'device_api'), `${spec.deviceApi ?? 'vfio-pci'}\n`);
    this.file(path.join(typeDir, 'available_instances'), `${spec.availableInstances}\n`);
    this.file(path.join(typeDir, 'create'), '');
    return this;
  }

  /** A created mdev: /sys/devices/.../<parent>/<uuid> with `mdev_type`, listed on the mdev bus and in its type's devices/. */
  mdev(uuid: string, parent: string, typeId: string, iommuGroup: number): this {
    const dir = path.join(this.deviceDir(parent), uuid);
    const typeDir = path.join(this.deviceDir(parent), 'mdev_supported_types', typeId);
    mkdirSync(dir, { recursive: true });
    this.link(path.join(dir, 'mdev_type'), typeDir);
    this.link(path.join(typeDir, 'devices', uuid), dir);
    this.link(path.join(this.sys, 'bus/mdev/devices', uuid), dir);
    const group = path.join(this.sys, 'kernel/iommu_groups', String(iommuGroup));
    mkdirSync(path.join(group, 'devices'), { recursive: true });
    this.link(path.join(dir, 'iommu_group'), group);
    return this;
  }

  /** A process (e.g. QEMU) holding a VFIO group open: /proc/<pid>/fd/<fd> -> /dev/vfio/<group>. */
  openVfio(pid: number, fd: number, group: number): this {
    const at = path.join(this.proc, String(pid), 'fd', String(fd));
    mkdirSync(path.dirname(at), { recursive: true });
    symlinkSync(`/dev/vfio/${group}`, at);
    return this;
  }

  /** Any other file, relative to sys/. */
  sysFile(relative: string, content: string): this {
    this.file(path.join(this.sys, relative), content);
    return this;
  }
}

function exists(dir: string): boolean {
  try {
    lstatSync(dir);
    return true;
  } catch {
    return false;
  }
}


