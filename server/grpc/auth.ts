// Authentication and authorization of every call, in one place: which permission each method
// needs (one table per service, which the compiler checks lists every method), the identity
// read from the client certificate, and the one check made before any handler runs. The
// decision itself is the pure core's (core/authz.ts).
//
// With no TLS (the loopback default) calls are not checked and `principalOf` is undefined:
// handlers then record the `x-devcompat-actor` metadata as the actor, as before TLS existed.

import { readFileSync } from 'node:fs';
import type { PeerCertificate } from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { createRequire } from 'node:module';
import { DomainError } from '../core/errors.ts';
import {
  decide,
  IdentityError,
  identityFromSubjectAltName,
  outsideValidity,
  parsePolicy,
  principalFor,
  type AuthzPolicy,
  type Permission,
  type Principal,
} from '../core/authz.ts';
import { toServiceError } from './errors.ts';
import type { RegistryServiceHandlers } from '../../proto/generated/devcompat/v1/RegistryService.ts';
import type { CompatibilityServiceHandlers } from '../../proto/generated/devcompat/v1/CompatibilityService.ts';
import type { HistoryServiceHandlers } from '../../proto/generated/devcompat/v1/HistoryService.ts';
import type { WatchServiceHandlers } from '../../proto/generated/devcompat/v1/WatchService.ts';
import type { PlacementServiceHandlers } from '../../proto/generated/devcompat/v1/PlacementService.ts';
import type { AdminServiceHandlers } from '../../proto/generated/devcompat/v1/AdminService.ts';

/** The method names of a generated handlers interface, without its index signature. */
type Methods<T> = keyof { [K in keyof T as string extends K ? never : K]: T[K] };

/** What a method needs; `host-write` names the host it writes from its request's `name`. */
export type MethodPermission = Permission;

export const METHOD_PERMISSIONS = {
  RegistryService: {
    SyncHost: 'host-write',
    KeepAlive: 'host-write',
    SetHostDraining: 'host-write',
    DeleteHost: 'admin',
    GetHost: 'read',
    ListHosts: 'read',
    GetDevice: 'read',
    ListDevices: 'read',
  } satisfies Record<Methods<RegistryServiceHandlers>, MethodPermission>,
  CompatibilityService: {
    CheckCompatibility: 'check',
    CheckCompatibilityStream: 'check',
    FindTargets: 'check',
    WatchTargets: 'check',
  } satisfies Record<Methods<CompatibilityServiceHandlers>, MethodPermission>,
  HistoryService: {
    ListHistory: 'history',
    VerifyHistory: 'history',
    CompactHistory: 'admin',
  } satisfies Record<Methods<HistoryServiceHandlers>, MethodPermission>,
  WatchService: {
    Watch: 'read',
  } satisfies Record<Methods<WatchServiceHandlers>, MethodPermission>,
  PlacementService: {
    FindPlacements: 'check',
    GetClaim: 'check',
    ListClaims: 'check',
    CreateClaim: 'claim',
    RenewClaim: 'claim',
    ReleaseClaim: 'claim',
  } satisfies Record<Methods<PlacementServiceHandlers>, MethodPermission>,
  AdminService: {
    Backup: 'admin',
  } satisfies Record<Methods<AdminServiceHandlers>, MethodPermission>,
} as const;

export type GuardedService = keyof typeof METHOD_PERMISSIONS;

/** Reads and validates an --authz file (JSON, or YAML when it ends in .yaml/.yml). */
export function loadPolicy(path: string): AuthzPolicy {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new Error(`cannot read the authorization policy ${path}: ${(error as Error).message}`);
  }
  let document: unknown;
  try {
    document = /\.ya?ml$/i.test(path) ? (createRequire(import.meta.url)('yaml') as typeof import('yaml')).parse(text) : JSON.parse(text);
  } catch (error) {
    throw new Error(`${path}: not valid ${/\.ya?ml$/i.test(path) ? 'YAML' : 'JSON'}: ${(error as Error).message}`);
  }
  return parsePolicy(document, path);
}

const principals = new WeakMap<object, Principal>();

/** The authenticated caller of this call; undefined when the server runs without TLS. */
export function principalOf(call: object): Principal | undefined {
  return principals.get(call);
}

type AnyCall = grpc.ServerUnaryCall<unknown, unknown> | grpc.ServerWritableStream<unknown, unknown> | grpc.ServerDuplexStream<unknown, unknown>;

function hostOf(request: unknown): string {
  const name = String((request as { name?: unknown } | null)?.name ?? '');
  return name.startsWith('hosts/') ? name.slice('hosts/'.length) : name;
}

/** The caller's certificate; UNAUTHENTICATED without one. */
function certificateOf(call: { getAuthContext(): { sslPeerCertificate?: PeerCertificate } }, method: string): PeerCertificate {
  const certificate = call.getAuthContext().sslPeerCertificate;
  if (!certificate) {
    throw new DomainError('UNAUTHENTICATED', `${method} needs a client certificate issued by the server's client CA`);
  }
  return certificate;
}

/**
 * The handshake checked the certificate's dates once; a connection outlives them (an agent's
 * KeepAlive keeps it busy), so each call, and each message of a client stream, checks them again.
 */
function checkValidity(certificate: PeerCertificate, method: string): void {
  const outside = outsideValidity(certificate.valid_from, certificate.valid_to, Date.now());
  if (outside) throw new DomainError('UNAUTHENTICATED', `${method}: the client certificate ${outside}; connect again with a current one`);
}

function authenticate(certificate: PeerCertificate, policy: AuthzPolicy, method: string): Principal {
  checkValidity(certificate, method);
  try {
    return principalFor(identityFromSubjectAltName(certificate.subjectaltname, policy), policy);
  } catch (error) {
    if (error instanceof IdentityError) throw new DomainError('UNAUTHENTICATED', `${method}: ${error.message}`);
    throw error;
  }
}

/**
 * Whether a call's caller passes what `guarded` checks first: a current certificate that names
 * an identity the policy gives a role. For what runs before the handlers (min-revision.ts).
 */
export function hasRole(call: grpc.ServerInterceptingCallInterface, policy: AuthzPolicy): boolean {
  try {
    return authenticate(certificateOf(call, ''), policy, '').role !== undefined;
  } catch {
    return false;
  }
}

function check(principal: Principal, permission: Permission, method: string, request: unknown): void {
  const denial = decide(principal, permission, method, permission === 'host-write' ? hostOf(request) : undefined);
  if (denial) throw new DomainError('PERMISSION_DENIED', denial, { metadata: { identity: principal.identity, method } });
}

function refuse(call: AnyCall, error: unknown, log: Logger, callback?: grpc.sendUnaryData<unknown>): void {
  const status = toServiceError(error, log);
  if (callback) callback(status);
  else call.emit('error', status);
}

/**
 * The service's handlers, each behind the one check: the caller is authenticated from its
 * certificate and its role must grant the method's permission (for a host write, on the host
 * the request names; on a KeepAlive stream, on every message's host).
 */
export function guarded<S extends GuardedService>(
  service: S,
  handlers: grpc.UntypedServiceImplementation,
  policy: AuthzPolicy,
  log: Logger,
): grpc.UntypedServiceImplementation {
  const table = METHOD_PERMISSIONS[service] as Record<string, Permission>;
  const result: grpc.UntypedServiceImplementation = {};
  for (const [name, handler] of Object.entries(handlers)) {
    const permission = table[name];
    if (permission === undefined) throw new Error(`${service}.${name} has no permission in METHOD_PERMISSIONS`);
    const method = `${service}/${name}`;
    result[name] = ((call: AnyCall, callback?: grpc.sendUnaryData<unknown>) => {
      let principal: Principal;
      let certificate: PeerCertificate;
      try {
        certificate = certificateOf(call, method);
        principal = authenticate(certificate, policy, method);
        principals.set(call, principal);
        if ('request' in call && call.request !== undefined) check(principal, permission, method, call.request);
      } catch (error) {
        refuse(call, error, log, callback);
        return;
      }
      if (!('request' in call) || call.request === undefined) {
        // A client stream (KeepAlive): each message is checked before the handler sees it.
        const duplex = call as grpc.ServerDuplexStream<unknown, unknown>;
        const on = duplex.on.bind(duplex);
        duplex.on = ((event: string, listener: (...args: unknown[]) => void) => {
          if (event !== 'data') return on(event, listener);
          return on('data', (request: unknown) => {
            try {
              checkValidity(certificate, method);
              check(principal, permission, method, request);
            } catch (error) {
              refuse(call, error, log);
              return;
            }
            listener(request);
          });
        }) as typeof duplex.on;
      }
      (handler as (call: AnyCall, callback?: grpc.sendUnaryData<unknown>) => void)(call, callback);
    }) as grpc.UntypedHandleCall;
  }
  return result;
}
