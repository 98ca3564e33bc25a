// The typed client that host agents and schedulers embed, and that the CLI uses.
// Unary calls carry a deadline by default; idempotent ones are retried with exponential
// backoff and jitter on UNAVAILABLE. Lists paginate by themselves (async iterators).

import * as grpc from '@grpc/grpc-js';
import { loadServices } from '../proto/load.ts';
import { decodeStatus, STATUS_DETAILS_KEY, type RichStatus } from '../proto/rich-status.ts';
import type {
  CheckItem,
  CheckItemResult,
  CompatibilityResult,
  DeleteHostResponse,
  Device,
  DeviceFilter,
  DeviceRef,
  FindTargetsItem,
  FindTargetsOptions,
  HistoryEntry,
  HistoryFilter,
  Host,
  SyncHostRequest,
  SyncHostResponse,
} from './types.ts';

export * from './types.ts';

export interface RetryPolicy {
  /** Attempts in all, the first included. */
  readonly maxAttempts: number;
  readonly initialBackoffMs: number;
  readonly maxBackoffMs: number;
}

export interface ClientOptions {
  /** `host:port` of the registry. */
  readonly address: string;
  /** Deadline of each unary call; default 30 s. Streams take `deadlineMs` per call. */
  readonly deadlineMs?: number;
  /** Recorded in history as who made a change (metadata `x-devcompat-actor`). */
  readonly actor?: string;
  readonly retry?: Partial<RetryPolicy>;
  readonly credentials?: grpc.ChannelCredentials;
  readonly channelOptions?: grpc.ChannelOptions;
}

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 4, initialBackoffMs: 100, maxBackoffMs: 2000 };

/** An error from the registry, with its decoded google.rpc details. */
export class DevcompatError extends Error {
  readonly code: grpc.status;
  /** Stable UPPER_SNAKE reason from google.rpc.ErrorInfo (e.g. `INVALID_ARGUMENT`). */
  readonly reason: string | undefined;
  readonly metadata: Record<string, string>;
  readonly fieldViolations: { field: string; description: string }[];

  constructor(status: RichStatus) {
    super(status.message);
    this.name = 'DevcompatError';
    this.code = status.code;
    this.reason = status.reason;
    this.metadata = status.metadata ?? {};
    this.fieldViolations = status.fieldViolations ?? [];
  }

  get codeName(): string {
    return grpc.status[this.code] ?? String(this.code);
  }

  static from(error: unknown): DevcompatError {
    if (error instanceof DevcompatError) return error;
    const serviceError = error as Partial<grpc.ServiceError>;
    if (typeof serviceError?.code === 'number') {
      const details = serviceError.metadata?.get(STATUS_DETAILS_KEY)[0];
      const decoded = details instanceof Buffer ? decodeStatus(details) : undefined;
      return new DevcompatError({
        ...decoded,
        code: serviceError.code,
        message: serviceError.details || decoded?.message || serviceError.message || 'unknown error',
      });
    }
    return new DevcompatError({ code: grpc.status.UNKNOWN, message: (error as Error)?.message ?? String(error) });
  }
}

type UnaryMethod = (
  request: unknown,
  metadata: grpc.Metadata,
  options: grpc.CallOptions,
  callback: (error: grpc.ServiceError | null, response: any) => void,
) => grpc.ClientUnaryCall;

function toRef(ref: DeviceRef): { name: string } | { descriptor: unknown } {
  return typeof ref === 'string' ? { name: ref } : { descriptor: ref };
}

function toTimestamp(date: Date | undefined) {
  if (!date) return null;
  const ms = date.getTime();
  return { seconds: String(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1_000_000 };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export class DevcompatClient {
  private readonly registry: grpc.Client & Record<string, UnaryMethod>;
  private readonly compatibility: grpc.Client & Record<string, any>;
  private readonly historyService: grpc.Client & Record<string, UnaryMethod>;
  private readonly deadlineMs: number;
  private readonly retry: RetryPolicy;
  private readonly actor: string | undefined;

  constructor(options: ClientOptions) {
    const services = loadServices();
    const credentials = options.credentials ?? grpc.credentials.createInsecure();
    const channelOptions = {
      'grpc.max_receive_message_length': 64 * 1024 * 1024,
      ...options.channelOptions,
    };
    this.registry = new services.RegistryService(options.address, credentials, channelOptions) as any;
    // One channel for all three services: they share the connection.
    const shared = { ...channelOptions, channelOverride: this.registry.getChannel() };
    this.compatibility = new services.CompatibilityService(options.address, credentials, shared) as any;
    this.historyService = new services.HistoryService(options.address, credentials, shared) as any;
    this.deadlineMs = options.deadlineMs ?? 30_000;
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
    this.actor = options.actor;
  }

  close(): void {
    this.registry.close();
  }

  private metadata(): grpc.Metadata {
    const metadata = new grpc.Metadata();
    if (this.actor) metadata.set('x-devcompat-actor', this.actor);
    return metadata;
  }

  private async unary<T>(client: Record<string, UnaryMethod>, method: string, request: unknown, idempotent: boolean): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await new Promise<T>((resolve, reject) => {
          client[method](request, this.metadata(), { deadline: Date.now() + this.deadlineMs }, (error, response) =>
            error ? reject(error) : resolve(response as T),
          );
        });
      } catch (error) {
        const failure = DevcompatError.from(error);
        if (!idempotent || failure.code !== grpc.status.UNAVAILABLE || attempt >= this.retry.maxAttempts) throw failure;
        const backoff = Math.min(this.retry.maxBackoffMs, this.retry.initialBackoffMs * 2 ** (attempt - 1));
        await sleep(backoff / 2 + Math.random() * (backoff / 2));
      }
    }
  }

  // -- Registry ---------------------------------------------------------------------------

  /**
   * Replaces the registry's view of a host. An unconditional sync is idempotent (a retried
   * sync changes nothing more) and is retried on UNAVAILABLE; one with `expected_revision` is
   * not: if the first attempt committed and only its answer was lost, a retry would be
   * refused as stale and report a write that happened as failed.
   */
  syncHost(request: SyncHostRequest): Promise<SyncHostResponse> {
    return this.unary(this.registry, 'SyncHost', request, request.expected_revision === undefined);
  }

  deleteHost(name: string, options: { expectedRevision?: string | number } = {}): Promise<DeleteHostResponse> {
    const request = { name, ...(options.expectedRevision !== undefined && { expected_revision: options.expectedRevision }) };
    return this.unary(this.registry, 'DeleteHost', request, false);
  }

  async getHost(name: string): Promise<Host> {
    return (await this.unary<{ host: Host }>(this.registry, 'GetHost', { name }, true)).host;
  }

  async getDevice(name: string): Promise<Device> {
    return (await this.unary<{ device: Device }>(this.registry, 'GetDevice', { name }, true)).device;
  }

  listHostsPage(request: { labels?: Record<string, string>; page_size?: number; page_token?: string }) {
    return this.unary<{ hosts: Host[]; next_page_token: string; revision: string }>(this.registry, 'ListHosts', request, true);
  }

  /** Every host (optionally with these labels), page after page. */
  async *listHosts(options: { labels?: Record<string, string>; pageSize?: number } = {}): AsyncGenerator<Host> {
    let token = '';
    do {
      const page = await this.listHostsPage({ labels: options.labels, page_size: options.pageSize, page_token: token });
      yield* page.hosts;
      token = page.next_page_token;
    } while (token);
  }

  listDevicesPage(request: { filter?: DeviceFilter; page_size?: number; page_token?: string }) {
    return this.unary<{ devices: Device[]; next_page_token: string; revision: string }>(this.registry, 'ListDevices', request, true);
  }

  /** Every device matching the filter, page after page. */
  async *listDevices(filter: DeviceFilter = {}, options: { pageSize?: number } = {}): AsyncGenerator<Device> {
    let token = '';
    do {
      const page = await this.listDevicesPage({ filter, page_size: options.pageSize, page_token: token });
      yield* page.devices;
      token = page.next_page_token;
    } while (token);
  }

  // -- History ----------------------------------------------------------------------------

  listHistoryPage(filter: HistoryFilter, page: { page_size?: number; page_token?: string } = {}) {
    const request = {
      ...filter,
      start_time: toTimestamp(filter.start_time),
      end_time: toTimestamp(filter.end_time),
      ...page,
    };
    return this.unary<{ entries: HistoryEntry[]; next_page_token: string; revision: string }>(
      this.historyService,
      'ListHistory',
      request,
      true,
    );
  }

  /** History entries matching the filter, newest first unless asked otherwise. */
  async *history(filter: HistoryFilter = {}, options: { pageSize?: number } = {}): AsyncGenerator<HistoryEntry> {
    let token = '';
    do {
      const page = await this.listHistoryPage(filter, { page_size: options.pageSize, page_token: token });
      yield* page.entries;
      token = page.next_page_token;
    } while (token);
  }

  // -- Compatibility ----------------------------------------------------------------------

  async check(source: DeviceRef, target: DeviceRef): Promise<CompatibilityResult> {
    const request = { source: toRef(source), target: toRef(target) };
    return (await this.unary<{ result: CompatibilityResult }>(this.compatibility, 'CheckCompatibility', request, true)).result;
  }

  /**
   * Streams where `source` may go: compatible targets best first, then (with
   * include_rejected) the rejected candidates, then one summary. Breaking out of the loop
   * cancels the call, and the server stops its work.
   */
  async *findTargets(source: DeviceRef, options: FindTargetsOptions = {}, deadlineMs = 60_000): AsyncGenerator<FindTargetsItem> {
    const call: grpc.ClientReadableStream<any> = this.compatibility.FindTargets(
      { source: toRef(source), ...options },
      this.metadata(),
      { deadline: Date.now() + deadlineMs },
    );
    try {
      for await (const message of call) {
        yield message.target ? { target: message.target } : { summary: message.summary };
      }
    } catch (error) {
      throw DevcompatError.from(error);
    } finally {
      call.cancel();
    }
  }

  /** Opens one bidirectional stream for many checks; see CheckStream. */
  checkStream(options: { maxBatch?: number } = {}): CheckStream {
    return new CheckStream(this.compatibility.CheckCompatibilityStream(this.metadata()), options.maxBatch ?? 500);
  }

  /** Judges many pairs on one stream and resolves with every result, in order. */
  async checkMany(items: Iterable<CheckItem>, options: { maxBatch?: number } = {}): Promise<CheckItemResult[]> {
    const stream = this.checkStream(options);
    try {
      return await Promise.all([...items].map((item) => stream.submit(item)));
    } finally {
      await stream.close();
    }
  }
}

interface PendingCheck {
  resolve(result: CheckItemResult): void;
  reject(error: unknown): void;
}

/**
 * Batches checks onto one CheckCompatibilityStream: every check submitted in the same tick
 * travels in one message (up to maxBatch), and each result is routed back by its id.
 * An item that fails (unknown name, invalid descriptor) resolves with its own error; the
 * stream goes on. If the stream itself fails, every pending check rejects.
 */
export class CheckStream {
  private readonly pending = new Map<string, PendingCheck>();
  private queue: { id: string; source: unknown; target: unknown }[] = [];
  private scheduled = false;
  /** The stream's buffer is full: wait for 'drain' before writing more. */
  private blocked = false;
  private failure: DevcompatError | undefined;
  private nextId = 0;
  private readonly ended: Promise<void>;

  constructor(
    private readonly call: grpc.ClientDuplexStream<any, any>,
    private readonly maxBatch: number,
  ) {
    call.on('data', (message: { results: any[] }) => {
      for (const raw of message.results) {
        const entry = this.pending.get(raw.id);
        if (!entry) continue;
        this.pending.delete(raw.id);
        entry.resolve(
          raw.result
            ? { id: raw.id, result: raw.result }
            : { id: raw.id, error: { ...decodeStatus(raw.error), code: raw.error?.code ?? grpc.status.UNKNOWN } },
        );
      }
    });
    this.ended = new Promise((resolve) => {
      call.on('error', (error) => {
        this.failure = DevcompatError.from(error);
        for (const entry of this.pending.values()) entry.reject(this.failure);
        this.pending.clear();
        resolve();
      });
      call.on('end', () => {
        // The server finished without answering these: they will never be answered.
        const unanswered = new DevcompatError({ code: grpc.status.UNAVAILABLE, message: 'the stream ended before this check was answered' });
        for (const entry of this.pending.values()) entry.reject(unanswered);
        this.pending.clear();
        resolve();
      });
    });
    call.on('drain', () => {
      this.blocked = false;
      this.flush();
    });
  }

  /** Ids are chosen by the stream when not given; they must be unique among pending checks. */
  submit(item: { id?: string; source: DeviceRef; target: DeviceRef }): Promise<CheckItemResult> {
    if (this.failure) return Promise.reject(this.failure);
    const id = item.id ?? `c${this.nextId++}`;
    if (this.pending.has(id)) return Promise.reject(new Error(`check id ${id} is already pending`));
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.queue.push({ id, source: toRef(item.source), target: toRef(item.target) });
      if (this.queue.length >= this.maxBatch) this.flush();
      else if (!this.scheduled) {
        this.scheduled = true;
        queueMicrotask(() => this.flush());
      }
    });
  }

  /** The verdict for one pair; rejects with a DevcompatError if the item failed. */
  async check(source: DeviceRef, target: DeviceRef): Promise<CompatibilityResult> {
    const outcome = await this.submit({ source, target });
    if (outcome.result) return outcome.result;
    throw new DevcompatError({ code: outcome.error!.code, message: outcome.error!.message, ...outcome.error });
  }

  private flush(): void {
    this.scheduled = false;
    while (this.queue.length > 0 && !this.blocked) {
      this.blocked = !this.call.write({ checks: this.queue.splice(0, this.maxBatch) });
    }
  }

  /** Sends what is queued, half-closes, and waits for the server to finish. */
  async close(): Promise<void> {
    this.flush();
    while (this.queue.length > 0 && !this.failure) {
      await new Promise((resolve) => {
        this.call.once('drain', resolve);
        this.call.once('close', resolve); // a failed stream never drains
      });
      this.flush();
    }
    this.call.end();
    await this.ended;
  }
}
