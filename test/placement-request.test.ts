// Validation of a FindPlacements request (server/core/placement-request.ts): defaults, and one
// INVALID_ARGUMENT listing every bad field by path, sources' own violations included.

import test from 'ava';
import { DomainError, invalidArgument, notFound } from '../server/core/errors.ts';
import { PLACEMENT_LIMITS, validateFindPlacements, type PlacementSource } from '../server/core/placement-request.ts';
import { validateDescriptor } from '../server/core/validate.ts';

const VF = validateDescriptor({ vendor: '15b3', device_api: 'vfio-pci', type: 'mlx5_vfio_pci', software_version: '1.0.0' });

/** A stand-in for the registry's DeviceRef resolution: names starting `bad` are malformed. */
function resolve(ref: string | null | undefined, field: string): PlacementSource {
  if (!ref) throw invalidArgument([{ field, description: 'a source is required' }]);
  if (ref.startsWith('bad')) throw invalidArgument([{ field: `${field}.name`, description: 'not a device name' }]);
  if (ref === 'hosts/h/devices/gone') throw notFound(ref);
  return { descriptor: VF, name: ref };
}

test('defaults: count 1, limit and explain_limit 10, hosts filters off', (t) => {
  const query = validateFindPlacements({ devices: [{ request_id: 'nic', source: 'hosts/h/devices/vf0' }] }, resolve);
  t.deepEqual(query.requests.map((r) => [r.requestId, r.count, r.source.name]), [['nic', 1, 'hosts/h/devices/vf0']]);
  t.is(query.limit, PLACEMENT_LIMITS.defaultLimit);
  t.is(query.explainLimit, 10);
  t.false(query.explain || query.includeDrainingHosts || query.includeUnreachableHosts || query.includeSourceHosts);
});

test('every bad field is named, sources included; an unknown registered source stays NOT_FOUND', (t) => {
  const error = t.throws(() =>
    validateFindPlacements(
      {
        devices: [
          { request_id: 'gpu', source: 'hosts/h/devices/g', count: 17 },
          { request_id: 'gpu', source: 'bad-ref' },
          { request_id: 'Bad Id', source: null },
        ],
        exclude_hosts: ['hosts/Nope'],
        limit: 1001,
      },
      resolve,
    ),
  ) as DomainError;
  t.is(error.reason, 'INVALID_ARGUMENT');
  t.deepEqual(error.violations.map((v) => v.field), [
    'devices[0].count',
    'devices[1].request_id',
    'devices[1].source.name',
    'devices[2].request_id',
    'devices[2].source',
    'exclude_hosts[0]',
    'limit',
  ]);
  const missing = t.throws(() => validateFindPlacements({ devices: [{ request_id: 'nic', source: 'hosts/h/devices/gone' }] }, resolve)) as DomainError;
  t.is(missing.reason, 'NOT_FOUND');
  const tooMany = t.throws(() =>
    validateFindPlacements({ devices: Array.from({ length: 3 }, (_, i) => ({ request_id: `r${i}`, source: 'hosts/h/devices/v', count: 16 })) }, resolve),
  ) as DomainError;
  t.regex(tooMany.message, /at most 32 units over all requests, got 48/);
  const device = [{ request_id: 'gpu', source: 'hosts/h/devices/g' }];
  const hosts = Array.from({ length: 10_001 }, (_, i) => `hosts/h${i}`);
  const excluded = t.throws(() => validateFindPlacements({ devices: device, exclude_hosts: hosts }, resolve)) as DomainError;
  t.deepEqual(excluded.violations.map((v) => [v.field, v.description]), [['exclude_hosts', 'at most 10000 hosts, got 10001']]);
  t.is(validateFindPlacements({ devices: device, exclude_hosts: hosts.slice(1) }, resolve).excludeHosts.size, 10_000);
});
