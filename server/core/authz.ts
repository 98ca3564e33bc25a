// Who may do what: identities, the policy that maps them to roles, and the one decision
// (`decide`) every call goes through. Pure: the gRPC side (server/grpc/auth.ts) reads the
// client certificate and the request, and asks here.
//
// An identity is read from the client certificate's subject alternative names:
//   - a SPIFFE-style URI `spiffe://<trust-domain>/<kind>/<name>` gives `<kind>:<name>`
//     (`spiffe://example.org/agent/host-a` → `agent:host-a`);
//   - otherwise the first DNS name gives `dns:<name>` (`host-a.agents.example.org` →
//     `dns:host-a.agents.example.org`).
// The host an identity may write (role `agent`) is its `<name>`: the URI's last path segment,
// or the DNS name's first label.

import type { ClaimCaller } from './claims.ts';
import { AltNamesFormatError, parseAltNames, type AltName } from './subject-alt-names.ts';

export const ROLES = ['agent', 'scheduler', 'auditor', 'admin'] as const;
export type Role = (typeof ROLES)[number];

/** What a method needs. `host-write` writes one host, named by the request. */
export type Permission = 'read' | 'check' | 'claim' | 'history' | 'host-write' | 'admin';

const GRANTS: Record<Role, readonly Permission[]> = {
  // An agent reads (to reconcile) and writes its own host only.
  agent: ['read', 'host-write'],
  scheduler: ['read', 'check', 'claim'],
  auditor: ['read', 'history'],
  admin: ['read', 'check', 'claim', 'history', 'host-write', 'admin'],
};

export interface Principal {
  /** `agent:host-a`, `dns:nova.example.org`: recorded in history as the actor. */
  readonly identity: string;
  /** The host this identity names (what an agent may write). */
  readonly host: string;
  /** Undefined when no policy binding matches: every call is then refused. */
  readonly role: Role | undefined;
}

export interface PolicyBinding {
  /** An identity, or a pattern where `*` stands for any run of characters (`agent:host-*`). */
  readonly identity: string;
  readonly role: Role;
}

export interface AuthzPolicy {
  /** When set, URI identities from another trust domain are not recognised. */
  readonly trustDomain?: string;
  /** In order: the first binding that matches an identity gives its role. */
  readonly bindings: readonly PolicyBinding[];
}

/** The policy when no --authz file is given: nobody has a role, so TLS without a policy refuses every call. */
export const EMPTY_POLICY: AuthzPolicy = { bindings: [] };

const IDENTITY_PART = /^[A-Za-z0-9._-]+$/;

/** Why an identity cannot be read from a certificate. */
export class IdentityError extends Error {}

/**
 * The identity named by a certificate's `subjectaltname` (node's form: `URI:spiffe://…,
 * DNS:…`, server/core/subject-alt-names.ts). A value node had to quote is never an identity
 * (it holds a character none may hold). Throws IdentityError when none is usable, or when the
 * text is not in node's form.
 */
export function identityFromSubjectAltName(subjectAltName: string | undefined, policy: AuthzPolicy): { identity: string; host: string } {
  let entries: AltName[];
  try {
    entries = parseAltNames(subjectAltName ?? '');
  } catch (error) {
    if (error instanceof AltNamesFormatError) throw new IdentityError(`the client certificate's subject alternative names cannot be read: ${error.message}`);
    throw error;
  }
  const names = entries.filter((entry) => !entry.quoted).map((entry) => `${entry.type}:${entry.value}`);
  for (const name of names) {
    if (!name.startsWith('URI:spiffe://')) continue;
    const [domain, ...path] = name.slice('URI:spiffe://'.length).split('/');
    if (policy.trustDomain !== undefined && domain !== policy.trustDomain) continue;
    if (path.length !== 2 || !path.every((part) => IDENTITY_PART.test(part))) continue;
    return { identity: `${path[0]}:${path[1]}`, host: path[1]! };
  }
  for (const name of names) {
    if (!name.startsWith('DNS:')) continue;
    const dns = name.slice('DNS:'.length);
    if (!IDENTITY_PART.test(dns)) continue;
    return { identity: `dns:${dns}`, host: dns.split('.')[0]! };
  }
  throw new IdentityError(
    policy.trustDomain
      ? `the client certificate names no spiffe://${policy.trustDomain}/<kind>/<name> URI nor DNS name`
      : 'the client certificate names no spiffe://<domain>/<kind>/<name> URI nor DNS name',
  );
}

/** Why a certificate is not valid at `now` (ms), or undefined; dates node cannot read count as not valid. */
export function outsideValidity(validFrom: string, validTo: string, now: number): string | undefined {
  const from = Date.parse(validFrom);
  const to = Date.parse(validTo);
  if (Number.isNaN(from) || Number.isNaN(to)) return `has validity dates that cannot be read (${validFrom} to ${validTo})`;
  if (now < from) return `is not valid before ${new Date(from).toISOString()}`;
  if (now > to) return `expired at ${new Date(to).toISOString()}`;
  return undefined;
}

function patternMatches(pattern: string, identity: string): boolean {
  const regex = new RegExp(`^${pattern.split('*').map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
  return regex.test(identity);
}

export function principalFor(identity: { identity: string; host: string }, policy: AuthzPolicy): Principal {
  const binding = policy.bindings.find((b) => patternMatches(b.identity, identity.identity));
  return { ...identity, role: binding?.role };
}

/** Undefined when allowed; otherwise why not, for PERMISSION_DENIED. */
export function decide(principal: Principal, permission: Permission, method: string, host?: string): string | undefined {
  const denied = (why: string) => `${principal.identity} may not call ${method}: ${why}`;
  if (principal.role === undefined) return denied('the authorization policy gives this identity no role');
  if (!GRANTS[principal.role].includes(permission)) return denied(`role ${principal.role} does not allow it`);
  if (permission === 'host-write' && principal.role !== 'admin' && host !== principal.host) {
    return denied(`role ${principal.role} may write only hosts/${principal.host}, not hosts/${host ?? ''}`);
  }
  return undefined;
}

/**
 * Who asks for a claim write (claims.ts): an authenticated caller owns what it creates and may
 * renew or release only that, an `admin` any claim. Without authentication (no TLS) no caller is
 * known, so any may act on any claim, as on everything else; the request's actor owns what it
 * creates.
 */
export function claimCallerOf(principal: Principal | undefined, actor: string): ClaimCaller {
  if (!principal) return { identity: actor, actsForAnyone: true };
  return { identity: principal.identity, actsForAnyone: principal.role === 'admin' };
}

/**
 * Validates a parsed policy document (JSON or YAML), naming the path of each problem:
 * `{ trust_domain?: string, bindings: [{ identity: string, role: agent|scheduler|auditor|admin }] }`.
 */
export function parsePolicy(document: unknown, source: string): AuthzPolicy {
  const problems: string[] = [];
  const problem = (path: string, text: string) => problems.push(`${path}: ${text}`);
  if (typeof document !== 'object' || document === null || Array.isArray(document)) {
    throw new Error(`${source}: the policy must be an object with "bindings"`);
  }
  const doc = document as Record<string, unknown>;
  for (const key of Object.keys(doc)) {
    if (key !== 'trust_domain' && key !== 'bindings') problem(key, 'unknown field (expected trust_domain, bindings)');
  }
  let trustDomain: string | undefined;
  if (doc.trust_domain !== undefined) {
    if (typeof doc.trust_domain !== 'string' || !IDENTITY_PART.test(doc.trust_domain)) problem('trust_domain', 'must be a domain name such as example.org');
    else trustDomain = doc.trust_domain;
  }
  const bindings: PolicyBinding[] = [];
  if (!Array.isArray(doc.bindings)) problem('bindings', 'required: a list of { identity, role }');
  else {
    doc.bindings.forEach((binding: unknown, index) => {
      const path = `bindings[${index}]`;
      if (typeof binding !== 'object' || binding === null) return problem(path, 'must be an object { identity, role }');
      const b = binding as Record<string, unknown>;
      for (const key of Object.keys(b)) if (key !== 'identity' && key !== 'role') problem(`${path}.${key}`, 'unknown field (expected identity, role)');
      if (typeof b.identity !== 'string' || !/^[A-Za-z0-9._:*-]+$/.test(b.identity)) {
        problem(`${path}.identity`, 'must be an identity such as agent:host-a, or a pattern such as agent:host-*');
      }
      if (!ROLES.includes(b.role as Role)) problem(`${path}.role`, `must be one of ${ROLES.join(', ')}`);
      if (typeof b.identity === 'string' && ROLES.includes(b.role as Role)) bindings.push({ identity: b.identity, role: b.role as Role });
    });
  }
  if (problems.length > 0) throw new Error(`${source}: invalid authorization policy: ${problems.join('; ')}`);
  return { trustDomain, bindings };
}
