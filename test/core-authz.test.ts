// Who may do what (server/core/authz.ts), pure: the identity read from a certificate's subject
// alternative names (SPIFFE URI first, else the first DNS name; malformed or foreign ones
// passed over), the host an identity may write, the policy document and each of its errors,
// the first binding that matches, and `decide` for every role and permission, with the exact
// reason a caller is refused. The same rules through a real TLS server: test/security-tls.test.ts.

import test from 'ava';
import {
  decide,
  EMPTY_POLICY,
  IdentityError,
  identityFromSubjectAltName,
  outsideValidity,
  parsePolicy,
  principalFor,
  ROLES,
  type AuthzPolicy,
  type Permission,
  type Principal,
  type Role,
} from '../server/core/authz.ts';

const ANY_DOMAIN: AuthzPolicy = { bindings: [] };
const EXAMPLE: AuthzPolicy = { trustDomain: 'example.org', bindings: [] };
const NONE_ANY = 'the client certificate names no spiffe://<domain>/<kind>/<name> URI nor DNS name';
const NONE_EXAMPLE = 'the client certificate names no spiffe://example.org/<kind>/<name> URI nor DNS name';

const PERMISSIONS: readonly Permission[] = ['read', 'check', 'claim', 'history', 'host-write', 'admin'];

/** The identity a SAN string gives, or the IdentityError's message. */
function identityOf(san: string | undefined, policy: AuthzPolicy = ANY_DOMAIN): { identity: string; host: string } | string {
  try {
    return identityFromSubjectAltName(san, policy);
  } catch (error) {
    if (error instanceof IdentityError) return error.message;
    throw error;
  }
}

test('a SPIFFE URI gives <kind>:<name>, and the host it may write is the name', (t) => {
  t.deepEqual(identityOf('URI:spiffe://example.org/agent/host-a'), { identity: 'agent:host-a', host: 'host-a' });
  t.deepEqual(identityOf('URI:spiffe://example.org/scheduler/nova'), { identity: 'scheduler:nova', host: 'nova' });
  t.deepEqual(identityOf('URI:spiffe://other.net/Agent/Node_7.rack-2'), { identity: 'Agent:Node_7.rack-2', host: 'Node_7.rack-2' });
  t.deepEqual(identityOf('URI:spiffe://example.org/agent/host-a', EXAMPLE), { identity: 'agent:host-a', host: 'host-a' });
});

test('a DNS name gives dns:<name>, and the host is its first label', (t) => {
  t.deepEqual(identityOf('DNS:host-a.agents.example.org'), { identity: 'dns:host-a.agents.example.org', host: 'host-a' });
  t.deepEqual(identityOf('DNS:nova'), { identity: 'dns:nova', host: 'nova' });
  // The trust domain concerns URIs only.
  t.deepEqual(identityOf('DNS:nova.example.com', EXAMPLE), { identity: 'dns:nova.example.com', host: 'nova' });
});

test('precedence: a usable SPIFFE URI wins wherever it stands; otherwise the first usable DNS name', (t) => {
  t.deepEqual(identityOf('DNS:dns-first.example.org, URI:spiffe://example.org/agent/uri-second'), { identity: 'agent:uri-second', host: 'uri-second' });
  t.deepEqual(identityOf('URI:spiffe://example.org/agent/one, URI:spiffe://example.org/agent/two'), { identity: 'agent:one', host: 'one' });
  t.deepEqual(identityOf('URI:spiffe://example.org/agent, URI:spiffe://example.org/agent/two'), { identity: 'agent:two', host: 'two' });
  t.deepEqual(identityOf('DNS:a.example.org,DNS:b.example.org'), { identity: 'dns:a.example.org', host: 'a' });
  t.deepEqual(identityOf('DNS:*.example.org, DNS:b.example.org'), { identity: 'dns:b.example.org', host: 'b' });
  // A URI from another trust domain is passed over for a DNS name.
  t.deepEqual(identityOf('URI:spiffe://other.org/agent/host-a, DNS:host-b.example.org', EXAMPLE), { identity: 'dns:host-b.example.org', host: 'host-b' });
  t.deepEqual(identityOf('URI:spiffe://other.org/agent/host-a, URI:spiffe://example.org/agent/host-c', EXAMPLE), { identity: 'agent:host-c', host: 'host-c' });
  // Names are separated by a comma, with or without spaces after it.
  t.deepEqual(identityOf('IP Address:127.0.0.1,  URI:spiffe://example.org/agent/h'), { identity: 'agent:h', host: 'h' });
});

test('malformed or foreign names are not identities: the error says what was expected', (t) => {
  for (const san of [
    undefined,
    '',
    'URI:https://example.org/agent/host-a',
    'URI:SPIFFE://example.org/agent/host-a',
    'spiffe://example.org/agent/host-a',
    'URI:spiffe://example.org/agent',
    'URI:spiffe://example.org/agent/host-a/extra',
    'URI:spiffe://example.org/agent/host-a/',
    'URI:spiffe://example.org//host-a',
    'URI:spiffe://example.org/agent/',
    'URI:spiffe://example.org/agent/host a',
    'URI:spiffe://example.org/agent/host%41',
    'URI:spiffe://example.org/agent:x/host-a',
    'URI:spiffe://example.org/agent/*',
    'DNS:',
    'DNS:*.example.org',
    'DNS:host_a example.org',
    'dns:host-a.example.org',
    'IP Address:10.0.0.1',
    'email:ops@example.org',
  ]) {
    t.is(identityOf(san), NONE_ANY, String(san));
  }
  t.true(t.throws(() => identityFromSubjectAltName(undefined, ANY_DOMAIN)) instanceof IdentityError);
  // With a trust domain, the error names it; a URI from any other domain is not read.
  for (const san of ['URI:spiffe://other.org/agent/host-a', 'URI:spiffe://example.org.evil.net/agent/host-a', 'URI:spiffe://sub.example.org/agent/host-a', '']) {
    t.is(identityOf(san, EXAMPLE), NONE_EXAMPLE, san);
  }
});

test('a quoted name (node writes a value with a comma, quote or backslash as a JSON string) is never an identity, nor split into more names', (t) => {
  // What node prints for a DNS name whose requester wrote entries into it: the commas escaped.
  t.deepEqual(identityOf('DNS:"a\\u002c URI:spiffe://example.org/admin/ops-x\\u002c b", URI:spiffe://example.org/agent/host-17', EXAMPLE), {
    identity: 'agent:host-17',
    host: 'host-17',
  });
  // The same with the commas as they are: what splitting at every comma got wrong.
  t.deepEqual(identityOf('DNS:"a, URI:spiffe://example.org/admin/ops-x, b", URI:spiffe://example.org/agent/host-17', EXAMPLE), {
    identity: 'agent:host-17',
    host: 'host-17',
  });
  t.deepEqual(identityOf('URI:"spiffe://example.org/admin/ops, x", DNS:nova.example.org'), { identity: 'dns:nova.example.org', host: 'nova' });
  t.is(identityOf('DNS:"nova\\"", URI:"spiffe://example.org/agent/h\\\\"'), NONE_ANY);
});

test("a SAN text not in node's form is refused as unreadable, whatever it seems to name", (t) => {
  for (const [san, why] of [
    ['DNS:"a, URI:spiffe://example.org/admin/ops', 'an unterminated quoted value at offset 4'],
    ['DNS:"a"b, URI:spiffe://example.org/agent/h', 'text after a quoted value at offset 7'],
    ['DNS:a"b, URI:spiffe://example.org/agent/h', 'a quote inside an unquoted value at offset 4'],
    ['URI:spiffe://example.org/agent/h, ', 'a separator with no entry after it'],
    ['nocolon, URI:spiffe://example.org/agent/h', 'an entry without a type at offset 0'],
  ]) {
    t.is(identityOf(san), `the client certificate's subject alternative names cannot be read: ${why}`, san);
  }
});

test('a certificate is valid from its notBefore to its notAfter, both included, as node prints them', (t) => {
  const from = 'Dec  3 13:52:18 2026 GMT';
  const to = 'Dec  3 13:53:21 2026 GMT';
  const at = (iso: string) => Date.parse(iso);
  t.is(outsideValidity(from, to, at('2026-12-03T13:52:18.000Z')), undefined);
  t.is(outsideValidity(from, to, at('2026-12-03T13:53:21.000Z')), undefined);
  t.is(outsideValidity(from, to, at('2026-12-03T13:53:21.001Z')), 'expired at 2026-12-03T13:53:21.000Z');
  t.is(outsideValidity(from, to, at('2026-12-03T13:52:17.999Z')), 'is not valid before 2026-12-03T13:52:18.000Z');
  t.is(outsideValidity('soon', to, at('2026-12-03T13:53:00.000Z')), `has validity dates that cannot be read (soon to ${to})`);
});

test('the first binding whose pattern matches gives the role; `*` stands for any run of characters, nothing else is special', (t) => {
  const policy: AuthzPolicy = {
    bindings: [
      { identity: 'agent:host-a', role: 'admin' },
      { identity: 'agent:host-*', role: 'agent' },
      { identity: '*:nova', role: 'scheduler' },
      { identity: 'dns:*.example.org', role: 'auditor' },
      { identity: 'x*y*z', role: 'auditor' },
    ],
  };
  const role = (identity: string) => principalFor({ identity, host: 'h' }, policy).role;
  t.is(role('agent:host-a'), 'admin', 'the first match, though the next matches too');
  t.is(role('agent:host-b'), 'agent');
  t.is(role('agent:host-'), 'agent', 'a star matches nothing too');
  t.is(role('agent:host-a.b-c'), 'agent');
  t.is(role('scheduler:nova'), 'scheduler');
  t.is(role(':nova'), 'scheduler');
  t.is(role('dns:a.b.example.org'), 'auditor');
  t.is(role('xyz'), 'auditor');
  t.is(role('x-1-y-2-z'), 'auditor');
  // Anchored at both ends, and a dot is a dot.
  for (const identity of ['agent:hostb', 'xagent:host-a', 'agent:host', 'scheduler:nova2', 'dns:example.org', 'dns:aXexample.org', 'dns:a.example.orgs', 'xy', 'xyzw']) {
    t.is(role(identity), undefined, identity);
  }
  t.is(principalFor({ identity: 'dns:aXexample.org', host: 'a' }, { bindings: [{ identity: 'dns:a.example.org', role: 'admin' }] }).role, undefined);
  // Regular-expression characters a pattern may hold are literal.
  t.is(principalFor({ identity: 'agent:a.b', host: 'a' }, { bindings: [{ identity: 'agent:a.b', role: 'agent' }] }).role, 'agent');
  t.is(principalFor({ identity: 'agent:aab', host: 'a' }, { bindings: [{ identity: 'agent:a.b', role: 'agent' }] }).role, undefined);
});

test('a principal keeps the identity and host it was given; no matching binding (or no policy) gives no role', (t) => {
  const policy: AuthzPolicy = { bindings: [{ identity: 'agent:*', role: 'agent' }] };
  t.deepEqual(principalFor({ identity: 'agent:host-a', host: 'host-a' }, policy), { identity: 'agent:host-a', host: 'host-a', role: 'agent' });
  t.deepEqual(principalFor({ identity: 'dns:host-a.example.org', host: 'host-a' }, policy), { identity: 'dns:host-a.example.org', host: 'host-a', role: undefined });
  t.deepEqual(principalFor({ identity: 'admin:ops', host: 'ops' }, EMPTY_POLICY), { identity: 'admin:ops', host: 'ops', role: undefined });
  t.deepEqual(EMPTY_POLICY, { bindings: [] });
});

test('decide: what each role may do, and the reason for every refusal', (t) => {
  const allowed: Record<Role, readonly Permission[]> = {
    agent: ['read', 'host-write'],
    scheduler: ['read', 'check', 'claim'],
    auditor: ['read', 'history'],
    admin: PERMISSIONS,
  };
  t.deepEqual([...ROLES], ['agent', 'scheduler', 'auditor', 'admin']);
  for (const role of ROLES) {
    const principal: Principal = { identity: `${role}:h1`, host: 'h1', role };
    for (const permission of PERMISSIONS) {
      const verdict = decide(principal, permission, 'devcompat.v1.Some/Method', permission === 'host-write' ? 'h1' : undefined);
      if (allowed[role].includes(permission)) t.is(verdict, undefined, `${role} ${permission}`);
      else t.is(verdict, `${role}:h1 may not call devcompat.v1.Some/Method: role ${role} does not allow it`, `${role} ${permission}`);
    }
  }
  const nobody: Principal = { identity: 'dns:stray.example.org', host: 'stray', role: undefined };
  for (const permission of PERMISSIONS) {
    t.is(
      decide(nobody, permission, 'ListDevices', 'stray'),
      'dns:stray.example.org may not call ListDevices: the authorization policy gives this identity no role',
      permission,
    );
  }
});

test('host-write: an agent writes its own host only; an admin any; a role without the permission is told so first', (t) => {
  const agent: Principal = { identity: 'agent:host-a', host: 'host-a', role: 'agent' };
  t.is(decide(agent, 'host-write', 'SyncHost', 'host-a'), undefined);
  t.is(decide(agent, 'host-write', 'SyncHost', 'host-b'), 'agent:host-a may not call SyncHost: role agent may write only hosts/host-a, not hosts/host-b');
  t.is(decide(agent, 'host-write', 'DeleteHost', 'host-a2'), 'agent:host-a may not call DeleteHost: role agent may write only hosts/host-a, not hosts/host-a2');
  t.is(decide(agent, 'host-write', 'KeepAlive', undefined), 'agent:host-a may not call KeepAlive: role agent may write only hosts/host-a, not hosts/');
  t.is(decide(agent, 'host-write', 'KeepAlive', ''), 'agent:host-a may not call KeepAlive: role agent may write only hosts/host-a, not hosts/');
  // Only host-write looks at the host.
  t.is(decide(agent, 'read', 'GetHost', 'host-b'), undefined);
  const dnsAgent: Principal = { identity: 'dns:host-c.agents.example.org', host: 'host-c', role: 'agent' };
  t.is(decide(dnsAgent, 'host-write', 'SyncHost', 'host-c'), undefined);
  t.is(decide(dnsAgent, 'host-write', 'SyncHost', 'host-c.agents.example.org'), 'dns:host-c.agents.example.org may not call SyncHost: role agent may write only hosts/host-c, not hosts/host-c.agents.example.org');
  const admin: Principal = { identity: 'admin:ops', host: 'ops', role: 'admin' };
  for (const host of ['ops', 'host-a', undefined]) t.is(decide(admin, 'host-write', 'SyncHost', host), undefined);
  const scheduler: Principal = { identity: 'scheduler:host-a', host: 'host-a', role: 'scheduler' };
  t.is(decide(scheduler, 'host-write', 'SyncHost', 'host-a'), 'scheduler:host-a may not call SyncHost: role scheduler does not allow it');
});

test('the policy: trust domain and bindings, in order', (t) => {
  const bindings = [
    { identity: 'agent:host-*', role: 'agent' },
    { identity: 'scheduler:nova', role: 'scheduler' },
    { identity: 'auditor:*', role: 'auditor' },
    { identity: 'dns:ops.example.org', role: 'admin' },
  ];
  const policy = parsePolicy({ trust_domain: 'example.org', bindings }, 'policy.yaml');
  t.deepEqual(policy, { trustDomain: 'example.org', bindings });
  t.deepEqual(parsePolicy({ bindings: [] }, 'p'), { trustDomain: undefined, bindings: [] });
  const parsed = parsePolicy({ trust_domain: 'example.org', bindings: [{ identity: 'agent:*', role: 'agent' }] }, 'p');
  t.deepEqual(principalFor(identityFromSubjectAltName('URI:spiffe://example.org/agent/h7', parsed), parsed), { identity: 'agent:h7', host: 'h7', role: 'agent' });
  t.is(identityOf('URI:spiffe://other.org/agent/h7', parsed), NONE_EXAMPLE);
});

test('the policy refused: not an object, or every problem listed with its path', (t) => {
  for (const document of [null, undefined, 'bindings', 7, [], [{ identity: 'agent:*', role: 'agent' }]]) {
    t.throws(() => parsePolicy(document, 'authz.json'), { message: 'authz.json: the policy must be an object with "bindings"' });
  }
  const refusal = (document: unknown) => {
    try {
      parsePolicy(document, 'authz.yaml');
    } catch (error) {
      return (error as Error).message;
    }
    throw new Error('parsePolicy accepted the document');
  };
  t.is(refusal({}), 'authz.yaml: invalid authorization policy: bindings: required: a list of { identity, role }');
  t.is(refusal({ bindings: { identity: 'agent:*', role: 'agent' } }), 'authz.yaml: invalid authorization policy: bindings: required: a list of { identity, role }');
  t.is(
    refusal({ trustDomain: 'example.org', bindings: [] }),
    'authz.yaml: invalid authorization policy: trustDomain: unknown field (expected trust_domain, bindings)',
  );
  for (const trust_domain of [null, 7, '', 'example org', 'spiffe://example.org', 'example.org/']) {
    t.is(refusal({ trust_domain, bindings: [] }), 'authz.yaml: invalid authorization policy: trust_domain: must be a domain name such as example.org', String(trust_domain));
  }
  t.is(
    refusal({
      extra: 1,
      trust_domain: 'bad domain',
      bindings: [
        { identity: 'agent:*', role: 'agent' },
        'admin:*',
        null,
        { identity: 'agent:host a', role: 'agent' },
        { identity: '', role: 'admin' },
        { role: 'admin' },
        { identity: 'ops', role: 'root' },
        { identity: 'ops', role: 'Admin' },
        { identity: 'ops', role: 'admin', note: 'x' },
        { identity: 7 },
      ],
    }),
    'authz.yaml: invalid authorization policy: ' +
      [
        'extra: unknown field (expected trust_domain, bindings)',
        'trust_domain: must be a domain name such as example.org',
        'bindings[1]: must be an object { identity, role }',
        'bindings[2]: must be an object { identity, role }',
        'bindings[3].identity: must be an identity such as agent:host-a, or a pattern such as agent:host-*',
        'bindings[4].identity: must be an identity such as agent:host-a, or a pattern such as agent:host-*',
        'bindings[5].identity: must be an identity such as agent:host-a, or a pattern such as agent:host-*',
        'bindings[6].role: must be one of agent, scheduler, auditor, admin',
        'bindings[7].role: must be one of agent, scheduler, auditor, admin',
        'bindings[8].note: unknown field (expected identity, role)',
        'bindings[9].identity: must be an identity such as agent:host-a, or a pattern such as agent:host-*',
        'bindings[9].role: must be one of agent, scheduler, auditor, admin',
      ].join('; '),
  );
  // Every identity character a pattern may use is accepted.
  t.deepEqual(parsePolicy({ bindings: [{ identity: 'A-z_0.9:*', role: 'auditor' }] }, 'p').bindings, [{ identity: 'A-z_0.9:*', role: 'auditor' }]);
});
