// Raw grpc-js access to the watch feed and the lease/audit calls, for tests that need to
// control a stream precisely (pause it at the HTTP/2 level, cancel it mid-way) and see every
// message exactly as the server sent it.

import * as grpc from '@grpc/grpc-js';
import { DevcompatError } from '../../client/client.ts';
import { loadServices } from '../../proto/load.ts';

export interface RawClients {
  readonly watch: any;
  readonly registry: any;
  readonly history: any;
  readonly compatibility: any;
  close(): void;
}

export function rawClients(address: string): RawClients {
  const services = loadServices();
  const credentials = grpc.credentials.createInsecure();
  const clients = {
    watch: new services.WatchService(address, credentials) as any,
    registry: new services.RegistryService(address, credentials) as any,
    history: new services.HistoryService(address, credentials) as any,
    compatibility: new services.CompatibilityService(address, credentials) as any,
  };
  return { ...clients, close: () => Object.values(clients).forEach((client) => client.close()) };
}

/** A unary call; rejects with a DevcompatError (code, reason, metadata decoded). */
export function unaryCall<T = any>(client: any, method: string, request: object, metadata = new grpc.Metadata()): Promise<T> {
  return new Promise((resolve, reject) =>
    client[method](request, metadata, (error: grpc.ServiceError | null, response: T) =>
      error ? reject(DevcompatError.from(error)) : resolve(response),
    ),
  );
}

export interface WatchMessage {
  revision: string;
  time: { seconds: string; nanos: number } | null;
  events: {
    kind: string;
    resource: string;
    before: any;
    after: any;
    actor: string;
    reason: string;
    left_filter: boolean;
    entered_filter: boolean;
  }[];
  head_hash: string;
  progress: boolean;
  created: boolean;
  oldest_revision: string;
}

/** Records every message of one server stream, and how it ended. */
export class StreamRecorder<Message> {
  readonly messages: Message[] = [];
  error: DevcompatError | undefined;
  ended = false;
  readonly call: grpc.ClientReadableStream<Message>;
  private readonly waiters = new Set<() => void>();

  constructor(call: grpc.ClientReadableStream<Message>) {
    this.call = call;
    this.call.on('data', (message: Message) => {
      this.messages.push(message);
      this.notify();
    });
    this.call.on('error', (error) => {
      this.error = DevcompatError.from(error);
      this.ended = true;
      this.notify();
    });
    this.call.on('end', () => {
      this.ended = true;
      this.notify();
    });
  }

  /** Waits until `condition` holds (checked after each message), failing after `timeoutMs`. */
  waitFor(condition: (recorder: this) => boolean, timeoutMs = 20_000, what = 'stream condition'): Promise<void> {
    if (condition(this)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`timed out waiting for ${what}; got ${this.messages.length} messages, error ${this.error?.message}`));
      }, timeoutMs);
      const check = () => {
        if (!condition(this)) return;
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve();
      };
      this.waiters.add(check);
    });
  }

  cancel(): void {
    this.call.cancel();
  }

  private notify(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}

/** Records every message of one Watch stream, and how it ended. */
export class WatchRecorder extends StreamRecorder<WatchMessage> {
  constructor(client: any, request: object) {
    super(client.Watch(request));
  }

  /** Messages carrying events (not created / progress). */
  get eventMessages(): WatchMessage[] {
    return this.messages.filter((message) => !message.created && !message.progress);
  }

  get revisions(): number[] {
    return this.eventMessages.map((message) => Number(message.revision));
  }
}

/** Polls `condition` every 20 ms until it holds, failing after `timeoutMs`. */
export async function eventually(condition: () => boolean | Promise<boolean>, timeoutMs = 20_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
