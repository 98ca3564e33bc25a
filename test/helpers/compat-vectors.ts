// Runs a conformance-vector file (format `devcompat-vectors/1`, see
// /work/shared/vectors/README.md) through the core: one ava test per case, titled by the
// case id. Shared by the fixture's suite and our own extra cases.

import test from 'ava';
import type { ExecutionContext } from 'ava';
import { readFileSync } from 'node:fs';
import { evaluate } from '../../server/core/engine.ts';
import { DomainError } from '../../server/core/errors.ts';
import type { AttributeValueInput, DescriptorInput, Verdict } from '../../server/core/model.ts';
import { compareRanked, rankKey as rankKeyOf } from '../../server/core/rank.ts';
import type { RankCandidate } from '../../server/core/rank.ts';
import { validateDescriptor } from '../../server/core/validate.ts';
import { parseValue, valueToJson } from '../../server/core/values.ts';

export interface ReasonPair {
  attribute: string;
  reason: string;
}

export interface VectorCase {
  id: string;
  description?: string;
  source: DescriptorInput;
  target: DescriptorInput;
  expect: {
    verdict: string;
    failures: ReasonPair[];
    warnings: ReasonPair[];
    required_settings: Record<string, AttributeValueInput>;
  };
}

export interface RankingCase {
  id: string;
  description?: string;
  source: DescriptorInput;
  targets: { name: string; descriptor: DescriptorInput; capacity?: { total: number; available: number } }[];
  expect_order: string[];
}

export interface InvalidCase {
  id: string;
  description?: string;
  descriptor: DescriptorInput;
  field: string;
}

export interface VectorFile {
  format: string;
  vectors: VectorCase[];
  rankings: RankingCase[];
  invalid: InvalidCase[];
}

export function loadVectors(url: URL): VectorFile {
  return JSON.parse(readFileSync(url, 'utf8')) as VectorFile;
}

const BUILTIN_CHECKS = ['vendor', 'device_api', 'type', 'software_version'];
/** The prefix SyncHost uses for a device's descriptor: paths must carry it through. */
const DEVICE_PREFIX = 'devices[3].descriptor.';

/** Registers every case of `file`, plus one test proving the file is not empty. */
export function registerVectorTests(file: VectorFile, fileName: string): void {
  test(`${fileName} has vectors, rankings and invalid cases`, (t) => {
    t.is(file.format, 'devcompat-vectors/1');
    t.true(file.vectors.length > 0, 'no vectors');
    t.true(file.rankings.length > 0, 'no rankings');
    t.true(file.invalid.length > 0, 'no invalid cases');
    const ids = [...file.vectors, ...file.rankings, ...file.invalid].map((c) => c.id);
    t.is(new Set(ids).size, ids.length, 'case ids must be unique');
  });

  for (const c of file.vectors) test(c.id, (t) => checkVector(t, c));
  for (const c of file.rankings) test(c.id, (t) => checkRanking(t, c));
  for (const c of file.invalid) test(c.id, (t) => checkInvalid(t, c));
}

function checkVector(t: ExecutionContext, c: VectorCase): void {
  const verdict = evaluate(validateDescriptor(c.source), validateDescriptor(c.target));
  t.is<string, string>(verdict.verdict, c.expect.verdict);
  t.deepEqual(pairs(verdict, 'CHECK_RESULT_FAIL'), sortPairs(c.expect.failures), 'failures');
  t.deepEqual(pairs(verdict, 'CHECK_RESULT_WARN'), sortPairs(c.expect.warnings), 'warnings');
  t.deepEqual(settingsJson(verdict), expectedSettingsJson(c.expect.required_settings), 'required_settings');

  // Every check is made: the built-ins, then one per name in S.attributes ∪ T.attributes ∪
  // T.rules (minus the software_version rule), sorted; computed here from the raw JSON.
  const names = new Set([
    ...Object.keys(c.source.attributes ?? {}),
    ...Object.keys(c.target.attributes ?? {}),
    ...Object.keys(c.target.rules ?? {}).filter((name) => name !== 'software_version'),
  ]);
  t.deepEqual(
    verdict.checks.map((check) => check.attribute),
    [...BUILTIN_CHECKS, ...[...names].sort()],
    'one check per attribute, in order',
  );
  for (const check of verdict.checks) {
    t.is(check.reason === '', check.result === 'CHECK_RESULT_PASS', `reason of ${check.attribute}`);
  }
}

function checkRanking(t: ExecutionContext, c: RankingCase): void {
  const source = validateDescriptor(c.source);
  const candidates: RankCandidate[] = c.targets.map(({ name, descriptor, capacity }) => {
    const target = validateDescriptor(descriptor);
    const verdict = evaluate(source, target);
    t.not(verdict.verdict, 'VERDICT_INCOMPATIBLE', `${name} must be compatible`);
    return { key: rankKeyOf(source, target, verdict), available: capacity?.available, name };
  });
  // The order must come from the comparator, not from the input order.
  t.deepEqual([...candidates].sort(compareRanked).map((x) => x.name), c.expect_order);
  t.deepEqual([...candidates].reverse().sort(compareRanked).map((x) => x.name), c.expect_order, 'reversed input');
}

function checkInvalid(t: ExecutionContext, c: InvalidCase): void {
  for (const prefix of ['', DEVICE_PREFIX]) {
    const error = t.throws(() => validateDescriptor(c.descriptor, prefix), { instanceOf: DomainError });
    if (!error) return;
    t.is(error.reason, 'INVALID_ARGUMENT');
    const fields = error.violations.map((v) => v.field);
    t.true(
      fields.some((field) => field.split(/[.[]/).includes(c.field)),
      `no violation names ${c.field} (prefix ${JSON.stringify(prefix)}): ${JSON.stringify(error.violations)}`,
    );
    if (prefix !== '') {
      t.true(
        fields.every((field) => field.startsWith(prefix) || field === prefix.slice(0, -1)),
        `violations outside ${prefix}: ${fields.join(', ')}`,
      );
    }
  }
}


function pairs(verdict: Verdict, result: string): ReasonPair[] {
  return sortPairs(
    verdict.checks.filter((c) => c.result === result).map((c) => ({ attribute: c.attribute, reason: c.reason })),
  );
}

function sortPairs(list: readonly ReasonPair[]): ReasonPair[] {
  const key = (p: ReasonPair) => `${p.attribute}\u0000${p.reason}`;
  return list.map((p) => ({ attribute: p.attribute, reason: p.reason })).sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

/** Both sides in canonical proto-JSON (vectors write `{"int_value": 2}`, the core `"2"`). */
function settingsJson(verdict: Verdict): [string, unknown][] {
  return [...verdict.requiredSettings].map(([name, value]): [string, unknown] => [name, valueToJson(value)]).sort(byName);
}

function expectedSettingsJson(settings: Record<string, AttributeValueInput>): [string, unknown][] {
  return Object.entries(settings)
    .map(([name, value]): [string, unknown] => [name, valueToJson(parseValue(value, `required_settings.${name}`))])
    .sort(byName);
}

function byName(a: [string, unknown], b: [string, unknown]): number {
  return a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0;
}
