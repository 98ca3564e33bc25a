// Fleets are repetitive: thousands of hosts send the same few hundred descriptors. A bounded
// memo of successful validations, keyed by the input's JSON text, lets a sync skip the full
// validation of a descriptor it has seen before. Validation is pure, so equal input text
// always gives the same Descriptor; inputs that fail are never memoized (their errors carry
// the request's field paths).
//
// An input made immutable here (`immutableDescriptorInput`: deeply frozen and recorded; the
// gRPC layer hands the same such object for equal descriptor bytes,
// server/grpc/sync-host-decoding.ts) is also looked up by identity first, which skips even the
// JSON text: it cannot have changed since it was validated. Weak keys: an input the decoder's
// memo dropped is collected with its entry.

import type { Descriptor, DescriptorInput } from './model.ts';
import { validateDescriptor } from './validate.ts';

const MEMO_LIMIT = 4096;
const memo = new Map<string, Descriptor>();
const byIdentity = new WeakMap<object, Descriptor>();
const immutable = new WeakSet<object>();

function deepFreeze<T extends object>(value: T): T {
  for (const child of Object.values(value)) {
    if (child !== null && typeof child === 'object' && !Object.isFrozen(child)) deepFreeze(child);
  }
  return Object.freeze(value);
}

/** Deep-freezes `input` and records it, so that its validation is memoized by identity. */
export function immutableDescriptorInput<T extends object>(input: T): T {
  immutable.add(deepFreeze(input));
  return input;
}

export function validateDescriptorMemoized(input: DescriptorInput, path = ''): Descriptor {
  const frozen = typeof input === 'object' && input !== null && immutable.has(input);
  if (frozen) {
    const known = byIdentity.get(input);
    if (known) return known;
  }
  let text: string;
  try {
    text = JSON.stringify(input);
  } catch {
    return validateDescriptor(input, path); // e.g. a bigint from an in-process caller
  }
  let descriptor = memo.get(text);
  if (!descriptor) {
    descriptor = validateDescriptor(input, path);
    if (memo.size >= MEMO_LIMIT) memo.clear();
    memo.set(text, descriptor);
  }
  if (frozen) byIdentity.set(input, descriptor);
  return descriptor;
}
