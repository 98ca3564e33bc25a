// A live stream's messages go out once per turn of the event loop: the revisions a commit batch publishes reach
// each watcher as one write (server/grpc/streams.ts gathers them, server/grpc/direct-send.ts
// frames them together). What a user would notice if that went wrong: a revision missing,
// doubled or out of order for an unfiltered or a filtered watcher, a watch refused because a
// tick's messages together passed the server's message size limit, or the metrics counting
// writes instead of messages.

import test from 'ava';
import * as grpc from '@grpc/grpc-js';
import type { SyncHostRequest } from '../client/client.ts';
import { capturedLog } from './helpers/log.ts';
import { scrape } from './helpers/metrics.ts';
import { startTestServer } from './helpers/server.ts';
import { protoRoot } from '../proto/load.ts';
import { rawClients, StreamRecorder, WatchRecorder, type WatchMessage } from './helpers/watch.ts';

const WatchRequest = () => protoRoot().lookupType('devcompat.v1.WatchRequest');
const WatchResponse = () => protoRoot().lookupType('devcompat.v1.WatchResponse');

const DEVICES = 8;

/** A host of `DEVICES` devices; `round` changes every device's software version. */
function host(index: number, round: number): SyncHostRequest {
  return {
    name: `hosts/h${index}`,
    devices: Array.from({ length: DEVICES }, (_, d) => ({
      device_id: `gpu${d}`,
      descriptor: { vendor: 'nvidia', device_api: 'vfio-pci', type: d % 2 ? 'nvidia-a10-8q' : 'nvidia-a10-2q', software_version: `1.${round}.0` },
    })),
  } as SyncHostRequest;
}

/** Writes `rounds` rounds of one sync per host, each round's syncs concurrent (so they share commit batches). */
async function concurrentRounds(client: { syncHost(request: SyncHostRequest): Promise<unknown> }, hosts: number, rounds: number) {
  const written: { revision: number; host: string }[] = [];
  for (let round = 0; round < rounds; round++) {
    const responses = await Promise.all(Array.from({ length: hosts }, (_, i) => client.syncHost(host(i, round))));
    responses.forEach((response, i) => written.push({ revision: Number((response as { revision: string }).revision), host: `hosts/h${i}` }));
  }
  return written.sort((a, b) => a.revision - b.revision);
}

const seenUpTo = (recorder: WatchRecorder) =>
  Math.max(0, ...recorder.messages.filter((m) => !m.created).map((m) => Number(m.revision)));

function resourcesOf(message: WatchMessage): string[] {
  return message.events.map((event) => event.resource);
}

test('a commit batch of revisions reaches an unfiltered, a host and a type watcher complete, in order, each once', async (t) => {
  const { server, client } = await startTestServer(t);
  const raw = rawClients(server.address);
  t.teardown(() => raw.close());
  const all = new WatchRecorder(raw.watch, { progress_interval_ms: 100 });
  const h5 = new WatchRecorder(raw.watch, { filter: { host: 'hosts/h5' }, progress_interval_ms: 100 });
  const typed = new WatchRecorder(raw.watch, { filter: { type: 'nvidia-a10-8q' }, progress_interval_ms: 100 });
  const watchers = [all, h5, typed];
  await Promise.all(watchers.map((w) => w.waitFor((r) => r.messages.length > 0, 20_000, 'the created message')));

  const written = await concurrentRounds(client, 40, 3);
  const last = written.at(-1)!.revision;
  await Promise.all(watchers.map((w) => w.waitFor((r) => seenUpTo(r) >= last || r.ended, 20_000, `revision ${last}`)));
  for (const watcher of watchers) t.is(watcher.error, undefined);

  // Unfiltered: every revision once, in order, whole (the host and its 8 devices).
  t.deepEqual(all.revisions, written.map((w) => w.revision));
  for (const [i, message] of all.eventMessages.entries()) {
    const resources = resourcesOf(message);
    t.is(resources.filter((resource) => resource.includes('/devices/')).length, DEVICES, `revision ${message.revision} whole`);
    t.true(resources.every((resource) => resource.startsWith(`${written[i].host}/`) || resource === written[i].host));
  }
  // The host filter: exactly h5's revisions, each as the unfiltered watcher received it.
  t.deepEqual(h5.revisions, written.filter((w) => w.host === 'hosts/h5').map((w) => w.revision));
  const unfilteredByRevision = new Map(all.eventMessages.map((m) => [m.revision, m]));
  for (const message of h5.eventMessages) t.deepEqual(message, unfilteredByRevision.get(message.revision));
  // The type filter: every revision (each changes devices of the type), with the host's entry
  // and only the devices of that type.
  t.deepEqual(typed.revisions, written.map((w) => w.revision));
  for (const message of typed.eventMessages) {
    const expected = resourcesOf(unfilteredByRevision.get(message.revision)!).filter((r) => !r.includes('/devices/') || /gpu[1357]$/.test(r));
    t.deepEqual(resourcesOf(message), expected);
  }
});

test('a tick whose messages together pass the message size limit goes out in several writes: nothing refused or lost', async (t) => {
  const limit = 16 * 1024;
  const { server, client } = await startTestServer(t, { maxMessageBytes: limit });
  const raw = new grpc.Client(server.address, grpc.credentials.createInsecure());
  t.teardown(() => raw.close());
  const request = WatchRequest().encode({}).finish();
  const all = new StreamRecorder<Buffer>(
    raw.makeServerStreamRequest('/devcompat.v1.WatchService/Watch', (bytes: Uint8Array) => Buffer.from(bytes), (bytes: Buffer) => bytes, request),
  );
  await all.waitFor((r) => r.messages.length > 0, 20_000, 'the created message');

  const written = await concurrentRounds(client, 64, 2);
  const last = written.at(-1)!.revision;
  const decode = (bytes: Buffer) => WatchResponse().toObject(WatchResponse().decode(bytes), { longs: String, defaults: true }) as { revision: string; progress: boolean; created: boolean };
  const revisionOf = (bytes: Buffer) => Number(decode(bytes).revision);
  await all.waitFor((r) => revisionOf(r.messages.at(-1)!) >= last || r.ended, 20_000, `revision ${last}`);
  t.is(all.error, undefined);
  const events = all.messages.filter((bytes) => !decode(bytes).created && !decode(bytes).progress);
  t.deepEqual(events.map(revisionOf), written.map((w) => w.revision));
  // Each message is under the limit, but a commit batch's (tens of revisions) are far over it.
  const sizes = events.map((bytes) => bytes.length);
  t.true(Math.max(...sizes) < limit);
  t.true(sizes.reduce((a, b) => a + b, 0) > 8 * limit);
});

test('the metrics and the log count every message a watch sent, not the writes that carried them', async (t) => {
  const log = capturedLog();
  log.logger.level = 'debug';
  const { server, client } = await startTestServer(t, { metricsAddress: '127.0.0.1:0', logger: log.logger });
  const raw = rawClients(server.address);
  t.teardown(() => raw.close());
  // No progress message may be on its way when the watch is cancelled.
  const all = new WatchRecorder(raw.watch, { progress_interval_ms: 3_600_000 });
  await all.waitFor((r) => r.messages.length > 0, 20_000, 'the created message');

  const written = await concurrentRounds(client, 32, 2);
  const last = written.at(-1)!.revision;
  await all.waitFor((r) => seenUpTo(r) >= last || r.ended, 20_000, `revision ${last}`);
  t.is(all.eventMessages.length, 64);
  const received = all.messages.length;
  all.cancel();
  const ended = await log.waitFor('stream ended');
  t.is(ended.method, '/devcompat.v1.WatchService/Watch');
  t.is(ended.sent, received);
  const metrics = await scrape(server.metricsAddress!);
  t.is(metrics.value('grpc_server_msg_sent_total', { grpc_service: 'devcompat.v1.WatchService', grpc_method: 'Watch' }), received);
});
