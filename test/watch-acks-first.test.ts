// A commit batch's writers are answered before its revisions go to the watchers: the live
// streams' messages are flushed in the event loop's check phase (server/grpc/streams.ts,
// flushLater), after the HTTP/2 sends that carry the writers' answers, their trailers included.
// What a user would notice otherwise: every writer's answer held back behind the watch traffic of
// its own commit (docs/benchmarks.md, "Watchers' waiting"). Seen from one HTTP/2 connection, where
// frames arrive in the order the server sent them: a client that writes and watches on one
// channel gets each sync's answer before the watch message of its revision.

import test from 'ava';
import { startTestServer } from './helpers/server.ts';
import { rawClients, unaryCall, WatchRecorder } from './helpers/watch.ts';

const SYNCS = 24;

function sync(index: number, round: number) {
  return {
    name: `hosts/h${index}`,
    devices: [{ device_id: 'gpu0', descriptor: { vendor: 'nvidia', device_api: 'vfio-pci', type: 'nvidia-a10-2q', software_version: `1.${round}.0` } }],
  };
}

test("on one connection, each sync of a commit batch is answered before its revision's watch message arrives", async (t) => {
  const { server } = await startTestServer(t);
  // One channel: the watch and the syncs share one HTTP/2 connection.
  const raw = rawClients(server.address);
  t.teardown(() => raw.close());
  const watcher = new WatchRecorder(raw.watch, { progress_interval_ms: 60_000 });
  await watcher.waitFor((r) => r.messages.length > 0, 20_000, 'the created message');
  let late = 0;
  let answered = 0;
  for (let round = 0; round < 3; round++) {
    const responses = await Promise.all(
      Array.from({ length: SYNCS }, (_, i) =>
        unaryCall<{ revision: string }>(raw.registry, 'SyncHost', sync(i, round)).then((response) => {
          answered++;
          // The watch message of this revision must not have arrived before its answer.
          if (watcher.revisions.includes(Number(response.revision))) late++;
          return response;
        }),
      ),
    );
    const last = Math.max(...responses.map((response) => Number(response.revision)));
    await watcher.waitFor((r) => r.revisions.includes(last) || r.ended, 20_000, `revision ${last}`);
  }
  t.is(answered, 3 * SYNCS);
  t.is(watcher.error, undefined);
  t.is(watcher.revisions.length, 3 * SYNCS, 'every revision was delivered');
  t.is(late, 0, 'answers that arrived after the watch message of their own revision');
});
