// Shared by the integration tests (test/integration-*.test.ts): descriptors built from the
// conformance vectors, the expected verdict of a vector as the server must report it, and
// small helpers to drain streams, wait for the server and check errors.

import type { ExecutionContext } from 'ava';
import {
  DevcompatClient,
  DevcompatError,
  type AttributeValue,
  type Check,
  type ClientOptions,
  type CompatibilityResult,
  type DescriptorInput as ClientDescriptor,
  type DeviceRef,
  type FindTargetsOptions,
  type FindTargetsSummary,
  type FoundTarget,
  type HistoryEntry,
  type HistoryFilter,
} from '../../client/client.ts';
import type { AttributeValueInput, DescriptorInput } from '../../server/core/model.ts';
import { parseValue, valueToJson } from '../../server/core/values.ts';
import type { RankingCase, VectorCase, VectorFile } from './compat-vectors.ts';

export type { RankingCase, VectorCase, VectorFile, InvalidCase } from './compat-vectors.ts';
export { loadVectors } from './compat-vectors.ts';

// ---------------------------------------------------------------------------------------
// Descriptors

/** A vector's descriptor as the client library takes it (a deep copy: tests may mutate it). */
export function asDescriptor(input: DescriptorInput): ClientDescriptor {
  return structuredClone(input) as unknown as ClientDescriptor;
}

export function vectorCase(file: VectorFile, id: string): VectorCase {
  const found = file.vectors.find((c) => c.id === id);
  if (!found) throw new Error(`no vector ${id}`);
  return found;
}

export function rankingCase(file: VectorFile, id: string): RankingCase {
  const found = file.rankings.find((c) => c.id === id);
  if (!found) throw new Error(`no ranking ${id}`);
  return found;
}

/** A GVT-g vGPU descriptor (vendor 8086, vfio-pci, i915-GVTg_V5_4) at a given version. */
export function gvt(softwareVersion = '1.2.0', overrides: Partial<ClientDescriptor> = {}): ClientDescriptor {
  return {
    vendor: '8086',
    device_api: 'vfio-pci',
    type: 'i915-GVTg_V5_4',
    software_version: softwareVersion,
    attributes: {
      pci_ids: { set_value: { values: ['591b'] } },
      low_gm_mb: { int_value: 128 },
    },
    rules: { pci_ids: { op: 'COMPARE_OP_SUPERSET' } },
    ...overrides,
  };
}

// ---------------------------------------------------------------------------------------
// Values as the server reports them

/** A received AttributeValue in proto-JSON form, without proto-loader's `kind` discriminator. */
export function valueJson(value: AttributeValue | null | undefined): unknown {
  if (value === null || value === undefined) return null;
  const { kind, ...rest } = value as AttributeValue & { kind?: string };
  return kind ? { [kind]: (value as Record<string, unknown>)[kind] } : rest;
}

/** The canonical proto-JSON of a raw (vector) value: `{"int_value": 2}` becomes `{"int_value": "2"}`. */
export function canonicalJson(value: AttributeValueInput | undefined): unknown {
  return value === undefined ? null : valueToJson(parseValue(value));
}

export function settingsJson(settings: Record<string, AttributeValue>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(settings).map(([name, value]) => [name, valueJson(value)]));
}

export interface ExpectedCheck {
  attribute: string;
  op: string;
  result: string;
  reason: string;
  source_value: unknown;
  target_value: unknown;
}

/**
 * The checks a vector's verdict must list, derived from the case alone (spec "Checking source
 * S against target T"): the built-ins, then one per name in S.attributes ∪ T.attributes ∪
 * T.rules by name; the target's rule or the default op; FAIL/WARN and the reason from the
 * case's expectations, PASS with an empty reason otherwise; both values in canonical form.
 */
export function expectedChecks(c: VectorCase): ExpectedCheck[] {
  const { source: s, target: t } = c;
  const outcome = (attribute: string): { result: string; reason: string } => {
    const failure = c.expect.failures.find((p) => p.attribute === attribute);
    if (failure) return { result: 'CHECK_RESULT_FAIL', reason: failure.reason };
    const warning = c.expect.warnings.find((p) => p.attribute === attribute);
    if (warning) return { result: 'CHECK_RESULT_WARN', reason: warning.reason };
    return { result: 'CHECK_RESULT_PASS', reason: '' };
  };
  const str = (value: string | null | undefined) => ({ string_value: value });
  const checks: ExpectedCheck[] = [
    { attribute: 'vendor', op: 'COMPARE_OP_EQUAL', ...outcome('vendor'), source_value: str(s.vendor), target_value: str(t.vendor) },
    {
      attribute: 'device_api',
      op: 'COMPARE_OP_EQUAL',
      ...outcome('device_api'),
      source_value: str(s.device_api),
      target_value: str(t.device_api),
    },
    { attribute: 'type', op: 'COMPARE_OP_EQUAL', ...outcome('type'), source_value: str(s.type), target_value: str(t.type) },
    {
      attribute: 'software_version',
      op: t.rules?.software_version?.op ?? 'COMPARE_OP_SEMVER',
      ...outcome('software_version'),
      source_value: canonicalJson({ version_value: s.software_version }),
      target_value: canonicalJson({ version_value: t.software_version }),
    },
  ];
  const names = new Set([
    ...Object.keys(s.attributes ?? {}),
    ...Object.keys(t.attributes ?? {}),
    ...Object.keys(t.rules ?? {}).filter((name) => name !== 'software_version'),
  ]);
  for (const name of [...names].sort()) {
    checks.push({
      attribute: name,
      op: t.rules?.[name]?.op ?? 'COMPARE_OP_EQUAL',
      ...outcome(name),
      source_value: canonicalJson(s.attributes?.[name] ?? undefined),
      target_value: canonicalJson(t.attributes?.[name] ?? undefined),
    });
  }
  return checks;
}

export function receivedChecks(checks: readonly Check[]): ExpectedCheck[] {
  return checks.map((check) => ({
    attribute: check.attribute,
    op: check.op,
    result: check.result,
    reason: check.reason,
    source_value: valueJson(check.source_value),
    target_value: valueJson(check.target_value),
  }));
}

/** Asserts that a verdict received from the server is the one the vector expects, in full. */
export function assertVectorResult(
  t: ExecutionContext,
  c: VectorCase,
  result: CompatibilityResult,
  expected: { revision: string; source: string; target: string },
): void {
  const label = c.id;
  t.is(result.verdict, c.expect.verdict as CompatibilityResult['verdict'], `${label}: verdict`);
  t.deepEqual(receivedChecks(result.checks), expectedChecks(c), `${label}: checks`);
  const expectedSettings = Object.fromEntries(
    Object.entries(c.expect.required_settings).map(([name, value]) => [name, canonicalJson(value)]),
  );
  t.deepEqual(settingsJson(result.required_settings), expectedSettings, `${label}: required_settings`);
  t.is(result.revision, expected.revision, `${label}: revision`);
  t.is(result.engine.model, 'compat-model/1', `${label}: engine model`);
  t.truthy(result.engine.implementation, `${label}: engine implementation`);
  t.is(result.source, expected.source, `${label}: source name`);
  t.is(result.target, expected.target, `${label}: target name`);
}

/** Device ids for the vectors registered by registerVectors: `v00`, `v01`, ... */
export function vectorDeviceId(index: number): string {
  return `v${String(index).padStart(2, '0')}`;
}

/**
 * Registers every vector's source on host `sources` and its target on host `targets`
 * (device `vNN` for vector NN on both), in two syncs.
 */
export async function registerVectors(client: DevcompatClient, cases: readonly VectorCase[]): Promise<void> {
  await client.syncHost({
    name: 'hosts/sources',
    devices: cases.map((c, i) => ({ device_id: vectorDeviceId(i), descriptor: asDescriptor(c.source) })),
  });
  await client.syncHost({
    name: 'hosts/targets',
    devices: cases.map((c, i) => ({ device_id: vectorDeviceId(i), descriptor: asDescriptor(c.target) })),
  });
}

// ---------------------------------------------------------------------------------------
// Streams and waiting

export async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const item of items) all.push(item);
  return all;
}

export interface FindOutcome {
  /** Compatible targets, in stream order. */
  targets: FoundTarget[];
  /** Rejected candidates, in stream order. */
  rejected: FoundTarget[];
  summary: FindTargetsSummary;
}

/**
 * Drains a FindTargets stream and checks its shape: compatible targets (rank 1, 2, ...),
 * then rejected ones (rank 0, incompatible), then exactly one summary, last.
 */
export async function findAll(
  t: ExecutionContext,
  client: DevcompatClient,
  source: DeviceRef,
  options: FindTargetsOptions = {},
): Promise<FindOutcome> {
  const items = await collect(client.findTargets(source, options));
  const summaries = items.filter((item) => 'summary' in item);
  t.is(summaries.length, 1, 'one summary');
  t.true(items.length > 0 && 'summary' in items[items.length - 1], 'the summary comes last');
  const found = items.flatMap((item) => ('target' in item ? [item.target] : []));
  const firstRejected = found.findIndex((target) => target.rank === 0);
  const targets = firstRejected === -1 ? found : found.slice(0, firstRejected);
  const rejected = firstRejected === -1 ? [] : found.slice(firstRejected);
  t.deepEqual(
    targets.map((target) => target.rank),
    targets.map((_, i) => i + 1),
    'compatible targets are ranked 1, 2, ... in stream order',
  );
  for (const target of targets) t.not(target.result.verdict, 'VERDICT_INCOMPATIBLE', `${target.name} is compatible`);
  for (const target of rejected) {
    t.is(target.rank, 0, `${target.name}: a rejected candidate has rank 0 and comes after every compatible one`);
    t.is(target.result.verdict, 'VERDICT_INCOMPATIBLE', `${target.name}: rejected means incompatible`);
  }
  return { targets, rejected, summary: (summaries[0] as { summary: FindTargetsSummary }).summary };
}

export const names = (targets: readonly { name: string }[]): string[] => targets.map((target) => target.name);

/** Polls `predicate` every 10 ms until it holds or `timeoutMs` passes; returns whether it held. */
export async function waitUntil(predicate: () => boolean, timeoutMs = 2000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (predicate()) return true;
    if (Date.now() >= deadline) return false;
    await sleep(10);
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Resolves once the wall clock has moved past the millisecond it was called in: a write
 * acknowledged before the call and one made after it get different revision times (the
 * server stamps a revision when it commits it, with the same clock).
 */
export async function nextMillisecond(): Promise<void> {
  const now = Date.now();
  while (Date.now() <= now) await new Promise((resolve) => setImmediate(resolve));
}

/** Every history entry matching the filter, by the client's own pagination. */
export function historyOf(client: DevcompatClient, filter: HistoryFilter = {}, pageSize?: number): Promise<HistoryEntry[]> {
  return collect(client.history(filter, { pageSize }));
}

/** Another client of the same server (e.g. with another actor), closed at teardown. */
export function extraClient(t: ExecutionContext, address: string, options: Partial<ClientOptions> = {}): DevcompatClient {
  const client = new DevcompatClient({ address, ...options });
  t.teardown(() => client.close());
  return client;
}

// ---------------------------------------------------------------------------------------
// Errors

/** Awaits a call that must fail with `code`; returns the decoded error. */
export async function rejectsWith(
  t: ExecutionContext,
  promise: Promise<unknown>,
  code: number,
  message?: string,
): Promise<DevcompatError> {
  const error = await t.throwsAsync(promise, { instanceOf: DevcompatError }, message);
  if (!error) throw new Error(`${message ?? 'call'}: did not fail with a DevcompatError`);
  t.is(error.code, code, `${message ?? 'call'}: ${error.codeName} (${error.message})`);
  return error;
}

/** A field path's segments: `devices[1].descriptor.attributes["Bad Name"]` has `attributes`. */
export function fieldSegments(path: string): string[] {
  return path.split(/[.[\]]/).filter((segment) => segment !== '');
}

/** Whether some violation's path has `segment` as one of its segments. */
export function namesField(violations: readonly { field: string }[], segment: string): boolean {
  return violations.some((v) => fieldSegments(v.field).includes(segment));
}
