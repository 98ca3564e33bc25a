// `devcompat place <vm.json>` and `devcompat claims create|get|list|release|renew`: what a
// scheduler runs to place a whole VM (vm.json is the JSON form of FindPlacementsRequest: the
// VM's device requests and the host filters) and to reserve the chosen units before it
// migrates (docs/api.md, "PlacementService").

import type { Command } from 'commander';
import type { Claim, FindPlacementsOptions, PlacementDevice } from '../client.ts';
import type { DescriptorInput as Descriptor } from '../types.ts';
import { collect, hostName, minRevisionOption, positiveInteger, readJsonFile } from './arguments.ts';
import { UsageError, type CommandContext } from './context.ts';

interface VmFile {
  devices?: { request_id?: string; count?: number; source?: { name?: string; descriptor?: Descriptor } }[];
  exclude_hosts?: string[];
  host_labels?: Record<string, string>;
  include_unreachable_hosts?: boolean;
  include_draining_hosts?: boolean;
  include_source_hosts?: boolean;
  limit?: number;
  explain?: boolean;
  min_revision?: string;
}

const short = (verdict: string | undefined) => (verdict ?? '').replace(/^VERDICT_/, '');

function claimLine(claim: Claim): string {
  const devices = claim.devices.map((d) => `${d.device.split('/devices/')[1]}:${d.remaining}/${d.count}`).join(',');
  const expires = claim.expire_time ? new Date(Math.floor(claim.expire_time.getTime() / 1000) * 1000).toISOString() : '-';
  const owner = claim.owner ? `  owner ${claim.owner}` : '';
  return `${claim.name}  ${claim.state.replace(/^CLAIM_STATE_/, '')}  ${devices}  expires ${expires}${owner}`;
}

/** `device` or `device=count` (a bare id or hosts/{host}/devices/{device}; ids never hold '='). */
function claimDevice(text: string): { device: string; count: number } {
  const at = text.lastIndexOf('=');
  if (at < 0) return { device: text, count: 1 };
  const count = Number(text.slice(at + 1));
  if (!Number.isSafeInteger(count) || count <= 0) throw new UsageError(`--device ${text}: the count after '=' must be a positive integer`);
  return { device: text.slice(0, at), count };
}

export function registerPlacementCommands(program: Command, cli: CommandContext): void {
  program
    .command('place')
    .description('hosts that can take every device of a VM at once, best first (vm.json: the JSON form of FindPlacementsRequest)')
    .argument('<vm.json>', 'the VM\'s device requests and host filters')
    .option('--limit <n>', 'placements to show (default 10)', positiveInteger)
    .option('--explain', 'also show hosts that could take some but not all devices, with what is missing')
    .addOption(minRevisionOption())
    .action(async (file: string, options: { limit?: number; explain?: boolean; minRevision?: string }) => {
      const vm = readJsonFile(file, 'devcompat.v1.FindPlacementsRequest') as unknown as VmFile;
      const requests = vm.devices;
      if (!requests || requests.length === 0) throw new UsageError(`${file} names no devices`);
      const devices: PlacementDevice[] = requests.map((d) => ({
        requestId: d.request_id ?? '',
        count: d.count || 1,
        source: d.source?.name ?? (d.source?.descriptor as Descriptor),
      }));
      const request: FindPlacementsOptions = {
        excludeHosts: vm.exclude_hosts,
        hostLabels: vm.host_labels,
        includeUnreachableHosts: vm.include_unreachable_hosts,
        includeDrainingHosts: vm.include_draining_hosts,
        includeSourceHosts: vm.include_source_hosts,
        limit: options.limit || vm.limit,
        explain: options.explain || vm.explain,
        minRevision: options.minRevision ?? (vm.min_revision && vm.min_revision !== '0' ? vm.min_revision : undefined),
      };
      await cli.withClient(async (c) => {
        for await (const item of c.findPlacements(devices, request)) {
          if (cli.json()) {
            cli.printLine('FindPlacementsResponse', item);
            continue;
          }
          if ('placement' in item) {
            const p = item.placement;
            const k = p.key!;
            cli.out(
              `${p.rank}  ${p.host}  ${p.host_state.replace(/^HOST_STATE_/, '')}  worst=${short(k.worst_verdict)} non-exact=${k.non_exact_pairs} ` +
                `distance=${k.major_distance}/${k.minor_distance}/${k.patch_distance} free-after=${k.free_units_after}`,
            );
            for (const pair of p.pairs) cli.out(`     ${pair.request_id}#${pair.unit} -> ${pair.target}  ${short(pair.result?.verdict)}${pair.exact ? ' exact' : ''}`);
          } else if ('partial' in item) {
            const p = item.partial;
            const missing = p.missing.map((m) => `${m.request_id} ${m.placed}/${m.needed} (${m.reason.replace(/^PLACEMENT_MISSING_REASON_/, '')})`);
            cli.out(`-  ${p.host}  partial: ${missing.join(', ')}`);
          } else {
            const s = item.summary;
            cli.out(`${s.placements} placement(s), ${s.partial} partial, ${s.hosts_examined} host(s) examined, ${s.candidates} candidate(s) at revision ${s.revision}`);
          }
        }
      });
    });

  const claims = program.command('claims').description('reserve capacity for a migration: create, get, list, release, renew');
  claims
    .command('create')
    .argument('<host>', 'host id or hosts/{host}')
    .argument('<claim-id>', 'the idempotency key, typically the migration\'s id')
    .requiredOption('--device <device[=count]>', 'a device of the host and how many units (repeatable)', collect, [])
    .option('--ttl <ms>', 'time to live in ms (default 300000, at most 3600000)', positiveInteger)
    .action(async (host: string, claimId: string, options: { device: string[]; ttl?: number }) => {
      await cli.withClient(async (c) => {
        const response = await c.claims.create(hostName(host), claimId, options.device.map(claimDevice), { ttlMs: options.ttl });
        if (cli.json()) return cli.print('CreateClaimResponse', response);
        cli.out(`${claimLine(response.claim)}${response.created ? '' : '  (existing: a retry)'}`);
      });
    });
  claims
    .command('get')
    .argument('<claim>', 'hosts/{host}/claims/{claim_id}')
    .addOption(minRevisionOption())
    .action(async (name: string, options: { minRevision?: string }) => {
      await cli.withClient(async (c) => {
        const claim = await c.claims.get(name, { minRevision: options.minRevision });
        if (cli.json()) cli.print('Claim', claim);
        else cli.out(claimLine(claim));
      });
    });
  claims
    .command('list')
    .option('--host <host>', 'only this host\'s claims')
    .option('--claim-id <id>', 'only claims with this id')
    .addOption(minRevisionOption())
    .action(async (options: { host?: string; claimId?: string; minRevision?: string }) => {
      await cli.withClient(async (c) => {
        const parent = options.host && hostName(options.host);
        for await (const claim of c.listClaims({ parent, claimId: options.claimId, minRevision: options.minRevision })) {
          if (cli.json()) cli.printLine('Claim', claim);
          else cli.out(claimLine(claim));
        }
      });
    });
  claims
    .command('release')
    .argument('<claim>', 'hosts/{host}/claims/{claim_id}')
    .action(async (name: string) => {
      await cli.withClient(async (c) => {
        const claim = await c.claims.release(name);
        if (cli.json()) cli.print('Claim', claim);
        else cli.out(claimLine(claim));
      });
    });
  claims
    .command('renew')
    .argument('<claim>', 'hosts/{host}/claims/{claim_id}')
    .option('--ttl <ms>', 'a new time to live in ms', positiveInteger)
    .action(async (name: string, options: { ttl?: number }) => {
      await cli.withClient(async (c) => {
        const claim = await c.claims.renew(name, { ttlMs: options.ttl });
        if (cli.json()) cli.print('Claim', claim);
        else cli.out(claimLine(claim));
      });
    });
}
