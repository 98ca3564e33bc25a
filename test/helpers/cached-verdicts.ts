// Cached verdicts as the registry keeps them (verdict and rank of a descriptor pair), built from
// the compatibility vectors fixture: the input of the tests of the pre-encoded answers on both
// sides (server/grpc/verdict-encoding.ts, client/check-stream-codec.ts).

import { readFileSync } from 'node:fs';
import { evaluate } from '../../server/core/engine.ts';
import { rankKey } from '../../server/core/rank.ts';
import { validateDescriptor } from '../../server/core/validate.ts';
import type { CachedVerdict } from '../../server/core/registry.ts';

export const compatVectors = JSON.parse(readFileSync(new URL('../fixtures/compat-vectors.json', import.meta.url), 'utf8')) as {
  vectors: { id: string; source: object; target: object }[];
};

export function cachedFor(vector: { source: object; target: object }): CachedVerdict {
  const source = validateDescriptor(vector.source);
  const target = validateDescriptor(vector.target);
  const verdict = evaluate(source, target);
  return { verdict, rank: rankKey(source, target, verdict) };
}
