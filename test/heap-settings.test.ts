// The heap setting `devcompat serve` gives itself (server/heap-settings.ts), and the operator's
// own --heap-growing-percent, given to node, winning over it.

import test from 'ava';
import { spawnSync } from 'node:child_process';
import { applyHeapSettings, HEAP_GROWING_PERCENT } from '../server/heap-settings.ts';

test('without a flag of the operator the server sets its heap growing percent', (t) => {
  t.is(applyHeapSettings(['--import', 'tsx', '--enable-source-maps']), HEAP_GROWING_PERCENT);
});

test("the operator's --heap-growing-percent given to node wins, spelled either way", (t) => {
  t.is(applyHeapSettings(['--heap-growing-percent=80']), undefined);
  t.is(applyHeapSettings(['--heap_growing_percent', '80']), undefined);
});

test('a flag that only begins alike is not the operator choosing the growing percent', (t) => {
  t.is(applyHeapSettings(['--heap-growing-percentage=5', '--heap-growing']), HEAP_GROWING_PERCENT);
});

test('node refuses the flag in NODE_OPTIONS, so only its own arguments can carry it (as the docs say)', (t) => {
  const viaOptions = spawnSync(process.execPath, ['-e', '0'], { env: { ...process.env, NODE_OPTIONS: '--heap-growing-percent=30' }, encoding: 'utf8' });
  t.not(viaOptions.status, 0);
  t.regex(viaOptions.stderr, /not allowed in NODE_OPTIONS/);
  const viaArguments = spawnSync(process.execPath, ['--heap-growing-percent=30', '-e', '0'], { env: { ...process.env, NODE_OPTIONS: '' }, encoding: 'utf8' });
  t.is(viaArguments.status, 0, viaArguments.stderr);
});
