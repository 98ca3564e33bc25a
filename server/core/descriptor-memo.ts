// Fleets are repetitive: thousands of hosts send the same few hundred descriptors. A bounded
// memo of successful validations, keyed by the input's JSON text, lets a sync skip the full
// validation of a descriptor it has seen before. Validation is pure, so equal input text
// always gives the same Descriptor; inputs that fail are never memoized (their errors carry
// the request's field paths). Bounded by count and by bytes (MEMO_LIMIT, MEMO_BYTES).
//
// An input made immutable here (`immutableDescriptorInput`: deeply frozen and recorded; the
// gRPC layer hands the same such object for equal descriptor bytes,
// server/grpc/sync-host-decoding.ts) is also looked up by identity first, which skips even the
// JSON text: it cannot have changed since it was validated. Weak keys: an input the decoder's
// memo dropped is collected with its entry.

import type { Descriptor, DescriptorInput } from './model.ts';
import { validateDescriptor } from './validate.ts';

const MEMO_LIMIT = 4096;
/**
 * Descriptors may be 64 KB each: the count alone would let clients make the memo hold 4096 of
 * them. An entry is counted as three times its text (the key, the descriptor's values and its
 * canonical key); the memo also starts over once that passes this.
 */
const MEMO_BYTES = 32 * 1024 * 1024;
const memo = new Map<string, Descriptor>();
let memoBytes = 0;
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
    const cost = 3 * text.length;
    if (memo.size >= MEMO_LIMIT || memoBytes + cost > MEMO_BYTES) {
      memo.clear();
      memoBytes = 0;
    }
    memo.set(text, descriptor);
    memoBytes += cost;
  }
  if (frozen) byIdentity.set(input, descriptor);
  return descriptor;
}
