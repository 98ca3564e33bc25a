// The typed client that host agents and schedulers embed, and that the CLI uses.
// Unary calls carry a deadline by default; idempotent ones are retried with exponential
// backoff and jitter on UNAVAILABLE. Lists paginate by themselves (async iterators). Watches
// resume by themselves where they left off; leases are kept on one stream (LeaseKeeper).

import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import { loadServices } from '../proto/load.ts';
import { decodeStatus } from '../proto/rich-status.ts';
import { ACTOR_METADATA_KEY, ErrorReason, isValidReason, REASON_METADATA_KEY, REASON_RULE } from '../proto/wire.ts';
import { backoffMs, DEFAULT_RETRY, DevcompatError, sleep, type RetryPolicy } from './errors.ts';
import { LeaseKeeper } from './lease-keeper.ts';
import type { Claim__Output as Claim } from '../proto/generated/devcompat/v1/Claim.ts';
import type { FindPlacementsRequest } from '../proto/generated/devcompat/v1/FindPlacementsRequest.ts';
import type { FindPlacementsResponse__Output } from '../proto/generated/devcompat/v1/FindPlacementsResponse.ts';
import type { Placement__Output } from '../proto/generated/devcompat/v1/Placement.ts';
import type { PartialPlacement__Output } from '../proto/generated/devcompat/v1/PartialPlacement.ts';
import type { FindPlacementsSummary__Output } from '../proto/generated/devcompat/v1/FindPlacementsSummary.ts';

/** One device request of a VM: its source (a registered device name or a descriptor) and how many. */
export interface PlacementDevice {
  request_id: string;
  source: DeviceRef;
  count?: number;
}

export type FindPlacementsOptions = Omit<FindPlacementsRequest, 'devices'>;

export type FindPlacementsItem =
  | { placement: Placement__Output }
  | { partial: PartialPlacement__Output }
  | { summary: FindPlacementsSummary__Output };

export interface CreateClaimOptions extends WriteOptions {
  /** Time to live in ms (default 300000, at most 3600000). */
  ttlMs?: number;
}

export type { Claim };
import type {
  AsOf,
  CheckItem,
  CheckItemResult,
  BackupResponse,
  CompactHistoryResponse,
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
  SetHostDrainingResponse,
  SyncHostRequest,
  SyncHostResponse,
  VerifyHistoryResponse,
  WatchOptions,
  WatchResponse,
  WatchTargetsOptions,
  WatchTargetsResponse,
  WriteOptions,
} from './types.ts';

// The messages on the wire are typed by the generated types (proto/generated/); callers get the
// hand-written public types (client/types.ts), which narrow a few of them (no UNSPECIFIED enum
// values, messages the server always sets are not null). The casts where messages are handed
// to callers mark that boundary.
import type { DeviceRef as DeviceRefMessage } from '../proto/generated/devcompat/v1/DeviceRef.ts';
import type { GetDeviceRequest } from '../proto/generated/devcompat/v1/GetDeviceRequest.ts';
import type { WatchRequest } from '../proto/generated/devcompat/v1/WatchRequest.ts';
import type { WatchResponse__Output } from '../proto/generated/devcompat/v1/WatchResponse.ts';
import type { FindTargetsRequest } from '../proto/generated/devcompat/v1/FindTargetsRequest.ts';
import type { FindTargetsResponse__Output } from '../proto/generated/devcompat/v1/FindTargetsResponse.ts';
import type { WatchTargetsRequest } from '../proto/generated/devcompat/v1/WatchTargetsRequest.ts';
import type { WatchTargetsResponse__Output } from '../proto/generated/devcompat/v1/WatchTargetsResponse.ts';
import type { CheckItem as CheckItemMessage } from '../proto/generated/devcompat/v1/CheckItem.ts';
import type { CheckCompatibilityStreamRequest } from '../proto/generated/devcompat/v1/CheckCompatibilityStreamRequest.ts';
import type { CheckCompatibilityStreamResponse__Output } from '../proto/generated/devcompat/v1/CheckCompatibilityStreamResponse.ts';
import type { Timestamp as TimestampMessage } from '../proto/generated/google/protobuf/Timestamp.ts';

export * from './types.ts';
export { DEFAULT_RETRY, DevcompatError, type RetryPolicy } from './errors.ts';
export { LeaseKeeper, type LeaseKeeperEvents } from './lease-keeper.ts';
export { RegistryMirror, type MirrorChange, type MirrorDeviceFilter, type MirrorEvents, type MirrorOptions, type MirrorSource } from './mirror.ts';

export interface ClientOptions {
  /** `host:port` of the registry. */
  readonly address: string;
  /** Deadline of each unary call; default 30 s. Streams take `deadlineMs` per call. */
  readonly deadlineMs?: number;
  /** Recorded in history as who made a change (metadata `x-devcompat-actor`). */
  readonly actor?: string;
  /**
   * Recorded in history as why a change was made (metadata `x-devcompat-reason`); a write's
   * own `reason` option overrides it. Printable ASCII, at most 1024 characters.
   */
  readonly reason?: string;
  readonly retry?: Partial<RetryPolicy>;
  readonly credentials?: grpc.ChannelCredentials;
  /** TLS: PEM files of the CA that signed the server's certificate, and this client's own certificate and key (mutual TLS). Ignored when `credentials` is given. */
  readonly tls?: ClientTlsFiles;
  readonly channelOptions?: grpc.ChannelOptions;
}

export { ACTOR_METADATA_KEY, REASON_METADATA_KEY } from '../proto/wire.ts';

export interface ClientTlsFiles {
  /** CA bundle to trust for the server's certificate (default: the system's roots). */
  readonly caFile?: string;
  /** This client's certificate, for mutual TLS (with `keyFile`). */
  readonly certFile?: string;
  readonly keyFile?: string;
}

/** Channel credentials from PEM files, with an error naming the file that cannot be read. */
export function tlsCredentials(files: ClientTlsFiles): grpc.ChannelCredentials {
  const read = (path: string | undefined, what: string) => {
    if (path === undefined) return null;
    try {
      return readFileSync(path);
    } catch (error) {
      throw new Error(`cannot read the ${what} ${path}: ${(error as Error).message}`);
    }
  };
  if ((files.certFile === undefined) !== (files.keyFile === undefined)) throw new Error('--tls-cert and --tls-key go together');
  return grpc.credentials.createSsl(read(files.caFile, 'CA bundle'), read(files.keyFile, 'TLS key'), read(files.certFile, 'TLS certificate'));
}

type UnaryMethod = (
  request: unknown,
  metadata: grpc.Metadata,
  options: grpc.CallOptions,
  callback: (error: grpc.ServiceError | null, response: any) => void,
) => grpc.ClientUnaryCall;

function toRef(ref: DeviceRef): DeviceRefMessage {
  return typeof ref === 'string' ? { name: ref } : { descriptor: ref };
}

function toTimestamp(date: Date | undefined): TimestampMessage | null {
  if (!date) return null;
  const ms = date.getTime();
  return { seconds: String(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1_000_000 };
}

/** The request fields of a point-in-time read; none for a read of now. */
function asOfFields(asOf: AsOf): Pick<GetDeviceRequest, 'as_of_revision' | 'as_of_time'> {
  return {
    ...(asOf.as_of_revision !== undefined && { as_of_revision: String(asOf.as_of_revision) }),
    ...(asOf.as_of_time !== undefined && { as_of_time: toTimestamp(asOf.as_of_time) }),
  };
}

/** Refuses a reason before sending it, by the server's own check (proto/wire.ts). */
function checkReason(reason: string): void {
  if (!isValidReason(reason)) {
    throw new DevcompatError({
      code: grpc.status.INVALID_ARGUMENT,
      message: `${REASON_METADATA_KEY}: ${REASON_RULE}`,
      reason: ErrorReason.INVALID_ARGUMENT,
      fieldViolations: [{ field: REASON_METADATA_KEY, description: REASON_RULE }],
    });
  }
}

/** A watch resumes on its own from these: a restarting server, or a consumer cut off as too slow. */
function resumable(error: DevcompatError): boolean {
  return error.code === grpc.status.UNAVAILABLE || (error.code === grpc.status.RESOURCE_EXHAUSTED && error.reason === ErrorReason.WATCH_TOO_SLOW);
}

export class DevcompatClient {
  private readonly registry: grpc.Client & Record<string, UnaryMethod>;
  private readonly compatibility: grpc.Client & Record<string, any>;
  private readonly historyService: grpc.Client & Record<string, UnaryMethod>;
  private readonly watchService: grpc.Client & Record<string, any>;
  private readonly placementService: grpc.Client & Record<string, any>;
  private readonly adminService: grpc.Client & Record<string, UnaryMethod>;
  private readonly deadlineMs: number;
  private readonly retry: RetryPolicy;
  private readonly actor: string | undefined;
  private readonly reason: string | undefined;

  constructor(options: ClientOptions) {
    if (options.reason) checkReason(options.reason);
    const services = loadServices();
    const credentials = options.credentials ?? (options.tls ? tlsCredentials(options.tls) : grpc.credentials.createInsecure());
    const channelOptions = {
      'grpc.max_receive_message_length': 64 * 1024 * 1024,
      // Watches, mirrors and lease keepers outlive outages: after a long one, the channel should
      // be back within seconds of the server, not gRPC's default two minutes.
      'grpc.max_reconnect_backoff_ms': 10_000,
      ...options.channelOptions,
    };
    this.registry = new services.RegistryService(options.address, credentials, channelOptions) as any;
    // One channel for all the services: they share the connection.
    const shared = { ...channelOptions, channelOverride: this.registry.getChannel() };
    this.compatibility = new services.CompatibilityService(options.address, credentials, shared) as any;
    this.historyService = new services.HistoryService(options.address, credentials, shared) as any;
    this.watchService = new services.WatchService(options.address, credentials, shared) as any;
    this.placementService = new services.PlacementService(options.address, credentials, shared) as any;
    this.adminService = new services.AdminService(options.address, credentials, shared) as any;
    this.deadlineMs = options.deadlineMs ?? 30_000;
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
    this.actor = options.actor;
    this.reason = options.reason;
  }

  close(): void {
    this.registry.close();
  }

  private metadata(write: WriteOptions = {}): grpc.Metadata {
    const metadata = new grpc.Metadata();
    if (this.actor) metadata.set(ACTOR_METADATA_KEY, this.actor);
    const reason = write.reason ?? this.reason;
    if (reason) {
      checkReason(reason);
      metadata.set(REASON_METADATA_KEY, reason);
    }
    return metadata;
  }

  private async unary<T>(
    client: Record<string, UnaryMethod>,
    method: string,
    request: unknown,
    idempotent: boolean,
    write: WriteOptions = {},
    deadlineMs = this.deadlineMs,
  ): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        const metadata = this.metadata(write);
        return await new Promise<T>((resolve, reject) => {
          client[method](request, metadata, { deadline: Date.now() + deadlineMs }, (error, response) =>
            error ? reject(error) : resolve(response as T),
          );
        });
      } catch (error) {
        const failure = DevcompatError.from(error);
        if (!idempotent || failure.code !== grpc.status.UNAVAILABLE || attempt >= this.retry.maxAttempts) throw failure;
        await sleep(backoffMs(this.retry, attempt));
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
  syncHost(request: SyncHostRequest, options: WriteOptions = {}): Promise<SyncHostResponse> {
    return this.unary(this.registry, 'SyncHost', request, request.expected_revision === undefined, options);
  }

  deleteHost(name: string, options: { expectedRevision?: string | number } & WriteOptions = {}): Promise<DeleteHostResponse> {
    const request = { name, ...(options.expectedRevision !== undefined && { expected_revision: options.expectedRevision }) };
    return this.unary(this.registry, 'DeleteHost', request, false, options);
  }

  /**
   * Marks a host as draining (its devices are no longer offered as targets) or clears the
   * mark. Setting the mark it already has changes nothing, so the call is retried like a read.
   */
  setHostDraining(name: string, draining: boolean, options: WriteOptions = {}): Promise<SetHostDrainingResponse> {
    return this.unary(this.registry, 'SetHostDraining', { name, draining }, true, options);
  }

  /** Opens a lease keeper: one KeepAlive stream that renews host leases (see LeaseKeeper). */
  keepAlive(): LeaseKeeper {
    return new LeaseKeeper(() => (this.registry as unknown as Record<string, any>).KeepAlive(this.metadata()), this.retry);
  }

  async getHost(name: string): Promise<Host> {
    return (await this.unary<{ host: Host }>(this.registry, 'GetHost', { name }, true)).host;
  }

  /** One device, now or (with `as_of_revision` / `as_of_time`) as it was then. */
  async getDevice(name: string, asOf: AsOf = {}): Promise<Device> {
    return (await this.unary<{ device: Device }>(this.registry, 'GetDevice', { name, ...asOfFields(asOf) }, true)).device;
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

  listDevicesPage(request: { filter?: DeviceFilter; page_size?: number; page_token?: string } & AsOf) {
    const { as_of_revision, as_of_time, ...rest } = request;
    return this.unary<{ devices: Device[]; next_page_token: string; revision: string }>(
      this.registry,
      'ListDevices',
      { ...rest, ...asOfFields({ as_of_revision, as_of_time }) },
      true,
    );
  }

  /** Every device matching the filter, page after page; every page at the same point in time. */
  async *listDevices(filter: DeviceFilter = {}, options: { pageSize?: number } & AsOf = {}): AsyncGenerator<Device> {
    let token = '';
    do {
      const page = await this.listDevicesPage({
        filter,
        page_size: options.pageSize,
        page_token: token,
        as_of_revision: options.as_of_revision,
        as_of_time: options.as_of_time,
      });
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

  /**
   * Walks the history chain and reports the first broken entry. With `expectedHead` (a
   * head_hash kept from an earlier write or watch message) it also proves that history up to
   * that head is intact. A broken chain is an answer (`intact: false`), not an error.
   */
  verifyHistory(options: { expectedHead?: string; deadlineMs?: number } = {}): Promise<VerifyHistoryResponse> {
    return this.unary(this.historyService, 'VerifyHistory', { expected_head: options.expectedHead ?? '' }, true, {}, options.deadlineMs);
  }

  /**
   * Removes history up to and including `revision`, keeping a checkpoint of the chain. Watches
   * and point-in-time reads before the cut then fail with OUT_OF_RANGE. Compacting again to the
   * same revision changes nothing, so the call is retried like a read.
   */
  compactHistory(revision: string | number, options: WriteOptions = {}): Promise<CompactHistoryResponse> {
    return this.unary(this.historyService, 'CompactHistory', { revision: String(revision) }, true, options);
  }

  // -- Admin ------------------------------------------------------------------------------

  /**
   * Asks the server to write a consistent copy of its registry to `path` (absolute, on the
   * server's host, a new file) and returns the revision and history head the copy holds. Not
   * retried: a second attempt would find the first one's file and be refused.
   */
  backup(path: string, options: { deadlineMs?: number } = {}): Promise<BackupResponse> {
    return this.unary(this.adminService, 'Backup', { path }, false, {}, options.deadlineMs);
  }

  // -- Watch ------------------------------------------------------------------------------

  /**
   * The registry's changes from `startRevision` (or from now), then live, as one message per
   * revision; the first message has `created` set, and a quiet watch gets `progress` messages
   * with the current revision.
   *
   * The watch resumes by itself, with backoff, where it left off (the last revision it
   * yielded, + 1) when the stream fails with UNAVAILABLE (a restarting server), ends, or is cut
   * off as too slow (RESOURCE_EXHAUSTED, WATCH_TOO_SLOW): no revision is yielded twice and
   * none is skipped, and the `created` message of a resumed stream is not yielded again. A
   * watch that never started fails after the client's retry attempts, like a unary call.
   * Anything else ends the iteration with a DevcompatError; OUT_OF_RANGE (reason
   * REVISION_COMPACTED, metadata `oldest_revision`) means the revision to resume from is gone:
   * relist (RegistryMirror does). Aborting `signal`, or leaving the loop, cancels the stream.
   */
  async *watch(options: WatchOptions = {}): AsyncGenerator<WatchResponse> {
    const { signal } = options;
    const filter = options.filter ?? {};
    /** The next revision to deliver; undefined until a "from now" watch has been created. */
    const start = BigInt(options.startRevision ?? 0);
    let next: bigint | undefined = start > 0n ? start : undefined;
    let createdYielded = false;
    let failures = 0;
    while (!signal?.aborted) {
      const request: WatchRequest = {
        start_revision: next === undefined ? '0' : String(next),
        filter,
        progress_interval_ms: options.progressIntervalMs ?? 0,
      };
      const call: grpc.ClientReadableStream<WatchResponse__Output> = this.watchService.Watch(request, this.metadata());
      const cancel = () => call.cancel();
      signal?.addEventListener('abort', cancel, { once: true });
      let interruption: DevcompatError;
      try {
        for await (const message of call) {
          failures = 0;
          const revision = BigInt(message.revision);
          if (message.created) {
            // Created at revision R, a watch from now delivers R + 1 onwards.
            next ??= revision + 1n;
            if (createdYielded) continue;
            createdYielded = true;
          } else if (message.progress) {
            if (next !== undefined && revision + 1n > next) next = revision + 1n;
          } else {
            if (next !== undefined && revision < next) continue; // delivered before a resume
            next = revision + 1n;
          }
          yield message as WatchResponse;
        }
        if (signal?.aborted) return;
        interruption = new DevcompatError({ code: grpc.status.UNAVAILABLE, message: 'the server ended the watch' });
      } catch (error) {
        if (signal?.aborted) return;
        const failure = DevcompatError.from(error);
        if (!resumable(failure) || (!createdYielded && failures + 1 >= this.retry.maxAttempts)) throw failure;
        interruption = failure;
      } finally {
        signal?.removeEventListener('abort', cancel);
        call.cancel();
      }
      // The stream failed or ended: resume after a backoff that grows until a message arrives.
      failures++;
      options.onResume?.(interruption, next === undefined ? undefined : String(next), failures);
      await sleep(backoffMs(this.retry, failures), signal);
    }
  }

  // -- Compatibility ----------------------------------------------------------------------

  /** The verdict for one pair, now or (with `as_of_revision` / `as_of_time`) as it was then. */
  async check(source: DeviceRef, target: DeviceRef, asOf: AsOf = {}): Promise<CompatibilityResult> {
    const request = { source: toRef(source), target: toRef(target), ...asOfFields(asOf) };
    return (await this.unary<{ result: CompatibilityResult }>(this.compatibility, 'CheckCompatibility', request, true)).result;
  }

  /**
   * Streams where `source` may go: compatible targets best first, then (with
   * include_rejected) the rejected candidates, then one summary. Breaking out of the loop
   * cancels the call, and the server stops its work.
   */
  async *findTargets(source: DeviceRef, options: FindTargetsOptions = {}, deadlineMs = 60_000): AsyncGenerator<FindTargetsItem> {
    const { as_of_revision, as_of_time, ...filters } = options;
    const request: FindTargetsRequest = { source: toRef(source), ...filters, ...asOfFields({ as_of_revision, as_of_time }) };
    const call: grpc.ClientReadableStream<FindTargetsResponse__Output> = this.compatibility.FindTargets(request, this.metadata(), {
      deadline: Date.now() + deadlineMs,
    });
    try {
      for await (const message of call) {
        yield (message.target ? { target: message.target } : { summary: message.summary }) as FindTargetsItem;
      }
    } catch (error) {
      throw DevcompatError.from(error);
    } finally {
      call.cancel();
    }
  }

  /**
   * A standing FindTargets: the current targets (messages with `initial`, the last with
   * `initial_complete`), then the targets added, removed or changed as the registry changes.
   * It does not resume by itself: after a failure, start again (the initial set comes anew).
   */
  async *watchTargets(source: DeviceRef, options: WatchTargetsOptions = {}): AsyncGenerator<WatchTargetsResponse> {
    const { signal, ...filters } = options;
    if (signal?.aborted) return;
    const request: WatchTargetsRequest = { source: toRef(source), ...filters };
    const call: grpc.ClientReadableStream<WatchTargetsResponse__Output> = this.compatibility.WatchTargets(request, this.metadata());
    const cancel = () => call.cancel();
    signal?.addEventListener('abort', cancel, { once: true });
    try {
      for await (const message of call) yield message as WatchTargetsResponse;
    } catch (error) {
      if (signal?.aborted) return;
      throw DevcompatError.from(error);
    } finally {
      signal?.removeEventListener('abort', cancel);
      call.cancel();
    }
  }

  // -- Placement (placement.proto) --------------------------------------------------------

  /**
   * Streams the hosts that can take every device of a VM at once, best first, each with one
   * assignment; then (with `explain`) hosts that take part of it; then one summary.
   */
  async *findPlacements(devices: readonly PlacementDevice[], options: FindPlacementsOptions = {}, deadlineMs = 60_000): AsyncGenerator<FindPlacementsItem> {
    const request: FindPlacementsRequest = {
      ...options,
      devices: devices.map((d) => ({ request_id: d.request_id, source: toRef(d.source), count: d.count ?? 1 })),
    };
    const call: grpc.ClientReadableStream<FindPlacementsResponse__Output> = this.placementService.FindPlacements(request, this.metadata(), {
      deadline: Date.now() + deadlineMs,
    });
    try {
      for await (const message of call) {
        if (message.placement) yield { placement: message.placement };
        else if (message.partial) yield { partial: message.partial };
        else if (message.summary) yield { summary: message.summary };
      }
    } catch (error) {
      throw DevcompatError.from(error);
    } finally {
      call.cancel();
    }
  }

  /**
   * Claims: capacity reserved on devices of one host for one migration. `create` is retried
   * on UNAVAILABLE (the claim id makes a retry safe: the same body returns the same claim).
   */
  readonly claims = {
    create: (
      host: string,
      claimId: string,
      devices: readonly { device: string; count?: number }[],
      options: CreateClaimOptions = {},
    ): Promise<{ claim: Claim; created: boolean; revision: string; head_hash: string }> =>
      this.unary(
        this.placementService,
        'CreateClaim',
        { parent: host.startsWith('hosts/') ? host : `hosts/${host}`, claim_id: claimId, devices, ttl_ms: options.ttlMs ?? 0 },
        true,
        options,
      ),
    get: async (name: string): Promise<Claim> => (await this.unary<{ claim: Claim }>(this.placementService, 'GetClaim', { name }, true)).claim,
    listPage: (request: { parent?: string; claim_id?: string; page_size?: number; page_token?: string }) =>
      this.unary<{ claims: Claim[]; next_page_token: string; revision: string }>(this.placementService, 'ListClaims', request, true),
    /** Every live claim (of one host with `parent`, with one claim id with `claimId`), page after page. */
    list: (options: { parent?: string; claimId?: string } = {}): AsyncGenerator<Claim> => this.listClaims(options),
    renew: async (name: string, options: { ttlMs?: number } & WriteOptions = {}): Promise<Claim> =>
      (await this.unary<{ claim: Claim }>(this.placementService, 'RenewClaim', { name, ttl_ms: options.ttlMs ?? 0 }, true, options)).claim,
    /** Not retried: a release that committed and lost its answer would be NOT_FOUND on retry. */
    release: async (name: string, options: WriteOptions = {}): Promise<Claim> =>
      (await this.unary<{ claim: Claim }>(this.placementService, 'ReleaseClaim', { name }, false, options)).claim,
  };

  /** Every live claim, page after page (`parent` `hosts/{host}` for one host, `claimId` for one id). */
  async *listClaims(options: { parent?: string; claimId?: string } = {}): AsyncGenerator<Claim> {
    let token = '';
    do {
      const page = await this.claims.listPage({ parent: options.parent, claim_id: options.claimId, page_token: token });
      yield* page.claims;
      token = page.next_page_token;
    } while (token);
  }

  /**
   * Creates a claim, runs `fn` with it, and releases the claim if `fn` throws (the error is
   * rethrown). When `fn` succeeds the claim is left for the host's next sync to use up (or
   * for its TTL to end), as a completed migration should.
   */
  async withClaim<T>(
    host: string,
    claimId: string,
    devices: readonly { device: string; count?: number }[],
    fn: (claim: Claim) => Promise<T>,
    options: CreateClaimOptions = {},
  ): Promise<T> {
    const { claim } = await this.claims.create(host, claimId, devices, options);
    try {
      return await fn(claim);
    } catch (error) {
      await this.claims.release(claim.name, options).catch(() => undefined);
      throw error;
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
  private queue: CheckItemMessage[] = [];
  private scheduled = false;
  /** The stream's buffer is full: wait for 'drain' before writing more. */
  private blocked = false;
  private failure: DevcompatError | undefined;
  private nextId = 0;
  private readonly ended: Promise<void>;

  constructor(
    private readonly call: grpc.ClientDuplexStream<CheckCompatibilityStreamRequest, CheckCompatibilityStreamResponse__Output>,
    private readonly maxBatch: number,
  ) {
    call.on('data', (message: CheckCompatibilityStreamResponse__Output) => {
      for (const raw of message.results) {
        const entry = this.pending.get(raw.id);
        if (!entry) continue;
        this.pending.delete(raw.id);
        entry.resolve(
          raw.result
            ? { id: raw.id, result: raw.result as CompatibilityResult }
            : { id: raw.id, error: { ...decodeStatus(raw.error ?? {}), code: raw.error?.code ?? grpc.status.UNKNOWN } },
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
