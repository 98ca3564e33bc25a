// PlacementService handlers (proto/devcompat/v1/placement.proto): decode, validate, call the
// core, encode. FindPlacements is a server stream through `serverStream()` (the error
// boundary, tracking, backpressure); the claim RPCs are unary through `unary()`. Claims are
// decided in the core's write pipeline (claims-registry.ts); placements are computed by
// placement-finder.ts in one tick.

import type { Logger } from 'pino';
import type { AssignedPair, HostInstance } from '../core/assignment.ts';
import { parseClaimName, validateCreateClaim, validateTtl } from '../core/claims.ts';
import { claimCallerOf } from '../core/authz.ts';
import { principalOf } from './auth.ts';
import { Violations } from '../core/errors.ts';
import type { PartialHostPlacement, HostPlacement } from '../core/placement-rank.ts';
import { validateFindPlacements } from '../core/placement-request.ts';
import { hostState, type PlacementAnswer, type Registry } from '../core/registry.ts';
import { parseHostRef } from '../core/resources.ts';
import { claimMessage, resultMessage } from './convert.ts';
import { decodePageToken, encodePageToken, STRING_PAIR_CURSOR, originOf, pageSize, unary } from './common.ts';
import { serverStream, type StreamTracker } from './streams.ts';
import type { FindPlacementsRequest__Output } from '../../proto/generated/devcompat/v1/FindPlacementsRequest.ts';
import type { CreateClaimRequest__Output } from '../../proto/generated/devcompat/v1/CreateClaimRequest.ts';
import type { GetClaimRequest__Output } from '../../proto/generated/devcompat/v1/GetClaimRequest.ts';
import type { ListClaimsRequest__Output } from '../../proto/generated/devcompat/v1/ListClaimsRequest.ts';
import type { RenewClaimRequest__Output } from '../../proto/generated/devcompat/v1/RenewClaimRequest.ts';
import type { ReleaseClaimRequest__Output } from '../../proto/generated/devcompat/v1/ReleaseClaimRequest.ts';

const WORST_VERDICT = ['VERDICT_COMPATIBLE', 'VERDICT_COMPATIBLE_WITH_WARNINGS'];

export function placementHandlers(registry: Registry, streams: StreamTracker, log: Logger) {
  return {
    FindPlacements: serverStream(streams, log, (request: FindPlacementsRequest__Output) => {
      const query = validateFindPlacements(request, (ref, field) => {
        const resolved = registry.resolveCurrent(ref, field);
        return { descriptor: resolved.descriptor, name: resolved.device?.name ?? '' };
      });
      const answer = registry.findPlacements(query);
      return placementMessages(answer, query.requests.map((r) => ({ requestId: r.requestId, source: r.source.name })));
    }),

    CreateClaim: unary(log, async (request: CreateClaimRequest__Output, call) => {
      const origin = originOf(call);
      const spec = validateCreateClaim(request);
      const result = await registry.createClaim(spec, origin, claimCallerOf(principalOf(call), origin.actor));
      return { claim: claimMessage(result.claim), created: result.created, revision: String(result.revision), head_hash: result.headHash };
    }),

    GetClaim: unary(log, (request: GetClaimRequest__Output) => {
      const { hostId, claimId } = parseClaimName(request.name ?? '', 'name');
      return { claim: claimMessage(registry.getClaim(hostId, claimId)), revision: String(registry.revision) };
    }),

    ListClaims: unary(log, (request: ListClaimsRequest__Output) => {
      const parent = request.parent || 'hosts/-';
      const hostId = parent === 'hosts/-' ? undefined : parseHostRef(parent, 'parent');
      const claimId = request.claim_id || undefined;
      const limit = pageSize(request.page_size);
      const filter = { parent, claim_id: claimId ?? '' };
      const after = decodePageToken(request.page_token, filter, STRING_PAIR_CURSOR);
      const claims = registry.listClaims({ hostId, claimId, after: after && { hostId: after[0], claimId: after[1] }, limit: limit + 1 });
      const page = claims.slice(0, limit);
      const last = page.at(-1);
      return {
        claims: page.map(claimMessage),
        next_page_token: claims.length > limit && last ? encodePageToken(filter, [last.hostId, last.claimId]) : '',
        revision: String(registry.revision),
      };
    }),

    RenewClaim: unary(log, async (request: RenewClaimRequest__Output, call) => {
      const origin = originOf(call);
      const { hostId, claimId } = parseClaimName(request.name ?? '', 'name');
      const violations = new Violations();
      const ttlMs = validateTtl(request.ttl_ms, 'ttl_ms', violations);
      violations.throwIfAny();
      const result = await registry.renewClaim(hostId, claimId, ttlMs, origin, claimCallerOf(principalOf(call), origin.actor));
      return { claim: claimMessage(result.claim), revision: String(result.revision) };
    }),

    ReleaseClaim: unary(log, async (request: ReleaseClaimRequest__Output, call) => {
      const origin = originOf(call);
      const { hostId, claimId } = parseClaimName(request.name ?? '', 'name');
      const result = await registry.releaseClaim(hostId, claimId, origin, claimCallerOf(principalOf(call), origin.actor));
      return { claim: claimMessage(result.claim), revision: String(result.revision), head_hash: result.headHash };
    }),
  };
}


/** The stream: placements in rank order, then partial ones (with explain), then the summary. */
export function* placementMessages(answer: PlacementAnswer, requests: readonly { requestId: string; source: string }[]) {
  const revision = answer.revision;
  const pairsOf = (hostId: string, pairs: readonly AssignedPair[]) => {
    const instance = answer.instances.get(hostId) as HostInstance;
    return pairs.map((pair) => {
      const device = instance.devices[pair.device];
      const cached = answer.verdicts[pair.request].get(device.descriptorKey)!;
      return {
        request_id: requests[pair.request].requestId,
        unit: pair.unit,
        target: device.name,
        result: resultMessage(cached, revision, requests[pair.request].source, device.name),
        exact: pair.pairKey.exact,
      };
    });
  };
  const stateOf = (hostId: string) => `HOST_STATE_${hostState(answer.hosts.get(hostId)!.record)}`;
  let rank = 0;
  for (const placement of answer.placements as HostPlacement[]) {
    const { key } = placement.assignment;
    yield {
      placement: {
        host: `hosts/${placement.hostId}`,
        rank: ++rank,
        host_state: stateOf(placement.hostId),
        key: {
          worst_verdict: WORST_VERDICT[key.worstVerdict] ?? 'VERDICT_UNSPECIFIED',
          non_exact_pairs: key.nonExact,
          major_distance: key.distance[0],
          minor_distance: key.distance[1],
          patch_distance: key.distance[2],
          free_units_after: key.freeUnitsAfter,
        },
        pairs: pairsOf(placement.hostId, placement.assignment.pairs),
      },
    };
  }
  for (const partial of answer.partial as PartialHostPlacement[]) {
    yield {
      partial: {
        host: `hosts/${partial.hostId}`,
        host_state: stateOf(partial.hostId),
        pairs: pairsOf(partial.hostId, partial.assignment.pairs),
        missing: partial.missing.map((m) => ({
          request_id: m.requestId,
          needed: m.needed,
          placed: m.placed,
          reason: `PLACEMENT_MISSING_REASON_${m.reason}`,
          compatible_devices: m.compatibleDevices,
        })),
      },
    };
  }
  yield {
    summary: {
      revision: String(revision),
      hosts_examined: answer.hostsExamined,
      placements: answer.placementCount,
      partial: answer.partialCount,
      candidates: answer.candidates,
    },
  };
}
