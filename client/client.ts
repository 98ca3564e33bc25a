// The typed client that host agents and schedulers embed, and that the CLI uses; published
// on its own as @devcompat/client (packages/client/). Every call takes a deadline and an
// AbortSignal (CallOptions); idempotent calls are retried on UNAVAILABLE while the retry budget
// lasts (calls.ts); the channel sends keepalive pings, so a hung server fails open streams
// instead of blocking them. Requests are checked against the schema before they are sent
// (messages.ts), and answers carry Dates. Lists paginate by themselves (async iterators).
// Every read takes `minRevision`; with `readYourWrites` the client sends the newest revision
// its own writes returned, so its reads see them on any replica (read-session.ts). TLS
// credentials from PEM files: tls.ts.
// Watches resume by themselves where they left off; leases are kept on one stream
// (LeaseKeeper); many checks share one stream that survives restarts (CheckStream).

import * as grpc from '@grpc/grpc-js';
import { loadPackageDefinition, loadServices } from '../proto/load.ts';
import { decodeFindTargetsResponse } from './find-targets-codec.ts';
import { ACTOR_METADATA_KEY, ErrorReason, isValidReason, REASON_METADATA_KEY, REASON_RULE } from '../proto/wire.ts';
import { abortedError, finiteStream, unaryCall, type CallOptions, type UnaryInvoker } from './calls.ts';
import { CheckStream, type CheckStreamDuplex, type CheckStreamOptions } from './check-stream.ts';
import { decodeResponse } from './check-stream-codec.ts';
import { backoffMs, DEFAULT_RETRY, DevcompatError, hostName, mayRetry, sleep, type RetryPolicy } from './errors.ts';
import { LeaseKeeper } from './lease-keeper.ts';
import { ClientLifetime } from './lifetime.ts';
import { ReadSession } from './read-session.ts';
import { tlsCredentials, type ClientTlsFiles } from './tls.ts';
import { checkOptions, fromResponse, toRef, toRequest } from './messages.ts';
import type { FindPlacementsResponse__Output } from '../proto/generated/devcompat/v1/FindPlacementsResponse.ts';
import type { Placement__Output } from '../proto/generated/devcompat/v1/Placement.ts';
import type { PartialPlacement__Output } from '../proto/generated/devcompat/v1/PartialPlacement.ts';
import type { FindPlacementsSummary__Output } from '../proto/generated/devcompat/v1/FindPlacementsSummary.ts';
import type { FindTargetsResponse__Output } from '../proto/generated/devcompat/v1/FindTargetsResponse.ts';
import type { WatchResponse__Output } from '../proto/generated/devcompat/v1/WatchResponse.ts';
import type { WatchTargetsResponse__Output } from '../proto/generated/devcompat/v1/WatchTargetsResponse.ts';
import type {
  AsOf,
  CheckItem,
  CheckItemResult,
  BackupResponse,
  Claim,
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
  MinRevision,
  RevisionInput,
  SetHostDrainingResponse,
  SyncHostRequest,
  SyncHostResponse,
  TargetFilterOptions,
  VerifyHistoryResponse,
  WatchOptions,
  WatchResponse,
  WatchTargetsOptions,
  WatchTargetsResponse,
  WriteOptions,
} from './types.ts';

export * from './types.ts';
export { DEFAULT_RETRY, DevcompatError, hostName, type RetryPolicy } from './errors.ts';
export type { CallOptions } from './calls.ts';
export { CheckStream, type CheckStreamOptions } from './check-stream.ts';
export { tlsCredentials, type ClientTlsFiles } from './tls.ts';
export { compareRevisions, maxRevision } from './revisions.ts';
export { LeaseKeeper, type LeaseKeeperEvents } from './lease-keeper.ts';
export { RegistryMirror, type MirrorChange, type MirrorDeviceFilter, type MirrorEvents, type MirrorOptions, type MirrorSource } from './mirror.ts';
export { ACTOR_METADATA_KEY, REASON_METADATA_KEY } from '../proto/wire.ts';

/** One device request of a VM: its source (a registered device name or a descriptor) and how many. */
export interface PlacementDevice {
  requestId: string;
  source: DeviceRef;
  /** Devices of this kind the VM needs (default 1). */
  count?: number;
}

export interface FindPlacementsOptions extends CallOptions, MinRevision {
  /** Hosts (`hosts/{host}`) left out. */
  excludeHosts?: string[];
  /** Only hosts with all these labels. */
  hostLabels?: Record<string, string>;
  /** Hosts returned at most (0: the server's default). */
  limit?: number;
  /** Also stream the hosts that can take part of the VM, with what is missing. */
  explain?: boolean;
  /** Keep the hosts of the sources named (left out by default). */
  includeSourceHosts?: boolean;
  /** Keep UNREACHABLE hosts (left out by default). */
  includeUnreachableHosts?: boolean;
  /** Keep DRAINING hosts (left out by default). */
  includeDrainingHosts?: boolean;
}

export type FindPlacementsItem =
  | { placement: Placement__Output }
  | { partial: PartialPlacement__Output }
  | { summary: FindPlacementsSummary__Output };

export interface CreateClaimOptions extends WriteOptions, CallOptions {
  /** Time to live in ms (default 300000, at most 3600000). */
  ttlMs?: number;
}

/** Default deadlines, in milliseconds, of the calls that have one (see docs/scheduler-guide.md). */
export const DEFAULT_DEADLINES = {
  /** Every unary call (retries included), unless ClientOptions.deadlineMs says otherwise. */
  unary: 30_000,
  /** FindTargets and FindPlacements: the whole stream. */
  finiteStream: 60_000,
} as const;

/** The HTTP/2 flow-control window a check stream's connection grants the server, per connection and stream (bytes). */
export const CLIENT_FLOW_CONTROL_WINDOW = 1024 * 1024;

/**
 * Keepalive pings on the client's channel: a connection silent for 30 s is pinged, and one
 * whose ping is not answered within 10 s is closed, which fails its calls with UNAVAILABLE
 * (watches then resume, check streams reconnect). Pings are sent only while calls are open.
 * The server (grpc-js) enforces no minimum ping interval; a proxy in between may (C-core's
 * default minimum is 5 minutes without data): raise keepalive_time_ms through channelOptions.
 */
export const KEEPALIVE_CHANNEL_OPTIONS = {
  'grpc.keepalive_time_ms': 30_000,
  'grpc.keepalive_timeout_ms': 10_000,
  'grpc.keepalive_permit_without_calls': 0,
} as const;

export interface ClientOptions {
  /** `host:port` of the registry. */
  readonly address: string;
  /** Deadline of each unary call, retries included; default 30 s. Each call may give its own. */
  readonly deadlineMs?: number;
  /** Recorded in history as who made a change (metadata `x-devcompat-actor`). */
  readonly actor?: string;
  /**
   * Recorded in history as why a change was made (metadata `x-devcompat-reason`); a write's
   * own `reason` option overrides it. Printable ASCII, at most 1024 characters.
   */
  readonly reason?: string;
  /** How calls ride out an unavailable server; default DEFAULT_RETRY (a 10 s budget). */
  readonly retry?: Partial<RetryPolicy>;
  readonly credentials?: grpc.ChannelCredentials;
  /** TLS: PEM files of the CA that signed the server's certificate, and this client's own certificate and key (mutual TLS). Ignored when `credentials` is given. */
  readonly tls?: ClientTlsFiles;
  /** grpc-js channel options, over the client's own (keepalive, reconnect backoff, message size). */
  readonly channelOptions?: grpc.ChannelOptions;
  /**
   * Session consistency: the client remembers the newest revision its own writes returned
   * (SyncHost, DeleteHost, SetHostDraining, claims) and sends it as `min_revision` on every
   * read, so a read through a replica that has not applied those writes yet waits for them
   * (docs/ha.md). A read's own `minRevision` applies when it is newer. Default false.
   */
  readonly readYourWrites?: boolean;
}

/** The request fields of a point-in-time read; none for a read of now. */
function asOfFields(asOf: AsOf): { as_of_revision?: RevisionInput; as_of_time?: Date } {
  return {
    ...(asOf.asOfRevision !== undefined && { as_of_revision: asOf.asOfRevision }),
    ...(asOf.asOfTime !== undefined && { as_of_time: asOf.asOfTime }),
  };
}

const TARGET_FILTER_OPTIONS = ['excludeHosts', 'hostLabels', 'requireAvailable', 'includeSourceHost', 'includeUnreachableHosts', 'includeDrainingHosts'];
const CALL_OPTIONS = ['deadlineMs', 'signal'];
const FIND_PLACEMENTS_OPTIONS = ['excludeHosts', 'hostLabels', 'limit', 'explain', 'includeSourceHosts', 'includeUnreachableHosts', 'includeDrainingHosts', 'minRevision'];

/** The request fields of the target filter shared by FindTargets and WatchTargets. */
function targetFilterFields(options: TargetFilterOptions) {
  return {
    exclude_hosts: options.excludeHosts,
    host_labels: options.hostLabels,
    require_available: options.requireAvailable,
    include_source_host: options.includeSourceHost,
    include_unreachable_hosts: options.includeUnreachableHosts,
    include_draining_hosts: options.includeDrainingHosts,
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

/**
 * What grpc-js reports for a stream the server reset with ENHANCE_YOUR_CALM: the server does so
 * to a watch whose consumer read nothing for its --send-timeout when the WATCH_TOO_SLOW status,
 * queued behind what the consumer had not read, was not taken in time either.
 */
const CALM_RESET_DETAILS = 'Bandwidth exhausted or memory limit exceeded';

/** A watch resumes on its own from these: a restarting server, or a consumer cut off as too slow. */
function resumable(error: DevcompatError): boolean {
  if (error.code === grpc.status.UNAVAILABLE) return true;
  if (error.code !== grpc.status.RESOURCE_EXHAUSTED) return false;
  return error.reason === ErrorReason.WATCH_TOO_SLOW || (error.reason === undefined && error.message === CALM_RESET_DETAILS);
}

interface UnaryOptions {
  readonly idempotent: boolean;
  readonly write?: WriteOptions;
  readonly call?: CallOptions;
}

export class DevcompatClient {
  private readonly registry: grpc.Client & Record<string, UnaryInvoker>;
  private readonly compatibility: grpc.Client & Record<string, any>;
  private readonly historyService: grpc.Client & Record<string, UnaryInvoker>;
  private readonly watchService: grpc.Client & Record<string, any>;
  private readonly placementService: grpc.Client & Record<string, any>;
  private readonly adminService: grpc.Client & Record<string, UnaryInvoker>;
  /** CheckCompatibilityStream's own channel (a wide flow-control window), opened by the first checkStream(). */
  private checkStreamService: (grpc.Client & Record<string, any>) | undefined;
  /**
   * Ended by close(): it ends the open check streams and lease keepers (CANCELLED) before the
   * channels close, and a check stream asked for afterwards opens no new connection.
   */
  private readonly lifetime = new ClientLifetime();
  private readonly openCheckStreamService: () => grpc.Client & Record<string, any>;
  private readonly deadlineMs: number;
  private readonly retry: RetryPolicy;
  private readonly actor: string | undefined;
  private readonly reason: string | undefined;
  /** The newest revision this client's writes returned, sent on its reads (readYourWrites). */
  private readonly session: ReadSession;

  constructor(options: ClientOptions) {
    if (options.reason) checkReason(options.reason);
    const services = loadServices();
    const credentials = options.credentials ?? (options.tls ? tlsCredentials(options.tls) : grpc.credentials.createInsecure());
    const channelOptions = {
      'grpc.max_receive_message_length': 64 * 1024 * 1024,
      // A restarted server should be found again within the retry budget: reconnect attempts
      // back off from 200 ms to at most 2 s (gRPC's default grows to two minutes).
      'grpc.initial_reconnect_backoff_ms': 200,
      'grpc.max_reconnect_backoff_ms': 2_000,
      ...KEEPALIVE_CHANNEL_OPTIONS,
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
    // Check streams get a connection of their own, opened on first use, whose flow-control window
    // lets the server send 1 MB ahead of what the client has read (HTTP/2's default is 64 KB): a
    // stream's responses are ~220 KB each, and with the default the server waits for a
    // WINDOW_UPDATE per 32 KB, which a client busy decoding the previous response sends late
    // (issue 7, docs/benchmarks.md). The other calls keep the default, so that a watch too slow
    // for the server is still found out after 64 KB unread, not 1 MB.
    this.openCheckStreamService = () =>
      new services.CompatibilityService(options.address, credentials, {
        'grpc-node.flow_control_window': CLIENT_FLOW_CONTROL_WINDOW,
        ...channelOptions,
      }) as any;
    this.deadlineMs = options.deadlineMs ?? DEFAULT_DEADLINES.unary;
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
    this.actor = options.actor;
    this.reason = options.reason;
    this.session = new ReadSession(options.readYourWrites ?? false);
  }

  /**
   * The newest revision this client's own writes returned, as a decimal string ('0' before
   * the first write, and always '0' without `readYourWrites`). Hand it to another client as
   * `minRevision` to let it read those writes too.
   */
  get sessionRevision(): string {
    return this.session.revision;
  }

  /** The `min_revision` of a read (ReadSession.floor). */
  private minRevision(options: MinRevision = {}): { min_revision?: RevisionInput } {
    return this.session.floor(options);
  }

  /**
   * Closes the client's connections. Open check streams end (their pending checks reject with
   * CANCELLED) and lease keepers fail (`failed`, CANCELLED). Any call made afterwards fails,
   * a check stream's included; so does an open watch when it next has to resume.
   */
  close(): void {
    try {
      this.lifetime.close();
    } finally {
      this.registry.close();
      this.checkStreamService?.close();
    }
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

  /** Method `method` (request `{method}Request`, answer `{method}Response`), checked, sent, retried, converted. */
  private async unary<T>(client: Record<string, UnaryInvoker>, method: string, request: unknown, options: UnaryOptions): Promise<T> {
    const wire = toRequest(`${method}Request`, request);
    const invoke: UnaryInvoker = (...args) => client[method](...args);
    const response = await unaryCall<unknown>(invoke, wire, () => this.metadata(options.write), {
      deadlineMs: options.call?.deadlineMs ?? this.deadlineMs,
      signal: options.call?.signal,
      idempotent: options.idempotent,
      retry: this.retry,
    });
    if (options.write) this.session.remember(response);
    return fromResponse<T>(`${method}Response`, response);
  }

  // -- Registry ---------------------------------------------------------------------------

  /**
   * Replaces the registry's view of a host. An unconditional sync is idempotent (a retried
   * sync changes nothing more) and is retried on UNAVAILABLE; one with `expected_revision` is
   * not: if the first attempt committed and only its answer was lost, a retry would be
   * refused as stale and report a write that happened as failed.
   */
  syncHost(request: SyncHostRequest, options: WriteOptions & CallOptions = {}): Promise<SyncHostResponse> {
    return this.unary(this.registry, 'SyncHost', request, { idempotent: request.expected_revision === undefined, write: options, call: options });
  }

  deleteHost(name: string, options: { expectedRevision?: RevisionInput } & WriteOptions & CallOptions = {}): Promise<DeleteHostResponse> {
    const request = { name: hostName(name), expected_revision: options.expectedRevision };
    return this.unary(this.registry, 'DeleteHost', request, { idempotent: false, write: options, call: options });
  }

  /**
   * Marks a host as draining (its devices are no longer offered as targets) or clears the
   * mark. Setting the mark it already has changes nothing, so the call is retried like a read.
   */
  setHostDraining(name: string, draining: boolean, options: WriteOptions & CallOptions = {}): Promise<SetHostDrainingResponse> {
    return this.unary(this.registry, 'SetHostDraining', { name: hostName(name), draining }, { idempotent: true, write: options, call: options });
  }

  /** Opens a lease keeper: one KeepAlive stream that renews host leases (see LeaseKeeper). */
  keepAlive(): LeaseKeeper {
    return new LeaseKeeper(() => (this.registry as unknown as Record<string, any>).KeepAlive(this.metadata()), this.retry, this.lifetime);
  }

  async getHost(name: string, options: MinRevision & CallOptions = {}): Promise<Host> {
    const request = { name: hostName(name), ...this.minRevision(options) };
    return (await this.unary<{ host: Host }>(this.registry, 'GetHost', request, { idempotent: true, call: options })).host;
  }

  /** One device, now or (with `asOfRevision` / `asOfTime`) as it was then. */
  async getDevice(name: string, options: AsOf & MinRevision & CallOptions = {}): Promise<Device> {
    const request = { name, ...asOfFields(options), ...this.minRevision(options) };
    return (await this.unary<{ device: Device }>(this.registry, 'GetDevice', request, { idempotent: true, call: options })).device;
  }

  /** One page of hosts; `pageToken` from the previous page's `next_page_token`. */
  listHostsPage(options: { labels?: Record<string, string>; pageSize?: number; pageToken?: string } & MinRevision & CallOptions = {}) {
    const request = { labels: options.labels, page_size: options.pageSize, page_token: options.pageToken, ...this.minRevision(options) };
    return this.unary<{ hosts: Host[]; next_page_token: string; revision: string }>(this.registry, 'ListHosts', request, { idempotent: true, call: options });
  }

  /** Every host (optionally with these labels), page after page; the deadline and signal apply to each page. */
  async *listHosts(options: { labels?: Record<string, string>; pageSize?: number } & MinRevision & CallOptions = {}): AsyncGenerator<Host> {
    let pageToken = '';
    do {
      const page = await this.listHostsPage({ ...options, pageToken });
      yield* page.hosts;
      pageToken = page.next_page_token;
    } while (pageToken);
  }

  /** One page of devices; `pageToken` from the previous page's `next_page_token`. */
  listDevicesPage(options: { filter?: DeviceFilter; pageSize?: number; pageToken?: string } & AsOf & MinRevision & CallOptions = {}) {
    const request = { filter: options.filter, page_size: options.pageSize, page_token: options.pageToken, ...asOfFields(options), ...this.minRevision(options) };
    return this.unary<{ devices: Device[]; next_page_token: string; revision: string }>(this.registry, 'ListDevices', request, {
      idempotent: true,
      call: options,
    });
  }

  /** Every device matching the filter, page after page; every page at the same point in time. */
  async *listDevices(filter: DeviceFilter = {}, options: { pageSize?: number } & AsOf & MinRevision & CallOptions = {}): AsyncGenerator<Device> {
    let pageToken = '';
    do {
      const page = await this.listDevicesPage({ ...options, filter, pageToken });
      yield* page.devices;
      pageToken = page.next_page_token;
    } while (pageToken);
  }

  // -- History ----------------------------------------------------------------------------

  /** One page of history entries; `pageToken` from the previous page's `next_page_token`. */
  listHistoryPage(filter: HistoryFilter = {}, options: { pageSize?: number; pageToken?: string } & MinRevision & CallOptions = {}) {
    const request = {
      resource: filter.resource,
      start_revision: filter.startRevision,
      end_revision: filter.endRevision,
      start_time: filter.startTime,
      end_time: filter.endTime,
      actor: filter.actor,
      order: filter.order,
      page_size: options.pageSize,
      page_token: options.pageToken,
      ...this.minRevision(options),
    };
    return this.unary<{ entries: HistoryEntry[]; next_page_token: string; revision: string }>(this.historyService, 'ListHistory', request, {
      idempotent: true,
      call: options,
    });
  }

  /** History entries matching the filter, newest first unless asked otherwise. */
  async *history(filter: HistoryFilter = {}, options: { pageSize?: number } & MinRevision & CallOptions = {}): AsyncGenerator<HistoryEntry> {
    let pageToken = '';
    do {
      const page = await this.listHistoryPage(filter, { ...options, pageToken });
      yield* page.entries;
      pageToken = page.next_page_token;
    } while (pageToken);
  }

  /**
   * Walks the history chain and reports the first broken entry. With `expectedHead` (a
   * head_hash kept from an earlier write or watch message) it also proves that history up to
   * that head is intact. A broken chain is an answer (`intact: false`), not an error.
   */
  verifyHistory(options: { expectedHead?: string } & MinRevision & CallOptions = {}): Promise<VerifyHistoryResponse> {
    const request = { expected_head: options.expectedHead ?? '', ...this.minRevision(options) };
    return this.unary(this.historyService, 'VerifyHistory', request, { idempotent: true, call: options });
  }

  /**
   * Removes history up to and including `revision`, keeping a checkpoint of the chain. Watches
   * and point-in-time reads before the cut then fail with OUT_OF_RANGE. Compacting again to the
   * same revision changes nothing, so the call is retried like a read.
   */
  compactHistory(revision: RevisionInput, options: WriteOptions & CallOptions = {}): Promise<CompactHistoryResponse> {
    return this.unary(this.historyService, 'CompactHistory', { revision }, { idempotent: true, write: options, call: options });
  }

  // -- Admin ------------------------------------------------------------------------------

  /**
   * Asks the server to write a consistent copy of its registry to `path` (absolute, on the
   * server's host, a new file) and returns the revision and history head the copy holds. Not
   * retried: a second attempt would find the first one's file and be refused.
   */
  backup(path: string, options: CallOptions = {}): Promise<BackupResponse> {
    return this.unary(this.adminService, 'Backup', { path }, { idempotent: false, call: options });
  }

  // -- Watch ------------------------------------------------------------------------------

  /**
   * The registry's changes from `startRevision` (or from now), then live, as one message per
   * revision; the first message has `created` set, and a quiet watch gets `progress` messages
   * with the current revision.
   *
   * The watch resumes by itself, with backoff, where it left off (the last revision it
   * yielded, + 1) when the stream fails with UNAVAILABLE (a restarting server, or a hung one
   * that stopped answering keepalive pings), ends, or is cut off as too slow
   * (RESOURCE_EXHAUSTED, WATCH_TOO_SLOW): no revision is yielded twice and none is skipped, and
   * the `created` message of a resumed stream is not yielded again. A watch that never started
   * fails once the retry budget is spent, like a unary call (a stream the server ends before its
   * `created` message counts as a failure). The backoff grows with each interruption until an
   * event or a progress message arrives: a server that answers `created` and then fails every
   * stream is not retried at the first step for ever. Anything else ends the iteration
   * with a DevcompatError (DEADLINE_EXCEEDED once `deadlineMs` has passed); OUT_OF_RANGE
   * (reason REVISION_COMPACTED, metadata `oldest_revision`) means the revision to resume from
   * is gone: relist (RegistryMirror does). Aborting `signal`, or leaving the loop, cancels the
   * stream and ends the iteration quietly.
   */
  async *watch(options: WatchOptions = {}): AsyncGenerator<WatchResponse> {
    const { signal } = options;
    const filter = options.filter ?? {};
    const deadline = options.deadlineMs === undefined ? undefined : Date.now() + options.deadlineMs;
    /** The next revision to deliver; undefined until a "from now" watch has been created. */
    const start = BigInt(options.startRevision ?? 0);
    let next: bigint | undefined = start > 0n ? start : undefined;
    let createdYielded = false;
    let failures = 0;
    let firstFailure: number | undefined;
    while (!signal?.aborted) {
      const request = toRequest('WatchRequest', {
        start_revision: next ?? 0n,
        filter,
        progress_interval_ms: options.progressIntervalMs ?? 0,
        ...this.minRevision(options),
      });
      let call: grpc.ClientReadableStream<WatchResponse__Output>;
      try {
        call = this.watchService.Watch(request, this.metadata(), deadline === undefined ? {} : { deadline });
      } catch (error) {
        throw DevcompatError.from(error); // a closed client ('Channel has been shut down')
      }
      const cancel = () => call.cancel();
      signal?.addEventListener('abort', cancel, { once: true });
      let interruption: DevcompatError;
      let created = false;
      try {
        for await (const raw of call) {
          const message = fromResponse<WatchResponse>('WatchResponse', raw);
          const revision = BigInt(message.revision);
          if (message.created) {
            created = true;
            // Created at revision R, a watch from now delivers R + 1 onwards.
            next ??= revision + 1n;
            if (createdYielded) continue;
            createdYielded = true;
          } else {
            // The stream has served something beyond its `created`: the resume worked, and
            // the next interruption backs off from the first step again. (`created` alone
            // proves nothing: a server may accept each stream and fail it at once. Progress
            // counts, or a quiet registry would never reset the count.)
            failures = 0;
            firstFailure = undefined;
            if (message.progress) {
              if (next !== undefined && revision + 1n > next) next = revision + 1n;
            } else {
              if (next !== undefined && revision < next) continue; // delivered before a resume
              next = revision + 1n;
            }
          }
          yield message;
        }
        if (signal?.aborted) return;
        interruption = new DevcompatError({
          code: grpc.status.UNAVAILABLE,
          message: created ? 'the server ended the watch' : 'the server ended the watch before creating it',
        });
      } catch (error) {
        if (signal?.aborted) return;
        interruption = DevcompatError.from(error);
        if (!resumable(interruption)) throw interruption;
      } finally {
        signal?.removeEventListener('abort', cancel);
        call.cancel();
      }
      // Until its first `created`, a watch is retried as a unary call is: within the budget. A
      // stream ended cleanly before `created` counts as a failure too.
      firstFailure ??= Date.now();
      if (!createdYielded && !mayRetry(this.retry, failures + 1, firstFailure)) throw interruption;
      // The stream failed or ended: resume after a backoff that grows until an event or progress arrives.
      failures++;
      options.onResume?.(interruption, next === undefined ? undefined : String(next), failures);
      await sleep(backoffMs(this.retry, failures), signal);
    }
  }

  // -- Compatibility ----------------------------------------------------------------------

  /** The verdict for one pair, now or (with `asOfRevision` / `asOfTime`) as it was then. */
  async check(source: DeviceRef, target: DeviceRef, options: AsOf & MinRevision & CallOptions = {}): Promise<CompatibilityResult> {
    const request = { source: toRef(source), target: toRef(target), ...asOfFields(options), ...this.minRevision(options) };
    return (await this.unary<{ result: CompatibilityResult }>(this.compatibility, 'CheckCompatibility', request, { idempotent: true, call: options })).result;
  }

  /**
   * Streams where `source` may go: compatible targets best first, then (with
   * `includeRejected`) the rejected candidates, then one summary. Breaking out of the loop
   * cancels the call, and the server stops its work. Retried on UNAVAILABLE until its first
   * message; default deadline 60 s for the whole stream; aborting `signal` rejects with
   * CANCELLED.
   */
  async *findTargets(source: DeviceRef, options: FindTargetsOptions & CallOptions = {}): AsyncGenerator<FindTargetsItem> {
    checkOptions(options, [...TARGET_FILTER_OPTIONS, ...CALL_OPTIONS, 'limit', 'includeRejected', 'rejectedLimit', 'asOfRevision', 'asOfTime', 'minRevision']);
    const request = toRequest('FindTargetsRequest', {
      source: toRef(source),
      ...targetFilterFields(options),
      limit: options.limit,
      include_rejected: options.includeRejected,
      rejected_limit: options.rejectedLimit,
      ...asOfFields(options),
      ...this.minRevision(options),
    });
    // The answers are decoded by the client's own decoder (find-targets-codec.ts): the same objects, for less CPU.
    const method = (loadPackageDefinition()['devcompat.v1.CompatibilityService'] as grpc.ServiceDefinition).FindTargets;
    yield* finiteStream<FindTargetsResponse__Output, FindTargetsItem>(
      (callOptions) =>
        this.compatibility.makeServerStreamRequest(method.path, method.requestSerialize, decodeFindTargetsResponse, request, this.metadata(), callOptions),
      (message) => (message.target ? { target: fromResponse('FoundTarget', message.target) } : { summary: fromResponse('FindTargetsSummary', message.summary) }) as FindTargetsItem,
      { deadlineMs: options.deadlineMs ?? DEFAULT_DEADLINES.finiteStream, signal: options.signal, retry: this.retry },
    );
  }

  /**
   * A standing FindTargets: the current targets (messages with `initial`, the last with
   * `initial_complete`), then the targets added, removed or changed as the registry changes.
   * It does not resume by itself: after a failure (UNAVAILABLE when the server restarts, or
   * stops answering keepalive pings; DEADLINE_EXCEEDED after `deadlineMs`), start again: the
   * initial set comes anew. Aborting `signal` ends the iteration quietly.
   */
  async *watchTargets(source: DeviceRef, options: WatchTargetsOptions = {}): AsyncGenerator<WatchTargetsResponse> {
    checkOptions(options, [...TARGET_FILTER_OPTIONS, ...CALL_OPTIONS, 'minRevision']);
    const { signal } = options;
    if (signal?.aborted) return;
    const request = toRequest('WatchTargetsRequest', { source: toRef(source), ...targetFilterFields(options), ...this.minRevision(options) });
    const callOptions = options.deadlineMs === undefined ? {} : { deadline: Date.now() + options.deadlineMs };
    const call: grpc.ClientReadableStream<WatchTargetsResponse__Output> = this.compatibility.WatchTargets(request, this.metadata(), callOptions);
    const cancel = () => call.cancel();
    signal?.addEventListener('abort', cancel, { once: true });
    try {
      for await (const message of call) yield fromResponse<WatchTargetsResponse>('WatchTargetsResponse', message);
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
   * assignment; then (with `explain`) hosts that take part of it; then one summary. Deadline,
   * signal and retries as findTargets.
   */
  async *findPlacements(devices: readonly PlacementDevice[], options: FindPlacementsOptions = {}): AsyncGenerator<FindPlacementsItem> {
    checkOptions(options, [...CALL_OPTIONS, ...FIND_PLACEMENTS_OPTIONS]);
    const request = toRequest('FindPlacementsRequest', {
      devices: devices.map((d) => ({ request_id: d.requestId, source: toRef(d.source), count: d.count ?? 1 })),
      exclude_hosts: options.excludeHosts,
      host_labels: options.hostLabels,
      limit: options.limit,
      explain: options.explain,
      include_source_hosts: options.includeSourceHosts,
      include_unreachable_hosts: options.includeUnreachableHosts,
      include_draining_hosts: options.includeDrainingHosts,
      ...this.minRevision(options),
    });
    yield* finiteStream<FindPlacementsResponse__Output, FindPlacementsItem>(
      (callOptions) => this.placementService.FindPlacements(request, this.metadata(), callOptions),
      (message) =>
        message.placement
          ? { placement: message.placement }
          : message.partial
            ? { partial: message.partial }
            : message.summary
              ? { summary: message.summary }
              : undefined,
      { deadlineMs: options.deadlineMs ?? DEFAULT_DEADLINES.finiteStream, signal: options.signal, retry: this.retry },
    );
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
        { parent: hostName(host), claim_id: claimId, devices, ttl_ms: options.ttlMs ?? 0 },
        { idempotent: true, write: options, call: options },
      ),
    get: async (name: string, options: MinRevision & CallOptions = {}): Promise<Claim> =>
      (await this.unary<{ claim: Claim }>(this.placementService, 'GetClaim', { name, ...this.minRevision(options) }, { idempotent: true, call: options })).claim,
    /** One page of claims (of one host with `parent`, with one claim id with `claimId`). */
    listPage: (options: { parent?: string; claimId?: string; pageSize?: number; pageToken?: string } & MinRevision & CallOptions = {}) =>
      this.unary<{ claims: Claim[]; next_page_token: string; revision: string }>(
        this.placementService,
        'ListClaims',
        { parent: options.parent, claim_id: options.claimId, page_size: options.pageSize, page_token: options.pageToken, ...this.minRevision(options) },
        { idempotent: true, call: options },
      ),
    /** Every live claim (of one host with `parent`, with one claim id with `claimId`), page after page. */
    list: (options: { parent?: string; claimId?: string } & MinRevision & CallOptions = {}): AsyncGenerator<Claim> => this.listClaims(options),
    renew: async (name: string, options: { ttlMs?: number } & WriteOptions & CallOptions = {}): Promise<Claim> =>
      (await this.unary<{ claim: Claim }>(this.placementService, 'RenewClaim', { name, ttl_ms: options.ttlMs ?? 0 }, { idempotent: true, write: options, call: options }))
        .claim,
    /** Not retried: a release that committed and lost its answer would be NOT_FOUND on retry. */
    release: async (name: string, options: WriteOptions & CallOptions = {}): Promise<Claim> =>
      (await this.unary<{ claim: Claim }>(this.placementService, 'ReleaseClaim', { name }, { idempotent: false, write: options, call: options })).claim,
  };

  /** Every live claim, page after page (`parent` `hosts/{host}` for one host, `claimId` for one id). */
  async *listClaims(options: { parent?: string; claimId?: string } & MinRevision & CallOptions = {}): AsyncGenerator<Claim> {
    let pageToken = '';
    do {
      const page = await this.claims.listPage({ ...options, pageToken });
      yield* page.claims;
      pageToken = page.next_page_token;
    } while (pageToken);
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
      await this.claims.release(claim.name, { reason: options.reason }).catch(() => undefined);
      throw error;
    }
  }

  /**
   * Opens one bidirectional stream for many checks (see CheckStream): it reconnects and
   * resends its unanswered checks when the server restarts. `deadlineMs` bounds the whole
   * stream (default: none); aborting `signal`, or closing the client, rejects every pending
   * check with CANCELLED.
   */
  checkStream(options: CheckStreamOptions = {}): CheckStream {
    const method = loadPackageDefinition()['devcompat.v1.CompatibilityService'] as grpc.ServiceDefinition;
    const path = method.CheckCompatibilityStream.path;
    // The stream's own codec (check-stream-codec.ts): requests arrive encoded, responses are decoded there.
    // After close(), the closed main connection: the stream fails as every other call does,
    // instead of opening a connection that nothing would close.
    const service = this.lifetime.closed ? (this.checkStreamService ?? this.registry) : (this.checkStreamService ??= this.openCheckStreamService());
    const open = (callOptions: grpc.CallOptions) =>
      service.makeBidiStreamRequest(path, (bytes: Buffer) => bytes, decodeResponse, this.metadata(), callOptions) as CheckStreamDuplex;
    // The floor is checked here, as a unary read's is by toRequest: a value that is no revision
    // throws now, naming the field, instead of failing inside the stream's encoder later.
    toRequest('CheckCompatibilityStreamRequest', { checks: [], ...this.minRevision(options) });
    return new CheckStream(open, this.retry, options, () => this.minRevision(options), this.lifetime);
  }

  /** Judges many pairs on one stream and resolves with every result, in order. */
  async checkMany(items: Iterable<CheckItem>, options: CheckStreamOptions = {}): Promise<CheckItemResult[]> {
    const stream = this.checkStream(options);
    try {
      return await Promise.all([...items].map((item) => stream.submit(item)));
    } finally {
      await stream.close().catch(() => undefined);
    }
  }
}

export { abortedError };
