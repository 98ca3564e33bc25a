// The domain errors clients see, exactly: each constructor's reason (a wire constant the
// gRPC layer maps to a status), its message, its field violations and its metadata. A reason
// or message that drifts breaks clients that match on it, so each is asserted to the letter.

import test from 'ava';
import { DomainError, invalidArgument, notFound, overloaded, unavailable, Violations, watchTooSlow } from '../server/core/errors.ts';

test('a DomainError is an Error named DomainError with no violations and no metadata by default', (t) => {
  const error = new DomainError('NOT_FOUND', 'gone');
  t.true(error instanceof Error);
  t.is(error.name, 'DomainError');
  t.is(error.message, 'gone');
  t.is(error.reason, 'NOT_FOUND');
  t.deepEqual(error.violations, []);
  t.deepEqual(error.metadata, {});
});

test('invalidArgument names the first field, counts the rest, and lists every violation', (t) => {
  const one = invalidArgument([{ field: 'host', description: 'must not be empty' }]);
  t.is(one.reason, 'INVALID_ARGUMENT');
  t.is(one.message, 'host: must not be empty');
  t.deepEqual(one.violations, [{ field: 'host', description: 'must not be empty' }]);
  t.deepEqual(one.metadata, {});

  const three = [
    { field: 'a', description: 'bad a' },
    { field: 'b', description: 'bad b' },
    { field: 'c', description: 'bad c' },
  ];
  const many = invalidArgument(three);
  t.is(many.message, 'a: bad a (and 2 more)');
  t.deepEqual(many.violations, three);

  const two = invalidArgument(three.slice(0, 2));
  t.is(two.message, 'a: bad a (and 1 more)');

  const none = invalidArgument([]);
  t.is(none.reason, 'INVALID_ARGUMENT');
  t.is(none.message, 'invalid request');
  t.deepEqual(none.violations, []);
});

test('notFound names the resource in its message and metadata', (t) => {
  const error = notFound('host "h1"');
  t.true(error instanceof DomainError);
  t.is(error.reason, 'NOT_FOUND');
  t.is(error.message, 'host "h1" not found');
  t.deepEqual(error.metadata, { resource: 'host "h1"' });
  t.deepEqual(error.violations, []);
});

test('unavailable, watchTooSlow and overloaded carry their reason and the message as given', (t) => {
  for (const [make, reason] of [
    [unavailable, 'UNAVAILABLE'],
    [watchTooSlow, 'WATCH_TOO_SLOW'],
    [overloaded, 'OVERLOADED'],
  ] as const) {
    const error = make('try later');
    t.true(error instanceof DomainError, reason);
    t.is(error.reason, reason);
    t.is(error.message, 'try later');
    t.deepEqual(error.violations, []);
    t.deepEqual(error.metadata, {});
  }
});

test('Violations collects fields in order and throws them all as one INVALID_ARGUMENT', (t) => {
  const violations = new Violations();
  t.true(violations.empty);
  t.notThrows(() => violations.throwIfAny());

  violations.add('devices[0].name', 'is required');
  t.false(violations.empty);
  violations.add('devices[1].name', 'is too long');
  t.deepEqual(violations.list, [
    { field: 'devices[0].name', description: 'is required' },
    { field: 'devices[1].name', description: 'is too long' },
  ]);

  const error = t.throws(() => violations.throwIfAny(), { instanceOf: DomainError });
  t.is(error.reason, 'INVALID_ARGUMENT');
  t.is(error.message, 'devices[0].name: is required (and 1 more)');
  t.deepEqual(error.violations, violations.list);
});
