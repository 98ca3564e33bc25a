// What `devcompat agent describe` prints: every described device with its profile, type,
// version, capacity and attributes (with the rule a target applies), then every skipped device
// with why, then every profile that failed to load, and whether the in-use scan was incomplete.
// `--json` prints the same as one object.

import { table, valueText } from '../client/format.ts';
import type { Inventory } from './inventory.ts';

export function describeJson(host: string | undefined, inventory: Inventory): Record<string, unknown> {
  return {
    ...(host && { host: `hosts/${host}` }),
    devices: inventory.devices,
    ...(inventory.budgets.length > 0 && { budgets: inventory.budgets }),
    skipped: inventory.skipped,
    profile_errors: inventory.profileErrors.map((error) => ({ file: error.file, at: error.at, problem: error.problem })),
    ...(inventory.unreadableProcesses > 0 && { unreadable_processes: inventory.unreadableProcesses }),
  };
}

const opName = (op: string) => op.replace(/^COMPARE_OP_/, '');

export function describeText(inventory: Inventory): string {
  const lines: string[] = [];
  const rows = inventory.devices.map((device) => [
    device.device_id,
    device.profile,
    device.descriptor.type,
    device.descriptor.software_version,
    device.capacity ? `${device.capacity.available}/${device.capacity.total}` : '-',
  ]);
  lines.push(table(['DEVICE', 'PROFILE', 'TYPE', 'VERSION', 'FREE'], rows));
  for (const device of inventory.devices) {
    const d = device.descriptor;
    const rules = d.rules ?? {};
    const names = [...new Set([...Object.keys(d.attributes ?? {}), ...Object.keys(rules)])].filter((name) => name !== 'software_version').sort();
    const parts = names.map((name) => `${name}=${valueText(d.attributes?.[name])} (${opName(rules[name]?.op ?? 'COMPARE_OP_EQUAL')}${rules[name]?.warn_only ? ', warn only' : ''})`);
    const versionRule = rules.software_version ? opName(rules.software_version.op) : 'SEMVER';
    lines.push('', `${device.device_id}: vendor ${d.vendor}, ${d.device_api}, software_version ${d.software_version} (${versionRule})`);
    if (d.compatible_types?.length) lines.push(`  accepts types: ${d.compatible_types.join(', ')}`);
    for (const part of parts) lines.push(`  ${part}`);
  }
  if (inventory.budgets.length > 0) {
    lines.push('', `shared budgets (${inventory.budgets.length}):`);
    for (const b of inventory.budgets) {
      const uses = Object.entries(b.consumption).map(([deviceId, perUnit]) => `${deviceId} ${perUnit}`).join(', ');
      lines.push(`  ${b.budget_id}: ${b.available} of ${b.total} available; per unit: ${uses}`);
    }
  }
  if (inventory.skipped.length > 0) {
    lines.push('', `skipped (${inventory.skipped.length}):`);
    for (const skip of inventory.skipped) lines.push(`  ${skip.device_id}${skip.profile ? ` [${skip.profile}]` : ''}: ${skip.reason}`);
  }
  if (inventory.profileErrors.length > 0) {
    lines.push('', `profile errors (${inventory.profileErrors.length}):`);
    for (const error of inventory.profileErrors) lines.push(`  ${error.message}`);
  }
  if (inventory.unreadableProcesses > 0) {
    lines.push(
      '',
      `warning: the open files of ${inventory.unreadableProcesses} process${inventory.unreadableProcesses === 1 ? '' : 'es'} could not be read: in-use detection is incomplete, a device they hold looks free, FREE may be overstated (run as root, or with CAP_DAC_READ_SEARCH and CAP_SYS_PTRACE)`,
    );
  }
  lines.push('', `${inventory.devices.length} described, ${inventory.skipped.length} skipped, ${inventory.profileErrors.length} profile errors`);
  return lines.join('\n');
}
