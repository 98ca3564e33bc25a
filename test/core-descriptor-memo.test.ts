// The validation memo (server/core/descriptor-memo.ts): what it returns (the same descriptor
// validation gives, for equal text and for frozen inputs; a fresh validation for an input
// changed since; errors with the caller's field paths, never memoized), what
// `immutableDescriptorInput` does (a deep freeze), and its bounds (4096 descriptors, or 32 MiB
// counted as three times their text: then it starts over). The module's memo is process state:
// this file is the only one that fills it in its worker, and the bound tests run first (serial
// tests run before concurrent ones).

import test from 'ava';
import { DomainError } from '../server/core/errors.ts';
import { immutableDescriptorInput, validateDescriptorMemoized } from '../server/core/descriptor-memo.ts';
import { validateDescriptor } from '../server/core/validate.ts';

const GPU = { vendor: 'nvidia', device_api: 'vfio-pci', type: 'nvidia-a10-4q', software_version: '1.0.0' };
const MEMO_LIMIT = 4096;

test.serial('the memo holds 4096 descriptors, then starts over: the first is validated afresh on the 4097th new one', (t) => {
  // Runs first, on the empty memo of this worker.
  const first = validateDescriptorMemoized({ ...GPU, type: 'bound-0' });
  t.is(validateDescriptorMemoized({ ...GPU, type: 'bound-0' }), first, 'a hit: the very same descriptor');
  let evictedAt = 0;
  for (let i = 1; i <= MEMO_LIMIT + 10 && !evictedAt; i++) {
    validateDescriptorMemoized({ ...GPU, type: `bound-${i}` });
    // Probing `first` is a hit while it is held (a hit adds nothing).
    const again = validateDescriptorMemoized({ ...GPU, type: 'bound-0' });
    if (again !== first) {
      t.deepEqual(again, first, 'a miss recomputes the same answer');
      evictedAt = i;
    }
  }
  t.is(evictedAt, MEMO_LIMIT, '4096 held (bound-0 .. bound-4095); the 4097th new one starts the memo over');
});

test.serial('a frozen input is known by identity: its descriptor outlives the text memo starting over', (t) => {
  const frozen = immutableDescriptorInput({ ...GPU, type: 'identity-kept' });
  const unfrozen = { ...GPU, type: 'identity-not-kept' };
  const first = validateDescriptorMemoized(frozen);
  const other = validateDescriptorMemoized(unfrozen);
  for (let i = 0; i <= MEMO_LIMIT; i++) validateDescriptorMemoized({ ...GPU, type: `turnover-${i}` });
  t.is(validateDescriptorMemoized(frozen), first, 'looked up by identity, not validated again');
  const again = validateDescriptorMemoized(unfrozen);
  t.not(again, other, 'an unfrozen input is validated afresh once its text is gone');
  t.deepEqual(again, other);
});

test.serial('the memo is bounded in bytes too: 60 KB descriptors start it over long before 4096 of them', (t) => {
  const big = (tag: string) => ({
    ...GPU,
    attributes: Object.fromEntries(Array.from({ length: 120 }, (_, i) => [`a${i}`, { string_value: `${tag}-${i}-`.padEnd(250, 'x') }])),
  });
  const text = JSON.stringify(big('big-0'));
  const first = validateDescriptorMemoized(big('big-0'));
  t.is(validateDescriptorMemoized(big('big-0')), first);
  const held = Math.floor((32 * 1024 * 1024) / (3 * text.length)); // about 350 of them
  let evictedAt = 0;
  for (let i = 1; i <= held + 10 && !evictedAt; i++) {
    validateDescriptorMemoized(big(`big-${i}`));
    if (validateDescriptorMemoized(big('big-0')) !== first) evictedAt = i;
  }
  t.true(evictedAt > 0 && evictedAt <= held, `started over after ${evictedAt} (at most ${held} of ${text.length} characters fit)`);
  t.true(evictedAt >= held * 0.9, `not long before the budget was used (${evictedAt} of ${held})`);
});

test('an input changed before it was frozen is validated as it is when frozen', (t) => {
  const input: Record<string, unknown> = { ...GPU, type: 'before-freeze' };
  t.is(validateDescriptorMemoized(input as never).type, 'before-freeze');
  input.type = 'after-change';
  immutableDescriptorInput(input);
  t.is(validateDescriptorMemoized(input as never).type, 'after-change');
});

test('equal input text gives the descriptor validation gives, the same object on a hit', (t) => {
  const one = validateDescriptorMemoized({ ...GPU, type: 'equal-text' });
  t.deepEqual(one, validateDescriptor({ ...GPU, type: 'equal-text' }));
  t.is(validateDescriptorMemoized({ ...GPU, type: 'equal-text' }), one);
  t.not(validateDescriptorMemoized({ ...GPU, type: 'other-text' }), one);
  t.is(validateDescriptorMemoized({ ...GPU, type: 'other-text' }).type, 'other-text');
});

test('an unfrozen input changed after its validation is validated again: only frozen inputs are known by identity', (t) => {
  const input: Record<string, unknown> = { ...GPU, type: 'mutable-1' };
  t.is(validateDescriptorMemoized(input as never).type, 'mutable-1');
  input.type = 'mutable-2';
  t.is(validateDescriptorMemoized(input as never).type, 'mutable-2');
  input.software_version = 'not a version';
  const error = t.throws(() => validateDescriptorMemoized(input as never, 'devices[0].descriptor.'), { instanceOf: DomainError });
  t.is(error?.violations[0]?.field, 'devices[0].descriptor.software_version');
});

test('errors carry the caller field paths, none by default, and a failed input is never memoized', (t) => {
  const bad = { ...GPU, vendor: 7 };
  const plain = t.throws(() => validateDescriptorMemoized(bad as never), { instanceOf: DomainError });
  t.deepEqual(plain?.violations.map((v) => v.field), ['vendor']);
  const nested = t.throws(() => validateDescriptorMemoized(bad as never, 'source.descriptor.'), { instanceOf: DomainError });
  t.deepEqual(nested?.violations.map((v) => v.field), ['source.descriptor.vendor'], 'the second call is validated with its own path');
});

test('immutableDescriptorInput deep-freezes the input (objects, arrays, nested maps) and returns it', (t) => {
  const input = {
    ...GPU,
    type: 'frozen-deep',
    compatible_types: ['a', 'b'],
    attributes: { pci_ids: { set_value: { values: ['591b'] } }, fence: { int_value: 4 }, note: { string_value: 'x' } },
    rules: { pci_ids: { op: 'COMPARE_OP_SUPERSET', values: [] } },
    missing: null,
  };
  t.is(immutableDescriptorInput(input), input);
  t.true(Object.isFrozen(input));
  t.true(Object.isFrozen(input.compatible_types));
  t.true(Object.isFrozen(input.attributes));
  t.true(Object.isFrozen(input.attributes.pci_ids));
  t.true(Object.isFrozen(input.attributes.pci_ids.set_value));
  t.true(Object.isFrozen(input.attributes.pci_ids.set_value.values));
  t.true(Object.isFrozen(input.rules.pci_ids.values));
  t.throws(() => (input.attributes.pci_ids.set_value.values as string[]).push('x'), { instanceOf: TypeError });
});

test('a frozen input validates like any other, first time and after', (t) => {
  const input = immutableDescriptorInput({ ...GPU, type: 'frozen-first', attributes: { fence: { int_value: 4 } } });
  const first = validateDescriptorMemoized(input);
  t.truthy(first);
  t.deepEqual(first, validateDescriptor({ ...GPU, type: 'frozen-first', attributes: { fence: { int_value: 4 } } }));
  t.is(validateDescriptorMemoized(input), first);
  const invalid = immutableDescriptorInput({ ...GPU, type: '' });
  t.throws(() => validateDescriptorMemoized(invalid, 'x.'), { instanceOf: DomainError });
  t.throws(() => validateDescriptorMemoized(invalid, 'x.'), { instanceOf: DomainError }, 'a failure is never memoized by identity either');
});

test('inputs without JSON text (a bigint from an in-process caller) are validated each on its own', (t) => {
  const four = validateDescriptorMemoized({ ...GPU, attributes: { fence: { int_value: 4n } } } as never);
  const seven = validateDescriptorMemoized({ ...GPU, attributes: { fence: { int_value: 7n } } } as never);
  t.deepEqual(four.attributes.get('fence'), { kind: 'int', int: 4n });
  t.deepEqual(seven.attributes.get('fence'), { kind: 'int', int: 7n });
});
