// A WatchResponse built field by field as proto-loader objects and encoded whole by protobufjs
// (`fromObject` + `encode`): the encoding the watch feed had before server/grpc/watch-encoding.ts,
// kept as the reference its output must decode like (test/watch-encoding.test.ts) and as the
// "before" of its benchmark (bench/watch-encoding.ts).

import { protoRoot } from '../../proto/load.ts';
import type { Registry } from '../../server/core/registry.ts';
import type { WatchDelivery } from '../../server/core/watch-hub.ts';
import { entryResourceName, snapshotMessage, timestamp } from '../../server/grpc/convert.ts';

export function referenceEncoding(delivery: WatchDelivery, registry: Registry): Buffer {
  const type = protoRoot().lookupType('devcompat.v1.WatchResponse');
  const { change } = delivery;
  const message = {
    revision: String(change.revision),
    time: timestamp(change.time),
    head_hash: change.headHash,
    events: delivery.events.map((view) => ({
      kind: `CHANGE_KIND_${view.kind}`,
      resource: entryResourceName(view.entry),
      before: snapshotMessage(view.entry.before, registry),
      after: snapshotMessage(view.entry.after, registry),
      actor: view.entry.actor,
      reason: view.entry.reason,
      left_filter: view.leftFilter,
      entered_filter: view.enteredFilter,
    })),
  };
  return Buffer.from(type.encode(type.fromObject(message)).finish());
}
