// Fleets are repetitive: thousands of hosts send the same few hundred descriptors. A bounded
// memo of successful validations, keyed by the input's JSON text, lets a sync skip the full
// validation of a descriptor it has seen before. Validation is pure, so equal input text
// always gives the same Descriptor; inputs that fail are never memoized (their errors carry
// the request's field paths).

import type { Descriptor, DescriptorInput } from './model.ts';
import { validateDescriptor } from './validate.ts';

const MEMO_LIMIT = 4096;
const memo = new Map<string, Descriptor>();

export function validateDescriptorMemoized(input: DescriptorInput, path = ''): Descriptor {
  let text: string;
  try {
    text = JSON.stringify(input);
  } catch {
    return validateDescriptor(input, path); // e.g. a bigint from an in-process caller
  }
  const hit = memo.get(text);
  if (hit) return hit;
  const descriptor = validateDescriptor(input, path);
  if (memo.size >= MEMO_LIMIT) memo.clear();
  memo.set(text, descriptor);
  return descriptor;
}
