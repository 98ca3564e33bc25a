// Prints the benchmark fleet's shape next to the reference mix, so that a drift shows.
//
//   npx tsx bench/print-fleet.ts [--hosts N] [--seed S]

import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { generateFleet, type FleetSpec } from './fleet.ts';
import { REFERENCE_SHAPE, describeFleet, type SourceShape } from './fleet-shape.ts';

function parseSpec(): FleetSpec {
  const { values } = parseArgs({
    options: { hosts: { type: 'string', default: '10000' }, seed: { type: 'string', default: '1' } },
    strict: true,
  });
  const hosts = Number(values.hosts);
  const seed = Number(values.seed);
  if (!Number.isSafeInteger(hosts) || hosts < 1) throw new Error(`--hosts must be a positive integer, got ${values.hosts}`);
  if (!Number.isSafeInteger(seed)) throw new Error(`--seed must be an integer, got ${values.seed}`);
  return { hosts, seed };
}

const spec = parseSpec();
// The reference counts are for 10,000 hosts; scale them to the fleet asked for.
const scale = spec.hosts / REFERENCE_SHAPE.hosts;

let t0 = performance.now();
let devices = 0;
for (const host of generateFleet(spec)) devices += host.devices.length;
const generateMs = performance.now() - t0;

t0 = performance.now();
const shape = describeFleet(generateFleet(spec));
const describeMs = performance.now() - t0;

const rows: string[][] = [];
const section = (title: string): void => {
  rows.push([], [title, 'fleet', 'mix', 'drift']);
};
const row = (label: string, actual: number, expected: number | undefined): void => {
  const drift = expected === undefined || expected === 0 ? '' : `${(((actual - expected) / expected) * 100).toFixed(1)}%`;
  rows.push([`  ${label}`, String(actual), expected === undefined ? '' : String(Math.round(expected)), drift]);
};

section('hosts per class');
for (const [name, n] of Object.entries(REFERENCE_SHAPE.hostsPerClass)) row(name, shape.hostsPerClass[name] ?? 0, n * scale);
for (const [name, n] of Object.entries(shape.hostsPerClass)) {
  if (!(name in REFERENCE_SHAPE.hostsPerClass)) row(name, n, undefined);
}
row('total', shape.hosts, REFERENCE_SHAPE.hosts * scale);

section('devices per type');
const reference: Record<string, number> = REFERENCE_SHAPE.devicesPerType;
for (const [type, n] of Object.entries(reference)) row(type, shape.devicesPerType[type] ?? 0, n * scale);
for (const [type, n] of Object.entries(shape.devicesPerType)) if (!(type in reference)) row(type, n, undefined);
row('total', shape.devices, REFERENCE_SHAPE.devices * scale);

section('devices per family');
for (const [family, n] of Object.entries(shape.devicesPerFamily)) row(family, n, undefined);

section('distinct descriptors');
for (const [family, n] of Object.entries(shape.distinctDescriptorsPerFamily)) row(family, n, undefined);
row('total', shape.distinctDescriptors, REFERENCE_SHAPE.distinctDescriptors);

section('capacity');
rows.push(['  VFs free', `${(shape.vfFreeShare * 100).toFixed(1)}%`, '70.0%', '']);
rows.push(['  mdev instances free', `${(shape.mdevFreeShare * 100).toFixed(1)}%`, '~50%', '']);

const sourceRows = (title: string, s: SourceShape, expected?: { candidates: number; compatible: number }): void => {
  const d = s.source.descriptor;
  section(`source ${title}: ${d.type} ${d.software_version} (${s.source.name})`);
  row('candidates', s.candidates, expected === undefined ? undefined : expected.candidates * scale);
  row('compatible (estimate)', s.estimatedCompatible, expected === undefined ? undefined : expected.compatible * scale);
  row('  of which with warnings', s.estimatedWithWarnings, undefined);
};
sourceRows('gvtg', shape.sources.gvtg, REFERENCE_SHAPE.sources.gvtg);
sourceRows('nvidia', shape.sources.nvidia, REFERENCE_SHAPE.sources.nvidia);
sourceRows('mlx5', shape.sources.mlx5);

const widths = [0, 1, 2, 3].map((c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
console.log(`fleet: ${spec.hosts} hosts, seed ${spec.seed}`);
for (const r of rows) {
  console.log(r.length === 0 ? '' : r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  '));
}
console.log('');
console.log(`generated ${devices} devices in ${generateMs.toFixed(0)} ms; described in ${describeMs.toFixed(0)} ms`);
console.log('compatible counts are estimates; the server measures the real ones.');
