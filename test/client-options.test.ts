// A misspelled option of a client method is refused by name before anything is sent, as a
// misspelled request field is: dropped, it would change the answer without a word (here a
// draining host the caller asked to see stays left out). findTargets always did this;
// findPlacements did not.

import test from 'ava';
import * as grpc from '@grpc/grpc-js';
import type { FindPlacementsOptions, FindTargetsOptions } from '../client/client.ts';
import { collect, gvt, rejectsWith } from './helpers/integration.ts';
import { startTestServer } from './helpers/server.ts';

test('findPlacements refuses a misspelled option, naming it, as findTargets does', async (t) => {
  const { client } = await startTestServer(t);
  await client.syncHost({ name: 'hosts/src', devices: [{ device_id: 'gpu0', descriptor: gvt() }] });
  await client.syncHost({ name: 'hosts/drained', devices: [{ device_id: 'gpu0', descriptor: gvt() }] });
  await client.setHostDraining('hosts/drained', true);
  const vm = [{ requestId: 'gpu', source: 'hosts/src/devices/gpu0' }];

  const spelled = await collect(client.findPlacements(vm, { includeDrainingHosts: true }));
  t.deepEqual(
    spelled.flatMap((item) => ('placement' in item ? [item.placement.host] : [])),
    ['hosts/drained'],
    'spelled right, the option is applied',
  );

  const typo = { includeDrainingHost: true } as FindPlacementsOptions;
  const refused = await rejectsWith(t, collect(client.findPlacements(vm, typo)), grpc.status.INVALID_ARGUMENT);
  t.regex(refused.message, /unknown option "includeDrainingHost"/);
  t.deepEqual(refused.fieldViolations.map((violation) => violation.field), ['includeDrainingHost']);

  const sameForTargets = await rejectsWith(
    t,
    collect(client.findTargets('hosts/src/devices/gpu0', { includeDrainingHost: true } as FindTargetsOptions)),
    grpc.status.INVALID_ARGUMENT,
  );
  t.regex(sameForTargets.message, /unknown option "includeDrainingHost"/);
});
