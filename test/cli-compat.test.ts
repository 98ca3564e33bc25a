// `devcompat check` and `devcompat find` as a scheduler or an operator runs them, against a
// real server holding a small fleet synced from test/fixtures/cli with the CLI itself:
//
//   gvt-a  GVT-g 1.2.0, 6 of 8 free        gvt-d  the same descriptor, 8 of 8 free
//   gvt-b  GVT-g 1.3.0 (newer minor)       gvt-c  GVT-g 1.1.3 (older minor)
//   nv-a   NVIDIA, manager 535.104.05      nv-b   NVIDIA, manager 525.85.05 (warn-only rule)

import test from 'ava';
import { devcompat, fixture, jsonLines, lines, startSharedServer } from './helpers/cli.ts';

const GVT = (host: string) => `hosts/${host}/devices/0000:00:02.0`;
const NV = (host: string) => `hosts/${host}/devices/0000:3b:00.0`;

let shared: Awaited<ReturnType<typeof startSharedServer>>;
const cli = (...args: string[]) => devcompat(shared.address, args);

test.before(async () => {
  shared = await startSharedServer();
  const fleet: [string, string][] = [
    ['gvt-a', 'gvt-host.json'],
    ['gvt-b', 'gvt-host-newer.json'],
    ['gvt-c', 'gvt-host-older.json'],
    ['gvt-d', 'gvt-host-idle.json'],
    ['nv-a', 'nvidia-host.json'],
    ['nv-b', 'nvidia-host-older-manager.json'],
  ];
  const results = await Promise.all(fleet.map(([host, file]) => cli('sync', host, fixture(file))));
  for (const result of results) if (result.code !== 0) throw new Error(`setup: sync failed: ${result.stderr}`);
});

test.after.always(async () => {
  await shared?.close();
});

/** The table rows of `check` output, by attribute: [op, result, reason, source, target]. */
function checkTable(stdout: string): Map<string, string[]> {
  const rows = lines(stdout);
  const header = rows.findIndex((line) => line.startsWith('ATTRIBUTE'));
  const end = rows.findIndex((line, index) => index > header && line.startsWith('required settings:'));
  const body = rows.slice(header + 1, end === -1 ? undefined : end);
  const columns = rows[header].match(/\S+\s*/g)!.map((cell) => cell.length);
  return new Map(
    body.map((line) => {
      const cells: string[] = [];
      let at = 0;
      for (const width of columns) {
        cells.push(line.slice(at, at + width).trim());
        at += width;
      }
      cells[cells.length - 1] = line.slice(at - columns[columns.length - 1]).trim();
      return [cells[0], cells.slice(1)];
    }),
  );
}

test('check: a newer minor version is compatible; exit 0 and every check is shown', async (t) => {
  const result = await cli('check', GVT('gvt-a'), GVT('gvt-b'));
  t.is(result.code, 0, result.stderr);
  t.is(result.stderr, '');
  const out = lines(result.stdout);
  t.is(out[0], `VERDICT_COMPATIBLE  ${GVT('gvt-a')} -> ${GVT('gvt-b')}`);
  t.regex(out[1], /^revision \d+, compat-model\/1 \(/);
  t.is(out[2], 'target host hosts/gvt-b: READY');
  const rows = checkTable(result.stdout);
  t.deepEqual([...rows.keys()], ['vendor', 'device_api', 'type', 'software_version', 'aggregator', 'fence', 'high_gm_mb', 'low_gm_mb', 'pci_ids']);
  t.deepEqual(rows.get('software_version'), ['SEMVER', 'PASS', '', '1.2.0', '1.3.0']);
  t.deepEqual(rows.get('pci_ids'), ['SUPERSET', 'PASS', '', '{5912,591b}', '{5912,591b}']);
  t.deepEqual(rows.get('vendor'), ['EQUAL', 'PASS', '', '"8086"', '"8086"']);
  t.is(out.at(-1), 'required settings: aggregator=1');
});

test('check: an older minor version is incompatible; exit 1 with MINOR_VERSION_DOWNGRADE', async (t) => {
  const result = await cli('check', GVT('gvt-b'), GVT('gvt-c'));
  t.is(result.code, 1, result.stderr);
  t.is(result.stderr, '');
  t.true(result.stdout.startsWith(`VERDICT_INCOMPATIBLE  ${GVT('gvt-b')} -> ${GVT('gvt-c')}\n`));
  const rows = checkTable(result.stdout);
  t.deepEqual(rows.get('software_version'), ['SEMVER', 'FAIL', 'MINOR_VERSION_DOWNGRADE', '1.3.0', '1.1.3']);
  // Everything else passed, and is still listed.
  t.deepEqual(
    [...rows].filter(([, row]) => row[1] !== 'PASS').map(([name]) => name),
    ['software_version'],
  );
  t.is(rows.size, 9);
});

test('check: a failed warn-only rule gives COMPATIBLE_WITH_WARNINGS and exit 0', async (t) => {
  const result = await cli('check', NV('nv-a'), NV('nv-b'));
  t.is(result.code, 0, result.stderr);
  t.true(result.stdout.startsWith(`VERDICT_COMPATIBLE_WITH_WARNINGS  ${NV('nv-a')} -> ${NV('nv-b')}\n`));
  const rows = checkTable(result.stdout);
  t.deepEqual(rows.get('manager'), ['VERSION_GE', 'WARN', 'VERSION_LOWER', '535.104.5', '525.85.5']);
  t.deepEqual(rows.get('max_instance'), ['IGNORE', 'PASS', '', '24', '24']);
  t.deepEqual(rows.get('ecc'), ['EQUAL', 'PASS', '', 'true', 'true']);
  t.false(result.stdout.includes('required settings'));
});

test('check: across vendors every failing built-in is listed', async (t) => {
  const result = await cli('check', NV('nv-a'), GVT('gvt-a'));
  t.is(result.code, 1);
  const rows = checkTable(result.stdout);
  t.is(rows.get('vendor')?.[2], 'VENDOR_MISMATCH');
  t.is(rows.get('type')?.[2], 'TYPE_MISMATCH');
  t.is(rows.get('device_api')?.[1], 'PASS');
});

test('check: a descriptor file as the source; the claimable aggregator becomes a required setting', async (t) => {
  const file = fixture('vm-gvt-aggregated.json');
  const result = await cli('check', file, GVT('gvt-a'));
  t.is(result.code, 0, result.stderr);
  t.true(result.stdout.startsWith(`VERDICT_COMPATIBLE  ${file} (inline) -> ${GVT('gvt-a')}\n`));
  const rows = checkTable(result.stdout);
  t.deepEqual(rows.get('aggregator'), ['CLAIMABLE', 'PASS', '', '2', '1']);
  t.deepEqual(rows.get('pci_ids'), ['SUPERSET', 'PASS', '', '{591b}', '{5912,591b}']);
  t.is(lines(result.stdout).at(-1), 'required settings: aggregator=2');
});

test('check --json: the verdict object with its checks, in proto JSON form', async (t) => {
  const result = await cli('--json', 'check', GVT('gvt-b'), GVT('gvt-c'));
  t.is(result.code, 1, result.stderr);
  const verdict = JSON.parse(result.stdout);
  t.is(verdict.verdict, 'VERDICT_INCOMPATIBLE');
  t.is(verdict.source, GVT('gvt-b'));
  t.is(verdict.target, GVT('gvt-c'));
  t.regex(verdict.revision, /^\d+$/);
  t.is(verdict.engine.model, 'compat-model/1');
  t.is(verdict.checks.length, 9);
  t.deepEqual(
    verdict.checks.find((check: { attribute: string }) => check.attribute === 'software_version'),
    {
      attribute: 'software_version',
      op: 'COMPARE_OP_SEMVER',
      result: 'CHECK_RESULT_FAIL',
      reason: 'MINOR_VERSION_DOWNGRADE',
      sourceValue: { versionValue: '1.3.0' },
      targetValue: { versionValue: '1.1.3' },
    },
  );
  t.deepEqual(verdict.requiredSettings, { aggregator: { intValue: '1' } });
});

test('check --json with a descriptor file: exit 0 and the inline side has no name', async (t) => {
  const result = await cli('--json', 'check', fixture('vm-gvt-aggregated.json'), GVT('gvt-d'));
  t.is(result.code, 0, result.stderr);
  const verdict = JSON.parse(result.stdout);
  t.is(verdict.verdict, 'VERDICT_COMPATIBLE');
  t.false('source' in verdict); // empty for an inline descriptor: a default, left out in proto3 JSON
  t.is(verdict.target, GVT('gvt-d'));
  t.deepEqual(verdict.requiredSettings, { aggregator: { intValue: '2' } });
});

/** The device names of `find` output rows, in order, split into compatible and rejected. */
function findRows(stdout: string) {
  const out = lines(stdout);
  const rows = out.filter((line) => /^(\d+|-)\s+hosts\//.test(line));
  const parse = (line: string) => {
    const [rank, name, verdict, exact, free, ...reasons] = line.split(/\s+/);
    return { rank, name, verdict, exact, free, reasons: reasons.join(' ') };
  };
  return {
    header: out[0],
    compatible: rows.filter((line) => !line.startsWith('-')).map(parse),
    rejected: rows.filter((line) => line.startsWith('-')).map(parse),
    summary: out.at(-1)!,
    out,
  };
}

test('find: targets stream best first, the exact match before a newer version; the source host is left out', async (t) => {
  const result = await cli('find', GVT('gvt-a'));
  t.is(result.code, 0, result.stderr);
  const found = findRows(result.stdout);
  t.regex(found.header, /^RANK\s+TARGET\s+VERDICT\s+EXACT\s+FREE\s+REASONS$/);
  // gvt-d is exact; gvt-b has as many free instances and a smaller name, but a newer minor.
  t.deepEqual(
    found.compatible.map((row) => [row.rank, row.name, row.verdict, row.exact, row.free]),
    [
      ['1', GVT('gvt-d'), 'COMPATIBLE', 'yes', '8/8'],
      ['2', GVT('gvt-b'), 'COMPATIBLE', 'no', '8/8'],
    ],
  );
  t.deepEqual(found.rejected, []);
  t.regex(found.summary, /^3 candidates \(3 distinct descriptors\): 2 compatible, 1 rejected, at revision \d+$/);
});

test('find: from a descriptor file, nearer versions first, then more free instances, then names', async (t) => {
  const result = await cli('find', fixture('vm-gvt-aggregated.json'));
  t.is(result.code, 0, result.stderr);
  const found = findRows(result.stdout);
  t.deepEqual(
    found.compatible.map((row) => row.name),
    [GVT('gvt-d'), GVT('gvt-a'), GVT('gvt-b')],
  );
  t.true(found.compatible.every((row) => row.exact === 'no'));
  t.regex(found.summary, /^4 candidates \(3 distinct descriptors\): 3 compatible, 1 rejected/);
});

test('find --explain: rejected candidates follow, with their reasons', async (t) => {
  const result = await cli('find', '--explain', GVT('gvt-a'));
  t.is(result.code, 0, result.stderr);
  const found = findRows(result.stdout);
  t.deepEqual(
    found.compatible.map((row) => row.name),
    [GVT('gvt-d'), GVT('gvt-b')],
  );
  t.deepEqual(
    found.rejected.map((row) => [row.name, row.verdict, row.reasons]),
    [[GVT('gvt-c'), 'INCOMPATIBLE', 'software_version: MINOR_VERSION_DOWNGRADE']],
  );
  const separator = found.out.indexOf('-- rejected candidates (why not) --');
  t.true(separator > found.out.findIndex((line) => line.includes(GVT('gvt-b'))));
  t.true(separator < found.out.findIndex((line) => line.includes(GVT('gvt-c'))));
});

test('find: a warning-only target is listed with its warning', async (t) => {
  const result = await cli('find', NV('nv-a'));
  t.is(result.code, 0, result.stderr);
  const found = findRows(result.stdout);
  t.deepEqual(
    found.compatible.map((row) => [row.rank, row.name, row.verdict, row.reasons]),
    [['1', NV('nv-b'), 'COMPATIBLE_WITH_WARNINGS', 'manager: VERSION_LOWER (warning)']],
  );
});

test('find: exit 1 when nothing is compatible; --explain says why for each candidate', async (t) => {
  const plain = await cli('find', GVT('gvt-b'));
  t.is(plain.code, 1, plain.stderr);
  t.is(plain.stderr, '');
  t.deepEqual(findRows(plain.stdout).compatible, []);
  t.regex(findRows(plain.stdout).summary, /: 0 compatible, 3 rejected,/);

  const explained = await cli('find', '--explain', GVT('gvt-b'));
  t.is(explained.code, 1);
  t.deepEqual(
    findRows(explained.stdout).rejected.map((row) => [row.name, row.reasons]),
    [
      [GVT('gvt-a'), 'software_version: MINOR_VERSION_DOWNGRADE'],
      [GVT('gvt-c'), 'software_version: MINOR_VERSION_DOWNGRADE'],
      [GVT('gvt-d'), 'software_version: MINOR_VERSION_DOWNGRADE'],
    ],
  );
});

test('find: --limit, --exclude-host and --host-label narrow the targets', async (t) => {
  const [limited, excluded, labelled] = await Promise.all([
    cli('find', '--limit', '1', GVT('gvt-a')),
    cli('find', '--exclude-host', 'gvt-d', GVT('gvt-a')),
    cli('find', '--host-label', 'zone=a', fixture('vm-gvt-aggregated.json')),
  ]);
  t.deepEqual(findRows(limited.stdout).compatible.map((row) => row.name), [GVT('gvt-d')]);
  t.regex(findRows(limited.stdout).summary, /: 2 compatible,/); // counts past the limit
  t.deepEqual(findRows(excluded.stdout).compatible.map((row) => row.name), [GVT('gvt-b')]);
  t.deepEqual(findRows(labelled.stdout).compatible.map((row) => row.name), [GVT('gvt-a'), GVT('gvt-b')]);
});

test('find --json: one JSON object per line, targets in rank order, then rejected, then a summary', async (t) => {
  const result = await cli('--json', 'find', '--explain', GVT('gvt-a'));
  t.is(result.code, 0, result.stderr);
  const items = jsonLines(result.stdout);
  t.deepEqual(
    items.map((item) => (item.target ? [item.target.name, item.target.rank ?? 0, item.target.result.verdict] : 'summary')),
    [[GVT('gvt-d'), 1, 'VERDICT_COMPATIBLE'], [GVT('gvt-b'), 2, 'VERDICT_COMPATIBLE'], [GVT('gvt-c'), 0, 'VERDICT_INCOMPATIBLE'], 'summary'],
  );
  t.deepEqual(items[0].target.capacity, { total: 8, available: 8 });
  t.true(items[0].target.exact);
  t.deepEqual(Object.keys(items[0]), ['target']);
  t.false('rank' in items[2].target); // rank 0 (rejected) is the default: left out in proto3 JSON
  const summary = items.at(-1).summary;
  t.like(summary, { candidates: 3, compatible: 2, rejected: 1, distinctDescriptors: 3 });
  t.is(summary.revision, items[0].target.result.revision);
  const failed = items[2].target.result.checks.filter((check: { result: string }) => check.result !== 'CHECK_RESULT_PASS');
  t.deepEqual(failed.map((check: { attribute: string; reason: string }) => `${check.attribute}:${check.reason}`), ['software_version:MINOR_VERSION_DOWNGRADE']);
});

