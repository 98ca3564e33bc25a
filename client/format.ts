// Human-readable output for the CLI: aligned tables, values in canonical text, and no
// control character from a stored value ever reaching the terminal raw (`printable`).

import { protoRoot } from '../proto/load.ts';
import { withTimestamps } from './messages.ts';
import type {
  AttributeValueInput,
  Check,
  CompatibilityResult,
  CompactHistoryResponse,
  Device,
  FindTargetsSummary,
  FoundTarget,
  HistoryEntry,
  Host,
  HostState,
  VerifyHistoryResponse,
  WatchEvent,
} from './types.ts';

/**
 * `value`, a message of type `typeName` as the client returns it, in the JSON form the CLI
 * reads back (proto field names, int64 as strings, enums by name, defaults shown). The client's
 * objects also carry proto-loader's oneof discriminators (`"kind": "int_value"`), which are no
 * fields: left in, `devices get --json` would print a descriptor that `check` refuses.
 */
export function protoJson(typeName: string, value: unknown): Record<string, unknown> {
  const type = protoRoot().lookupType(typeName);
  return type.toObject(type.fromObject(withTimestamps(value) as Record<string, unknown>), { longs: String, enums: String, defaults: true });
}

export function valueText(value: AttributeValueInput | null | undefined): string {
  if (!value) return '-';
  if ('int_value' in value && value.int_value !== undefined && value.int_value !== null) return String(value.int_value);
  if ('string_value' in value && value.string_value !== undefined && value.string_value !== null) return JSON.stringify(value.string_value);
  if ('bool_value' in value && value.bool_value !== undefined && value.bool_value !== null) return String(value.bool_value);
  if ('version_value' in value && value.version_value !== undefined && value.version_value !== null) return value.version_value;
  if ('set_value' in value && value.set_value) return `{${value.set_value.values.join(',')}}`;
  return '-';
}

// C0 controls, DEL, C1 controls (U+009B is a one-character CSI), the line and paragraph
// separators, and the bidirectional overrides and isolates that can disguise text.
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
const CONTROL_BUT_NEWLINE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

function escapeControl(char: string): string {
  const code = char.charCodeAt(0);
  return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
}

/** One value as one line: every control character (newlines too) shown as an escape (`\x1b`). */
export function printable(text: string): string {
  return text.replace(CONTROL, escapeControl);
}

/**
 * What the CLI writes, whole: the line breaks it put there stay, every other control character
 * is escaped.
 */
export function printableOutput(text: string): string {
  return text.replace(CONTROL_BUT_NEWLINE, escapeControl);
}

/**
 * What the CLI writes in JSON mode: as printableOutput, but every escape is JSON's own
 * (`\u007f`), so the output still parses and gives back the stored value. JSON.stringify leaves
 * DEL and the C1 controls raw (and the separators, overrides and isolates), and `\x7f` is no
 * JSON escape; raw, they can only sit inside strings, where `\uXXXX` means them exactly.
 */
export function printableJson(text: string): string {
  return text.replace(CONTROL_BUT_NEWLINE, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

export function table(headers: string[], rows: string[][]): string {
  rows = rows.map((row) => row.map((cell) => printable(cell)));
  const widths = headers.map((header, column) => Math.max(header.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column])))
      .join('  ')
      .trimEnd();
  return [line(headers), ...rows.map(line)].join('\n');
}

const shortOp = (op: string) => op.replace(/^COMPARE_OP_/, '');
const shortResult = (result: string) => result.replace(/^CHECK_RESULT_/, '');
export const shortVerdict = (verdict: string) => verdict.replace(/^VERDICT_/, '');

export function checkRows(checks: Check[]): string[][] {
  return checks.map((check) => [
    check.attribute,
    shortOp(check.op),
    shortResult(check.result),
    check.reason || '',
    valueText(check.source_value),
    valueText(check.target_value),
  ]);
}

/** A verdict as `check` prints it; `targetHost`, when known, is the registered target's host now. */
export function formatResult(result: CompatibilityResult, source: string, target: string, targetHost?: Host): string {
  const lines = [
    `${result.verdict}  ${source} -> ${target}`,
    `revision ${result.revision}, ${result.engine.model} (${result.engine.implementation})`,
    ...(targetHost ? [`target host ${targetHost.name}: ${hostStateText(targetHost)}`] : []),
    '',
    table(['ATTRIBUTE', 'OP', 'RESULT', 'REASON', 'SOURCE', 'TARGET'], checkRows(result.checks)),
  ];
  const settings = Object.entries(result.required_settings);
  if (settings.length > 0) {
    lines.push('', `required settings: ${settings.map(([name, value]) => `${name}=${valueText(value)}`).join(', ')}`);
  }
  return lines.join('\n');
}

/** Problems of a verdict in one cell: failures, then warnings. */
export function problems(result: CompatibilityResult): string {
  const failed = result.checks.filter((check) => check.result === 'CHECK_RESULT_FAIL');
  const warned = result.checks.filter((check) => check.result === 'CHECK_RESULT_WARN');
  return [...failed, ...warned.map((check) => ({ ...check, reason: `${check.reason} (warning)` }))]
    .map((check) => `${check.attribute}: ${check.reason}`)
    .join('; ');
}

export const shortState = (state: HostState | undefined) => (state ?? '').replace(/^HOST_STATE_/, '');

/** One streamed FindTargets row; fixed widths so rows line up as they arrive. */
export function findRow(target: FoundTarget): string {
  const free = target.capacity ? `${target.capacity.available}/${target.capacity.total}` : '?';
  // Only with --include-unreachable / --include-draining can a target's host be anything but ready.
  const hostProblem =
    target.host_state && target.host_state !== 'HOST_STATE_READY' && target.host_state !== 'HOST_STATE_UNSPECIFIED'
      ? `host ${shortState(target.host_state)}`
      : '';
  return [
    (target.rank ? String(target.rank) : '-').padEnd(5),
    target.name.padEnd(52),
    shortVerdict(target.result.verdict).padEnd(24),
    (target.exact ? 'yes' : 'no').padEnd(6),
    free.padEnd(6),
    [hostProblem, problems(target.result)].filter((text) => text !== '').join('; '),
  ]
    .join(' ')
    .trimEnd();
}

/** The last line of `find`: the counts, and the hosts left out for their state, with the flag that keeps them. */
export function findSummary(s: FindTargetsSummary): string {
  const hosts = (count: number) => `${count} ${count === 1 ? 'host' : 'hosts'}`;
  const leftOut = [
    ...(s.unreachable_hosts_left_out ? [`${hosts(s.unreachable_hosts_left_out)} UNREACHABLE (lease lapsed; --include-unreachable)`] : []),
    ...(s.draining_hosts_left_out ? [`${hosts(s.draining_hosts_left_out)} DRAINING (--include-draining)`] : []),
  ];
  return (
    `${s.candidates} candidates (${s.distinct_descriptors} distinct descriptors): ${s.compatible} compatible, ${s.rejected} rejected, at revision ${s.revision}` +
    (leftOut.length > 0 ? `; left out: ${leftOut.join(', ')}` : '')
  );
}

export const FIND_HEADER = ['RANK ', 'TARGET'.padEnd(52), 'VERDICT'.padEnd(24), 'EXACT ', 'FREE  ', 'REASONS'].join(' ');

export function time(date: Date | null | undefined): string {
  if (!date) return '-';
  return date.toISOString();
}

function labelsText(labels: Record<string, string>): string {
  return Object.entries(labels)
    .map(([key, value]) => `${key}=${value}`)
    .join(',');
}

/** READY, UNREACHABLE or DRAINING; an unreachable host keeps its draining mark, shown too. */
export function hostStateText(host: Host): string {
  const state = shortState(host.state);
  return host.draining && host.state !== 'HOST_STATE_DRAINING' ? `${state} (draining)` : state;
}

/** Hosts as a table; `wide` adds when each was created and when its lease lapses. */
export function hostRows(hosts: Host[], wide = false): string {
  return table(
    ['HOST', 'STATE', 'DEVICES', 'REVISION', 'LAST SYNC', ...(wide ? ['LEASE EXPIRES', 'CREATED'] : []), 'LABELS'],
    hosts.map((host) => [
      host.name,
      hostStateText(host),
      String(host.device_count),
      host.revision,
      time(host.last_sync_time),
      ...(wide ? [time(host.lease_expire_time), time(host.create_time)] : []),
      labelsText(host.labels),
    ]),
  );
}

/** Devices as a table; `wide` adds the types each also accepts and its labels. */
export function deviceRows(devices: Device[], wide = false): string {
  return table(
    ['DEVICE', 'VENDOR', 'API', 'TYPE', 'VERSION', 'FREE', 'REVISION', ...(wide ? ['ALSO ACCEPTS', 'LABELS'] : [])],
    devices.map((device) => [
      device.name,
      device.descriptor.vendor,
      device.descriptor.device_api,
      device.descriptor.type,
      device.descriptor.software_version,
      // Units held by claims (placement) show beside what the host reported.
      (device.capacity ? `${device.capacity.available}/${device.capacity.total}` : '?') + (device.claimed ? ` (${device.claimed} claimed)` : ''),
      device.revision,
      ...(wide ? [(device.descriptor.compatible_types ?? []).join(',') || '-', labelsText(device.labels ?? {})] : []),
    ]),
  );
}

/** What changed between before and after, in a few words. */
export function changeSummary(entry: HistoryEntry): string {
  const before = entry.before?.device ?? entry.before?.host;
  const after = entry.after?.device ?? entry.after?.host;
  if (!before || !after) return '';
  const changes: string[] = [];
  const b = before as Partial<Device> & Partial<Host>;
  const a = after as Partial<Device> & Partial<Host>;
  if (JSON.stringify(b.labels) !== JSON.stringify(a.labels)) changes.push('labels');
  if (b.descriptor && a.descriptor) {
    if (b.descriptor.software_version !== a.descriptor.software_version) {
      changes.push(`software_version ${b.descriptor.software_version} -> ${a.descriptor.software_version}`);
    } else if (JSON.stringify(b.descriptor) !== JSON.stringify(a.descriptor)) {
      changes.push('descriptor');
    }
  }
  if (JSON.stringify(b.capacity) !== JSON.stringify(a.capacity)) changes.push('capacity');
  if (b.state && a.state && b.state !== a.state) changes.push(`state ${shortState(b.state)} -> ${shortState(a.state)}`);
  else if (b.draining !== a.draining) changes.push(a.draining ? 'draining mark set' : 'draining mark cleared');
  return changes.join(', ');
}

const shortKind = (kind: string) => kind.replace(/^CHANGE_KIND_/, '');

/** One history entry as a row; `wide` adds its index in the revision and its chain hash. */
export function historyRow(entry: HistoryEntry, wide = false): string[] {
  const actor = entry.on_behalf_of ? `${entry.actor} (for ${entry.on_behalf_of})` : entry.actor;
  return [
    entry.revision,
    ...(wide ? [String(entry.index)] : []),
    time(entry.time),
    shortKind(entry.kind),
    entry.resource,
    actor,
    changeSummary(entry),
    entry.reason,
    ...(wide ? [entry.hash] : []),
  ];
}

export const HISTORY_HEADERS = ['REVISION', 'TIME', 'CHANGE', 'RESOURCE', 'ACTOR', 'WHAT', 'REASON'];
export const HISTORY_WIDE_HEADERS = ['REVISION', 'INDEX', 'TIME', 'CHANGE', 'RESOURCE', 'ACTOR', 'WHAT', 'REASON', 'HASH'];

/** One live watch event; fixed widths so lines up as they arrive. */
export function watchLine(revision: string, event: WatchEvent): string {
  const crossing = event.left_filter ? ' (left filter)' : event.entered_filter ? ' (entered filter)' : '';
  return [revision.padEnd(9), shortKind(event.kind).padEnd(8), event.resource.padEnd(52), event.actor.padEnd(16), event.reason + crossing]
    .join(' ')
    .trimEnd();
}

export const WATCH_HEADER = ['REVISION'.padEnd(9), 'CHANGE'.padEnd(8), 'RESOURCE'.padEnd(52), 'ACTOR'.padEnd(16), 'REASON'].join(' ');

const shortProblem = (problem: string) => problem.replace(/^CHAIN_PROBLEM_/, '');

/** The outcome of `audit verify` on one line. */
export function verifyLine(result: VerifyHistoryResponse): string {
  if (result.intact) {
    // History that lost entries to compaction is never reported as plainly intact: who, when, what.
    const last = result.compactions.at(-1);
    const removed = result.compactions.reduce((sum, record) => sum + Number(record.entries_removed), 0);
    const checkpoint =
      result.checkpoint_revision === '0'
        ? 'never compacted'
        : `compacted to revision ${result.checkpoint_revision}` +
          (last?.actor
            ? ` by ${last.actor} at ${time(last.time)} (${removed} entries removed; head then revision ${last.head_revision} ${last.head_hash.slice(0, 12)}…)`
            : ' (by an unrecorded actor: compacted before compaction records existed)');
    return `intact: ${result.entries_checked} entries checked up to revision ${result.head_revision} (head ${result.head_hash}), ${checkpoint}`;
  }
  return `broken: ${shortProblem(result.problem)} at revision ${result.revision} index ${result.index}: ${result.description}`;
}

export function compactLine(result: CompactHistoryResponse): string {
  return `history compacted to revision ${result.checkpoint_revision} (${result.entries_removed} entries removed); watches may start from revision ${result.oldest_revision}; checkpoint ${result.checkpoint_hash}`;
}
