// The heap setting `devcompat serve` gives itself (server/heap-settings.ts), and the operator's
// own --heap-growing-percent winning over it, wherever it was given.

import test from 'ava';
import { applyHeapSettings, HEAP_GROWING_PERCENT } from '../server/heap-settings.ts';

test('without a flag of the operator the server sets its heap growing percent', (t) => {
  t.is(applyHeapSettings(['--import', 'tsx'], '--enable-source-maps'), HEAP_GROWING_PERCENT);
});

test("the operator's --heap-growing-percent wins, in node's arguments or in NODE_OPTIONS, spelled either way", (t) => {
  t.is(applyHeapSettings(['--heap-growing-percent=80'], ''), undefined);
  t.is(applyHeapSettings(['--heap_growing_percent', '80'], ''), undefined);
  t.is(applyHeapSettings([], '--max-old-space-size=4096 --heap-growing-percent=30'), undefined);
});

test('a flag that only begins alike is not the operator choosing the growing percent', (t) => {
  t.is(applyHeapSettings(['--heap-growing-percentage=5'], '--heap-growing'), HEAP_GROWING_PERCENT);
});
