// FindTargets streams its targets pre-encoded (server/grpc/verdict-encoding.ts,
// foundTargetResponse) instead of building a message object per target for protobufjs. What a
// client decodes must be exactly what the loader's serializer gave for the same target: every
// field, for compatible and rejected targets, with and without capacity, in each host state,
// claimed or not, with names whose lengths take two-byte varints and non-ASCII names, and for
// every verdict of the compatibility vectors (each body encoded once, then reused).

import test from 'ava';
import { cachedFor, compatVectors } from './helpers/cached-verdicts.ts';
import { loadPackageDefinition } from '../proto/load.ts';
import { foundTargetResponse, type FoundTargetFields } from '../server/grpc/verdict-encoding.ts';
import { resultMessage } from '../server/grpc/convert.ts';

const method = (loadPackageDefinition()['devcompat.v1.CompatibilityService'] as Record<string, any>).FindTargets;
const HOST_STATES = ['HOST_STATE_READY', 'HOST_STATE_UNREACHABLE', 'HOST_STATE_DRAINING'] as const;

/** The message object the handler gave protobufjs before, for the same target. */
function objectForm(t: FoundTargetFields, hostState: string) {
  return {
    target: {
      name: t.name,
      rank: t.rank,
      result: resultMessage(t.cached, t.revision, t.source, t.name),
      capacity: t.capacity ?? null,
      claimed: t.claimed,
      exact: t.exact,
      host_state: hostState,
    },
  };
}

test('a pre-encoded target decodes exactly as the loader-serialized one', (t) => {
  const names = [
    'hosts/h00001/devices/0000:3b:00.2',
    `hosts/${'a'.repeat(120)}/devices/x`,
    'hosts/ü-€/devices/😀',
  ];
  let compared = 0;
  for (const [v, vector] of compatVectors.vectors.entries()) {
    const cached = cachedFor(vector);
    // Twice per verdict: the body is encoded the first time and reused the second.
    for (const round of [0, 1]) {
      const i = v + round;
      const hostState = HOST_STATES[i % HOST_STATES.length];
      const fields: FoundTargetFields = {
        name: names[i % names.length],
        rank: i % 4 === 0 ? 0 : i * 37,
        cached,
        revision: [0, 1, 300, 9_007_199_254_740_991][i % 4],
        source: i % 5 === 0 ? '' : names[(i + 1) % names.length],
        capacity: i % 3 === 0 ? undefined : { total: 16 + i, available: i % 2 === 0 ? 0 : 7 },
        exact: i % 2 === 1,
        hostState: HOST_STATES.indexOf(hostState) + 1,
        claimed: i % 3 === 1 ? 0 : i,
      };
      const actual = method.responseDeserialize(foundTargetResponse(fields).bytes);
      const expected = method.responseDeserialize(method.responseSerialize(objectForm(fields, hostState)));
      t.deepEqual(actual, expected, `vector ${vector.id}, round ${round}`);
      compared++;
    }
  }
  t.true(compared >= 20, `compared ${compared} targets`);
});
