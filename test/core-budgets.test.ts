// validateBudgets and budgetsEqual (server/core/budgets.ts), the shared budgets a host declares in
// SyncHost: every field's violation with its exact path and message, the edges of every bound
// (id length and alphabet, parent length, budgets per host, consumers per budget, amounts up to
// 2^53 - 1), what a valid budget evaluates to (ids and consumers in order, defaults), and which
// differences make two budget lists unequal. Pure, no registry.

import test from 'ava';
import { BUDGET_LIMITS, budgetsEqual, validateBudgets, type Budget, type BudgetInput } from '../server/core/budgets.ts';
import { Violations } from '../server/core/errors.ts';

const DEVICES = new Set(['gpu0', 'gpu1', 'gpu2']);

function run(inputs: readonly BudgetInput[] | null | undefined, devices: ReadonlySet<string> = DEVICES, field?: string) {
  const violations = new Violations();
  const budgets = field === undefined ? validateBudgets(inputs, devices, violations) : validateBudgets(inputs, devices, violations, field);
  return { budgets, violations: violations.list.map((v) => `${v.field}: ${v.description}`) };
}

const plain = (budgets: readonly Budget[]) =>
  budgets.map((b) => ({ ...b, consumption: [...b.consumption.entries()] }));

const ok = (budget_id: string, extra: Partial<BudgetInput> = {}): BudgetInput => ({
  budget_id,
  parent: 'pci0',
  total: 10,
  available: 4,
  consumption: { gpu0: 2 },
  ...extra,
});

test('a valid budget evaluates to its fields, with the consumers in device id order', (t) => {
  const { budgets, violations } = run([ok('0000:00:02.0/gm', { consumption: { gpu2: 3, gpu0: 1, gpu1: '2' } })]);
  t.deepEqual(violations, []);
  t.deepEqual(plain(budgets), [
    {
      budgetId: '0000:00:02.0/gm',
      parent: 'pci0',
      total: 10,
      available: 4,
      consumption: [
        ['gpu0', 1],
        ['gpu1', 2],
        ['gpu2', 3],
      ],
    },
  ]);
});

test('no budgets (null, undefined or empty) evaluate to none, without a violation', (t) => {
  for (const input of [null, undefined, []]) t.deepEqual(run(input), { budgets: [], violations: [] });
});

test('budgets come back in budget id order, whatever the input order', (t) => {
  const { budgets, violations } = run([ok('c'), ok('a'), ok('b.2'), ok('b.10')]);
  t.deepEqual(violations, []);
  t.deepEqual(
    budgets.map((b) => b.budgetId),
    ['a', 'b.10', 'b.2', 'c'],
  );
  const reversed = run([ok('a'), ok('b'), ok('c')].reverse());
  t.deepEqual(
    reversed.budgets.map((b) => b.budgetId),
    ['a', 'b', 'c'],
  );
});

test('missing parent, total and available default to empty and zero', (t) => {
  const { budgets, violations } = run([{ budget_id: 'gm', consumption: { gpu0: 1 } }]);
  t.deepEqual(violations, []);
  t.deepEqual(plain(budgets), [{ budgetId: 'gm', parent: '', total: 0, available: 0, consumption: [['gpu0', 1]] }]);
  const nulls = run([{ budget_id: 'gm', parent: null, total: null, available: null, consumption: { gpu0: 1 } }]);
  t.deepEqual(nulls.violations, []);
  t.deepEqual(plain(nulls.budgets), [{ budgetId: 'gm', parent: '', total: 0, available: 0, consumption: [['gpu0', 1]] }]);
});

test('the field prefix defaults to budgets and can be named', (t) => {
  t.deepEqual(run([ok('')]).violations, ['budgets[0].budget_id: a budget id is required']);
  t.deepEqual(run([ok('a'), ok('')], DEVICES, 'host.budgets').violations, ['host.budgets[1].budget_id: a budget id is required']);
});

test('budget ids: letters, digits and . _ : / - inside, an alphanumeric at each end, 1 to 128 characters', (t) => {
  const valid = ['g', 'gm', 'g0m', '0000:00:02.0/gm', 'a_b-c.d:e/f', 'A'.repeat(128), 'a' + '-'.repeat(126) + 'z'];
  for (const id of valid) t.deepEqual(run([ok(id)]).violations, [], id);
  const invalid = ['-gm', 'gm-', '/gm', 'gm/', 'g m', 'gm!', 'é'];
  for (const id of invalid) {
    t.deepEqual(
      run([ok(id)]).violations,
      [`budgets[0].budget_id: "${id}" is not a valid budget id (letters, digits, '.', '_', ':', '/', '-'; at most 128 characters)`],
      id,
    );
  }
  t.deepEqual(run([ok('A'.repeat(129))]).violations, [
    `budgets[0].budget_id: "${'A'.repeat(80)}…" is not a valid budget id (letters, digits, '.', '_', ':', '/', '-'; at most 128 characters)`,
  ]);
  t.deepEqual(run([{ ...ok('x'), budget_id: null }]).violations, ['budgets[0].budget_id: a budget id is required']);
  t.deepEqual(run([{ ...ok('x'), budget_id: undefined }]).violations, ['budgets[0].budget_id: a budget id is required']);
});

test('a long invalid budget id is truncated in the message', (t) => {
  const id = '-' + 'a'.repeat(200);
  t.deepEqual(run([ok(id)]).violations, [
    `budgets[0].budget_id: "${id.slice(0, 80)}…" is not a valid budget id (letters, digits, '.', '_', ':', '/', '-'; at most 128 characters)`,
  ]);
});

test('a duplicate budget id is named at its second place', (t) => {
  const { violations } = run([ok('gm'), ok('other'), ok('gm')]);
  t.deepEqual(violations, ['budgets[2].budget_id: duplicate budget id "gm"']);
});

test('the parent may have 256 characters, not 257', (t) => {
  const at = run([ok('gm', { parent: 'p'.repeat(256) })]);
  t.deepEqual(at.violations, []);
  t.is(at.budgets[0].parent, 'p'.repeat(256));
  t.deepEqual(run([ok('gm', { parent: 'p'.repeat(257) })]).violations, ['budgets[0].parent: at most 256 characters']);
  // Characters, as every other stored string counts them: 256 emoji are 512 UTF-16 units.
  t.deepEqual(run([ok('gm', { parent: '🎮'.repeat(256) })]).violations, []);
});

test('a parent with a control character is refused, naming it, as every stored string is', (t) => {
  for (const parent of ['gpu\u001b[2J', 'gpu\u0000', 'gpu\n0', 'gpu\u0085']) {
    t.deepEqual(run([ok('gm'), ok('b', { parent })]).violations, [
      'budgets[1].parent: must not contain control characters (NUL, newline, escape, DEL, C1)',
    ]);
  }
});

test('a host may declare 256 budgets, not 257, and then none is returned', (t) => {
  const inputs = (n: number) => Array.from({ length: n }, (_, i) => ok(`b${String(i).padStart(3, '0')}`));
  const at = run(inputs(BUDGET_LIMITS.budgetsPerHost));
  t.is(BUDGET_LIMITS.budgetsPerHost, 256);
  t.deepEqual(at.violations, []);
  t.is(at.budgets.length, 256);
  t.deepEqual(run(inputs(257)), { budgets: [], violations: ['budgets: at most 256 budgets per host, got 257'] });
  t.deepEqual(run(inputs(257), DEVICES, 'b').violations, ['b: at most 256 budgets per host, got 257']);
});

test('available may equal the total, not exceed it', (t) => {
  t.deepEqual(run([ok('gm', { total: 10, available: 10 })]).violations, []);
  t.deepEqual(run([ok('gm', { total: 10, available: 11 })]).violations, ['budgets[0].available: available (11) exceeds total (10)']);
  t.deepEqual(run([ok('gm', { total: '10', available: '11' })]).violations, ['budgets[0].available: available (11) exceeds total (10)']);
});

test('an invalid total or available is reported alone, not compared with the other', (t) => {
  t.deepEqual(run([ok('gm', { total: -1, available: 5 })]).violations, ['budgets[0].total: must be a non-negative integer below 2^53']);
  t.deepEqual(run([ok('gm', { total: 5, available: -1 })]).violations, ['budgets[0].available: must be a non-negative integer below 2^53']);
  t.deepEqual(run([ok('gm', { total: 5, available: 'many' })]).violations, ['budgets[0].available: must be a non-negative integer below 2^53']);
});

test('amounts: safe integers from 0 (total, available) or 1 (consumption), as numbers or digit strings', (t) => {
  const total = (value: unknown) => run([ok('gm', { total: value as number, available: 0 })]);
  for (const [value, expected] of [
    [0, 0],
    [7, 7],
    ['0', 0],
    ['42', 42],
    [2 ** 53 - 1, 2 ** 53 - 1],
    [String(2 ** 53 - 1), 2 ** 53 - 1],
  ] as const) {
    const r = total(value);
    t.deepEqual(r.violations, [], String(value));
    t.is(r.budgets[0].total, expected, String(value));
  }
  for (const value of [-1, 1.5, 2 ** 53, String(2 ** 53), '', ' 4', '4 ', '4x', '-1', '1e3', '0x10', Number.NaN, Number.POSITIVE_INFINITY, true]) {
    t.deepEqual(total(value).violations, ['budgets[0].total: must be a non-negative integer below 2^53'], String(value));
  }
  const per = (value: unknown) => run([ok('gm', { consumption: { gpu0: value as number } })]);
  for (const value of [1, '1', 9, 2 ** 53 - 1]) {
    const r = per(value);
    t.deepEqual(r.violations, [], String(value));
    t.deepEqual([...r.budgets[0].consumption.entries()], [['gpu0', Number(value)]]);
  }
  for (const value of [0, '0', -3, 2.5, 2 ** 53, '', 'x']) {
    const r = per(value);
    t.deepEqual(r.violations, ['budgets[0].consumption["gpu0"]: must be an integer from 1 to 2^53 - 1'], String(value));
    t.deepEqual([...r.budgets[0].consumption.entries()], [], 'an invalid consumer is left out');
  }
});

test('consumption: at least one consumer, each a device of this sync, at most 4096', (t) => {
  t.deepEqual(run([ok('gm', { consumption: {} })]).violations, ['budgets[0].consumption: a budget needs at least one consuming device']);
  t.deepEqual(run([ok('gm', { consumption: null })]).violations, ['budgets[0].consumption: a budget needs at least one consuming device']);
  t.deepEqual(run([ok('gm', { consumption: { gpu9: 1, gpu0: 1, gpu8: 2 } })]).violations, [
    'budgets[0].consumption["gpu8"]: no device "gpu8" in this sync',
    'budgets[0].consumption["gpu9"]: no device "gpu9" in this sync',
  ]);
  const long = 'd'.repeat(100);
  t.deepEqual(run([ok('gm', { consumption: { [long]: 1 } })]).violations, [
    `budgets[0].consumption[${JSON.stringify(long.slice(0, 80) + '…')}]: no device "${long.slice(0, 80)}…" in this sync`,
  ]);
  const many = (n: number) => Array.from({ length: n }, (_, i) => `v${i}`);
  const all = new Set(many(4097));
  const at = run([ok('gm', { consumption: Object.fromEntries(many(4096).map((id) => [id, 1])) })], all);
  t.is(BUDGET_LIMITS.consumersPerBudget, 4096);
  t.deepEqual(at.violations, []);
  t.is(at.budgets[0].consumption.size, 4096);
  t.deepEqual(run([ok('gm', { consumption: Object.fromEntries(many(4097).map((id) => [id, 1])) })], all).violations, [
    'budgets[0].consumption: at most 4096 devices, got 4097',
  ]);
});

test('every problem of every budget is reported, in input order', (t) => {
  const { violations } = run([
    { budget_id: 'ok', consumption: { gpu0: 1 } },
    { budget_id: '-bad', parent: 'x'.repeat(300), total: 1, available: 2, consumption: { nope: 0 } },
  ]);
  t.deepEqual(violations, [
    `budgets[1].budget_id: "-bad" is not a valid budget id (letters, digits, '.', '_', ':', '/', '-'; at most 128 characters)`,
    'budgets[1].parent: at most 256 characters',
    'budgets[1].available: available (2) exceeds total (1)',
    'budgets[1].consumption["nope"]: no device "nope" in this sync',
    'budgets[1].consumption["nope"]: must be an integer from 1 to 2^53 - 1',
  ]);
});

test('budgetsEqual: equal lists are equal; any difference of id, parent, total, available or consumption is not', (t) => {
  const base = (): Budget => ({ budgetId: 'gm', parent: 'p', total: 10, available: 4, consumption: new Map([['gpu0', 2], ['gpu1', 1]]) });
  t.true(budgetsEqual([base()], [base()]));
  t.true(budgetsEqual([], []));
  t.false(budgetsEqual([base()], []));
  t.false(budgetsEqual([], [base()]));
  const variants: Budget[] = [
    { ...base(), budgetId: 'gm2' },
    { ...base(), parent: 'q' },
    { ...base(), total: 11 },
    { ...base(), available: 3 },
    { ...base(), consumption: new Map([['gpu0', 2]]) },
    { ...base(), consumption: new Map([['gpu0', 2], ['gpu1', 1], ['gpu2', 1]]) },
    { ...base(), consumption: new Map([['gpu0', 2], ['gpu1', 5]]) },
    { ...base(), consumption: new Map([['gpu0', 2], ['gpu2', 1]]) },
  ];
  for (const variant of variants) {
    t.false(budgetsEqual([base()], [variant]), JSON.stringify(plain([variant])));
    t.false(budgetsEqual([variant], [base()]), JSON.stringify(plain([variant])));
  }
  const second = { ...base(), budgetId: 'gn' };
  t.true(budgetsEqual([base(), second], [base(), { ...second }]));
  t.false(budgetsEqual([base(), second], [base(), { ...second, total: 1 }]));
});
