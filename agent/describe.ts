// The describe step: each discovered device, through the profile that matches it, becomes a
// descriptor (or a reason why not). A device whose facts cannot all be read and parsed is
// skipped whole, never registered half-described. It reads files and runs commands through
// the paths and runner it is given, so a recorded tree describes exactly like a live host.

import { readdirSync } from 'node:fs';
import path from 'node:path';
import semver from 'semver';
import type { AttributeValueInput as AttributeValue, Capacity, CompareOp, DescriptorInput as Descriptor, RuleInput as Rule } from '../client/types.ts';
import { DEFAULT_COMMAND_TIMEOUT_MS, memoize, type CommandRunner } from './commands.ts';
import { literalValue, MissingValue, parseValue, ParseFailure, type FactValue } from './parse.ts';
import type { AttributeSpec, FactSpec, JsonStep, Profile, RuleSpec, ValueKind } from './profile-schema.ts';
import { candidateId, linkName, readAttribute, type Candidate } from './sysfs.ts';
import { heldOpen, scanVfioInUse, type ProcReader, type VfioInUse } from './vfio-in-use.ts';
import type { BudgetDraw } from './budgets.ts';

export interface DescribedDevice {
  readonly device_id: string;
  /** The profile that described it (or `static:<file>` for a static descriptor). */
  readonly profile: string;
  readonly descriptor: Descriptor;
  readonly capacity?: Capacity;
  readonly labels: Record<string, string>;
}

export interface SkippedDevice {
  readonly device_id: string;
  /** The profile that matched, when one did. */
  readonly profile?: string;
  readonly reason: string;
}

export interface DescribeContext {
  readonly sysfsRoot: string;
  readonly procRoot: string;
  readonly runCommand: CommandRunner;
  /** How `/proc/<pid>/fd` is read (vfio-in-use.ts); node:fs by default. */
  readonly procReader?: ProcReader;
}

/** Label every described device carries: which profile described it. */
export const PROFILE_LABEL = 'devcompat.io/profile';

/** Why one device cannot be described; the message is shown to the operator. */
class Skip extends Error {}

const OPS: Record<string, CompareOp> = Object.fromEntries(
  ['EQUAL', 'SEMVER', 'VERSION_GE', 'SEMVER_RANGE', 'SUPERSET', 'SUBSET', 'GE', 'LE', 'ONE_OF', 'CLAIMABLE', 'IGNORE'].map((op) => [op, `COMPARE_OP_${op}` as CompareOp]),
);

/** Does `profile` claim `candidate`? */
export function matches(profile: Profile, candidate: Candidate): boolean {
  const m = profile.match;
  if (m.kind !== candidate.kind) return false;
  if (m.vendor && !m.vendor.includes(candidate.vendor ?? '')) return false;
  if (m.device && !m.device.includes(candidate.device ?? '')) return false;
  if (m.driver && !m.driver.includes(candidate.driver ?? '')) return false;
  if (m.type !== undefined && (candidate.kind !== 'mdev_type' || !new RegExp(m.type).test(candidate.typeId))) return false;
  if (m.parent_driver) {
    let parentDriver: string | undefined;
    try {
      parentDriver = candidate.parentDir === undefined ? undefined : linkName(path.join(candidate.parentDir, 'driver'));
    } catch {
      return false; // a parent whose driver link does not read: this device alone matches nothing
    }
    if (!m.parent_driver.includes(parentDriver ?? '')) return false;
  }
  for (const [file, pattern] of Object.entries(m.files ?? {})) {
    let text: string | undefined;
    try {
      text = readAttribute(path.join(candidate.dir, file));
    } catch {
      return false;
    }
    if (text === undefined || !new RegExp(pattern).test(text.trim())) return false;
  }
  return true;
}


function builtins(candidate: Candidate): Record<string, string | undefined> {
  return {
    address: candidate.address,
    parent: candidate.parent,
    // The physical function the device is, or is on: a VF's PF; an mdev type's parent device,
    // or that parent's PF when the parent is a VF (NVIDIA vGPU on SR-IOV GPUs before the
    // SR-IOV layout: the types sit under each VF, and nvidia-smi knows only the GPU).
    physical:
      candidate.kind === 'pci'
        ? (candidate.parent ?? candidate.address)
        : (linkName(path.join(candidate.dir, 'physfn')) ?? candidate.address),
    driver: candidate.driver,
    type_id: candidate.kind === 'mdev_type' ? candidate.typeId : undefined,
    iommu_group: candidate.kind === 'pci' ? candidate.iommuGroup : undefined,
    vendor_id: candidate.vendor,
    device_id: candidate.device,
  };
}

/** One `*` per path segment matches the first entry (in name order) that exists. */
function expand(base: string, relative: string): string | undefined {
  let current = base;
  for (const segment of relative.split('/')) {
    if (!segment.includes('*')) {
      current = path.join(current, segment);
      continue;
    }
    const pattern = new RegExp(`^${segment.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
    let entries: string[];
    try {
      entries = readdirSync(current).sort();
    } catch {
      return undefined;
    }
    const found = entries.find((entry) => pattern.test(entry));
    if (found === undefined) return undefined;
    current = path.join(current, found);
  }
  return current;
}

class DeviceDescriber {
  private readonly facts = new Map<string, FactValue | undefined>();
  private readonly names: Record<string, string | undefined>;

  constructor(
    private readonly candidate: Candidate,
    private readonly profile: Profile,
    private readonly context: DescribeContext & { inUse: () => VfioInUse; read: (file: string) => string | undefined },
  ) {
    this.names = builtins(candidate);
  }

  private fill(template: string, at: string): string {
    return template.replace(/\$\{([^}]*)\}/g, (_, name: string) => {
      if (Object.hasOwn(this.names, name)) {
        const value = this.names[name];
        if (value === undefined) throw new Skip(`${at}: \${${name}} has no value for this device`);
        return value;
      }
      const fact = this.facts.get(name);
      if (fact === undefined) throw new Skip(`${at}: fact "${name}" has no value (an optional fact that is missing)`);
      return Array.isArray(fact.value) ? fact.value.join(',') : String(fact.value);
    });
  }

  private sourceDir(spec: FactSpec, name: string): string {
    const c = this.candidate;
    switch (spec.from) {
      case 'device':
        return c.dir;
      case 'parent':
        if (c.parentDir === undefined) throw new Skip(`fact ${name}: the device has no parent (physfn)`);
        return c.parentDir;
      case 'driver':
        return path.join(c.dir, 'driver');
      case 'mdev_type':
        if (c.kind !== 'mdev_type') throw new Skip(`fact ${name}: not an mdev type`);
        return c.typeDir;
      case 'kernel':
        return path.join(this.context.procRoot, 'sys/kernel');
      case 'module': {
        const module = spec.module ?? linkName(path.join(c.dir, 'driver/module'));
        if (module === undefined) throw new Skip(`fact ${name}: the driver ${c.driver ?? '(none)'} has no module in sysfs`);
        return path.join(this.context.sysfsRoot, 'module', module);
      }
      case 'command':
      case 'sriov':
        throw new Error('unreachable');
    }
  }

  /** A JSON path step with its `${...}` filled in. */
  private fillStep(step: JsonStep, at: string): JsonStep {
    if (typeof step === 'string') return this.fill(step, at);
    return {
      ...(step.key !== undefined && { key: this.fill(step.key, `${at}.key`) }),
      ...(step.where !== undefined && {
        where: Object.fromEntries(Object.entries(step.where).map(([field, expected]) => [field, this.fill(expected, `${at}.where.${field}`)])),
      }),
    };
  }

  /**
   * A VF's place among its PF's VFs, as text (`sriov` facts): its index (the N of the PF's
   * `virtfnN` link to it), or `1` when it is the last (N + 1 is the PF's `sriov_numvfs`), else
   * `0`. Undefined when the PF does not say.
   */
  private sriovText(name: string, spec: FactSpec): { text: string | undefined; missing: string } {
    const c = this.candidate;
    if (c.kind !== 'pci' || c.parentDir === undefined) throw new Skip(`fact ${name}: the device is not a VF (it has no physfn)`);
    if (c.vfIndex === undefined) return { text: undefined, missing: 'no virtfnN link of its PF points to the device' };
    if (spec.path === 'index') return { text: String(c.vfIndex), missing: '' };
    let count: string | undefined;
    try {
      count = this.context.read(path.join(c.parentDir, 'sriov_numvfs'));
    } catch (error) {
      throw new Skip(`fact ${name}: cannot read parent file sriov_numvfs: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
    }
    if (count === undefined) return { text: undefined, missing: 'parent file sriov_numvfs is missing' };
    if (!/^\d+$/.test(count.trim())) throw new Skip(`fact ${name}: parent file sriov_numvfs: "${count.trim()}" is not a VF count`);
    return { text: c.vfIndex + 1 === Number(count.trim()) ? '1' : '0', missing: '' };
  }

  private async readFact(name: string, spec: FactSpec): Promise<FactValue | undefined> {
    let text: string | undefined;
    let where: string;
    if (spec.from === 'sriov') {
      where = `the VF's ${spec.path}`;
      const place = this.sriovText(name, spec);
      if (place.text === undefined) {
        if (spec.optional) return undefined;
        throw new Skip(`fact ${name}: ${place.missing}`);
      }
      text = place.text;
    } else if (spec.from === 'command') {
      const command = this.profile.commands[spec.command!];
      const argv = command.run.map((arg, index) => this.fill(arg, `commands.${spec.command}.run[${index}]`));
      where = `command "${argv.join(' ')}"`;
      try {
        text = (await this.context.runCommand(argv, command.timeout_ms ?? DEFAULT_COMMAND_TIMEOUT_MS)).stdout;
      } catch (error) {
        if (spec.optional) return undefined;
        throw new Skip(`fact ${name}: ${where} failed: ${(error as Error).message}`);
      }
    } else {
      const relative = this.fill(spec.path ?? 'version', `facts.${name}.path`);
      const base = this.sourceDir(spec, name);
      const file = expand(base, relative);
      where = `${spec.from} file ${relative}`;
      try {
        text = file === undefined ? undefined : this.context.read(file);
      } catch (error) {
        throw new Skip(`fact ${name}: cannot read ${where}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
      }
      if (text === undefined) {
        if (spec.optional) return undefined;
        throw new Skip(`fact ${name}: ${where} is missing`);
      }
    }
    try {
      const steps = spec.parse.json?.map((step, index) => this.fillStep(step, `facts.${name}.parse.json[${index}]`));
      return parseValue(text, spec.parse, steps);
    } catch (error) {
      if (error instanceof MissingValue && spec.optional) return undefined;
      if (error instanceof MissingValue || error instanceof ParseFailure) throw new Skip(`fact ${name}: ${where}: ${error.message}`);
      throw error;
    }
  }

  private rule(spec: RuleSpec, kind: ValueKind | undefined, at: string): Rule {
    const rule: Rule = { op: OPS[spec.op] };
    if (spec.values) {
      rule.values = spec.values.map((value) => {
        try {
          return attributeValue(literalValue(value, kind ?? 'string'));
        } catch (error) {
          throw new Skip(`${at}.values: ${(error as Error).message}`);
        }
      });
    }
    if (spec.range !== undefined) rule.range = spec.range;
    if (spec.warn_only) rule.warn_only = true;
    return rule;
  }

  private attribute(name: string, spec: AttributeSpec): { value?: AttributeValue; kind?: ValueKind } {
    if (spec.fact !== undefined) {
      const fact = this.facts.get(spec.fact);
      return { value: fact === undefined ? undefined : attributeValue(fact), kind: this.profile.facts[spec.fact].parse.as };
    }
    try {
      return { value: attributeValue(literalValue(spec.value as never, spec.as!)), kind: spec.as };
    } catch (error) {
      throw new Skip(`attributes.${name}.value: ${(error as Error).message}`);
    }
  }

  private amount(spec: { fact?: string; value?: number }, at: string): number {
    if (spec.value !== undefined) return spec.value;
    const fact = this.facts.get(spec.fact!);
    if (fact === undefined || fact.kind !== 'int' || fact.value < 0) throw new Skip(`${at}: fact ${spec.fact} is not a whole number`);
    return fact.value;
  }

  /** What the device draws on its parent's shared budgets (profile `budgets`). */
  private draws(capacity: Capacity | undefined): BudgetDraw[] {
    const c = this.candidate;
    const specs = Object.entries(this.profile.budgets);
    if (specs.length === 0 || c.kind !== 'mdev_type' || !capacity) return [];
    return specs.map(([name, spec]) => {
      const perUnit = this.amount(spec.per_unit, `budgets.${name}.per_unit`);
      if (perUnit < 1) throw new Skip(`budgets.${name}.per_unit: an instance must use at least 1, got ${perUnit}`);
      return { name, parent: c.parent, perUnit, available: capacity.available, created: c.instances.length };
    });
  }

  /** A fact with `require` that reads another value skips the device, with the profile's reason. */
  private checkRequired(name: string, spec: FactSpec, fact: FactValue): void {
    if (!spec.require) return;
    const expected = literalValue(spec.require.value, spec.parse.as);
    if (JSON.stringify(fact.value) === JSON.stringify(expected.value)) return;
    const read = Array.isArray(fact.value) ? fact.value.join(',') : String(fact.value);
    throw new Skip(`fact ${name}: ${this.fill(spec.require.reason, `facts.${name}.require.reason`)} (it reads ${read})`);
  }

  async describe(): Promise<{ device: DescribedDevice; draws: BudgetDraw[] }> {
    for (const [name, spec] of Object.entries(this.profile.facts)) {
      const fact = await this.readFact(name, spec);
      this.facts.set(name, fact);
      if (fact !== undefined) this.checkRequired(name, spec, fact);
    }
    const d = this.profile.descriptor;
    const softwareVersion = this.fill(d.software_version, 'descriptor.software_version');
    if (semver.valid(softwareVersion, { loose: true }) === null) {
      throw new Skip(`descriptor.software_version: "${softwareVersion}" is not a version (major.minor.patch)`);
    }
    const attributes: Record<string, AttributeValue> = {};
    const rules: Record<string, Rule> = {};
    for (const [name, spec] of Object.entries(this.profile.attributes)) {
      const { value, kind } = this.attribute(name, spec);
      if (value !== undefined) attributes[name] = value;
      if (spec.rule) rules[name] = this.rule(spec.rule, kind, `attributes.${name}.rule`);
    }
    if (d.software_version_rule) rules.software_version = this.rule(d.software_version_rule, 'version', 'descriptor.software_version_rule');
    const descriptor: Descriptor = {
      vendor: this.fill(d.vendor, 'descriptor.vendor'),
      device_api: this.fill(d.device_api, 'descriptor.device_api'),
      type: this.fill(d.type, 'descriptor.type'),
      software_version: softwareVersion,
      ...(d.compatible_types && d.compatible_types.length > 0 && {
        compatible_types: d.compatible_types.map((item, index) => this.fill(item, `descriptor.compatible_types[${index}]`)),
      }),
      attributes,
      rules,
    };
    let capacity: Capacity | undefined;
    if (this.profile.capacity) {
      const totalSpec = this.profile.capacity.total;
      const created = totalSpec.plus_created && this.candidate.kind === 'mdev_type' ? this.candidate.instances.length : 0;
      const total = this.amount(totalSpec, 'capacity.total') + created;
      const available = this.profile.capacity.available;
      let free: number;
      if (available.vfio_group_free) {
        // Held through its group or through its cdev (iommufd): the profile key predates the cdev.
        const c = this.candidate;
        if (c.kind !== 'pci' || (c.iommuGroup === undefined && c.vfioDevice === undefined)) throw new Skip('capacity.available: the device has neither an iommu_group nor a vfio-dev cdev');
        free = heldOpen(this.context.inUse(), c) ? 0 : 1;
      } else free = this.amount(available, 'capacity.available');
      capacity = { total, available: Math.min(free, total) };
    }
    const labels: Record<string, string> = { [PROFILE_LABEL]: this.profile.name };
    for (const [key, value] of Object.entries(this.profile.labels)) labels[key] = this.fill(value, `labels.${key}`);
    const device: DescribedDevice = { device_id: candidateId(this.candidate), profile: this.profile.name, descriptor, ...(capacity && { capacity }), labels };
    checkLimits(device);
    return { device, draws: this.draws(capacity) };
  }
}

function attributeValue(fact: FactValue): AttributeValue {
  switch (fact.kind) {
    case 'string':
    case 'hex_id':
      return { string_value: fact.value };
    case 'int':
      return { int_value: fact.value };
    case 'version':
      return { version_value: fact.value };
    case 'bool':
      return { bool_value: fact.value };
    case 'set':
    case 'bits':
      return { set_value: { values: [...fact.value] } };
  }
}

/** The registry's input limits (docs/model.md), checked here so that one bad value skips one device, not the whole sync. */
function checkLimits(device: DescribedDevice): void {
  const d = device.descriptor;
  if (!/^[A-Za-z0-9._:-]{1,128}$/.test(device.device_id)) throw new Skip(`device id "${device.device_id}" is not a valid device id`);
  for (const [field, value] of [['vendor', d.vendor], ['device_api', d.device_api], ['type', d.type]] as const) {
    if (value === '' || value.length > 256) throw new Skip(`descriptor.${field}: must be 1 to 256 characters`);
  }
  for (const [name, value] of Object.entries(d.attributes ?? {})) {
    if ('string_value' in value && value.string_value.length > 256) throw new Skip(`attributes.${name}: longer than 256 characters`);
    if ('set_value' in value && value.set_value.values.length > 1024) throw new Skip(`attributes.${name}: more than 1024 members`);
    if ('set_value' in value && value.set_value.values.some((member) => member.length > 256)) throw new Skip(`attributes.${name}: a member is longer than 256 characters`);
  }
}

export interface DescribeResult {
  readonly devices: DescribedDevice[];
  readonly skipped: SkippedDevice[];
  /** Device id -> what it draws on its parent's shared budgets (devices that draw on none are absent). */
  readonly draws: Map<string, BudgetDraw[]>;
  /**
   * Processes whose open files the in-use scan could not read, so that a device they hold
   * looks free (0 when every one was read, or when no profile asked whether a device is held).
   */
  readonly unreadableProcesses: number;
}

/**
 * Describes every candidate with the profiles given. A device matched by no profile, or by
 * more than one (an ambiguity an operator must resolve), is skipped with the reason.
 */
export async function describeCandidates(candidates: readonly Candidate[], profiles: readonly Profile[], context: DescribeContext): Promise<DescribeResult> {
  const devices: DescribedDevice[] = [];
  const skipped: SkippedDevice[] = [];
  const draws = new Map<string, BudgetDraw[]>();
  let inUse: VfioInUse | undefined;
  // One pass reads each file once (a GVT-g type's description holds five facts).
  const files = new Map<string, string | undefined>();
  const read = (file: string) => {
    if (!files.has(file)) files.set(file, readAttribute(file));
    return files.get(file);
  };
  const shared = { ...context, runCommand: memoize(context.runCommand), inUse: () => (inUse ??= scanVfioInUse(context.procRoot, context.procReader)), read };
  for (const candidate of candidates) {
    const id = candidateId(candidate);
    if (candidate.unreadable) {
      skipped.push({ device_id: id, reason: candidate.unreadable });
      continue;
    }
    const matching = profiles.filter((profile) => matches(profile, candidate));
    if (matching.length === 0) {
      const what = [`vendor ${candidate.vendor ?? '?'}`, `device ${candidate.device ?? '?'}`, `driver ${candidate.driver ?? '(none)'}`];
      if (candidate.kind === 'mdev_type') what.unshift(`mdev type ${candidate.typeId}`);
      skipped.push({ device_id: id, reason: `no profile matched (${what.join(', ')})` });
      continue;
    }
    if (matching.length > 1) {
      skipped.push({ device_id: id, reason: `several profiles matched (${matching.map((p) => p.name).join(', ')}); narrow their match` });
      continue;
    }
    const profile = matching[0];
    try {
      const described = await new DeviceDescriber(candidate, profile, shared).describe();
      devices.push(described.device);
      if (described.draws.length > 0) draws.set(described.device.device_id, described.draws);
    } catch (error) {
      // A sysfs file that exists but does not read (a system error: EACCES, EIO, a device going
      // away) skips this device, as a Skip does; anything else (node's ERR_* included) is a
      // fault of the agent's own.
      if (!(error instanceof Skip) && !/^E[A-Z]+$/.test(String((error as NodeJS.ErrnoException).code))) throw error;
      skipped.push({ device_id: id, profile: profile.name, reason: error instanceof Skip ? error.message : `cannot read sysfs: ${(error as Error).message}` });
    }
  }
  return { devices, skipped, draws, unreadableProcesses: inUse?.unreadableProcesses ?? 0 };
}
