// `devcompat check` and `devcompat find`: the compatibility questions a scheduler asks. Their
// exit codes answer too: check exits 1 when the target is incompatible, find when no target
// is compatible.

import type { Command } from 'commander';
import { FIND_HEADER, findRow, findSummary, formatResult, hostStateText } from '../format.ts';
import { asOfOf, asOfRevisionOption, asOfTimeOption, collect, deviceRef, hostName, labelsOf, minRevisionOption, positiveInteger, refLabel } from './arguments.ts';
import { EXIT_INCOMPATIBLE, EXIT_OK, type CommandContext } from './context.ts';

export function registerCompatCommands(program: Command, cli: CommandContext): void {
  registerCheck(program, cli);
  registerFind(program, cli);
}

function registerCheck(program: Command, cli: CommandContext): void {
  program
    .command('check')
    .description('may a VM using <source> be live-migrated onto <target>? (exit 0 yes, 1 no)')
    .argument('<source>', 'device name hosts/{host}/devices/{device}, or a descriptor JSON file')
    .argument('<target>', 'device name, or a descriptor JSON file')
    .addOption(asOfRevisionOption())
    .addOption(asOfTimeOption())
    .addOption(minRevisionOption())
    .action(async (sourceArg: string, targetArg: string, options: { asOfRevision?: string; asOfTime?: string; minRevision?: string }) => {
      const source = deviceRef(sourceArg);
      const target = deviceRef(targetArg);
      const asOf = asOfOf(options);
      await cli.withClient(async (c) => {
        // A registered target's host as it is now: a verdict towards a host that is not READY
        // (lease lapsed, draining) is no place to migrate to, whatever the devices say. A
        // point-in-time check is about the past: the host's state now is beside the point.
        const targetHost =
          typeof target === 'string' && asOf.asOfRevision === undefined && asOf.asOfTime === undefined
            ? c.getHost(hostName(target.split('/devices/')[0]), { minRevision: options.minRevision }).catch(() => undefined)
            : Promise.resolve(undefined);
        const [result, host] = await Promise.all([c.check(source, target, { ...asOf, minRevision: options.minRevision }), targetHost]);
        if (cli.json()) cli.print('CompatibilityResult', result);
        else {
          cli.out(formatResult(result, refLabel(sourceArg, source), refLabel(targetArg, target), host));
        }
        if (host && host.state !== 'HOST_STATE_READY') {
          cli.err(
            `devcompat: warning: the target's host ${host.name} is ${hostStateText(host)}` +
              (host.state === 'HOST_STATE_UNREACHABLE' ? ' (its lease lapsed: its agent is not keeping it alive)' : ' (an operator is emptying it)') +
              ': find leaves its devices out',
          );
        }
        cli.setExitCode(result.verdict === 'VERDICT_INCOMPATIBLE' ? EXIT_INCOMPATIBLE : EXIT_OK);
      });
    });
}

function registerFind(program: Command, cli: CommandContext): void {
  program
    .command('find')
    .description('stream the devices <source> may go to, best first (exit 0 if any, 1 if none)')
    .argument('<source>', 'device name, or a descriptor JSON file')
    .option('--explain', 'also stream the rejected candidates with their reasons (why-not)', false)
    .option('--limit <n>', 'compatible targets at most (default 100)', positiveInteger)
    .option('--rejected-limit <n>', 'rejected candidates at most with --explain (default 100)', positiveInteger)
    .option('--exclude-host <host>', 'leave out a host (repeatable)', collect, [])
    .option('--host-label <key=value>', 'only hosts with this label (repeatable)', collect, [])
    .option('--available', 'only targets with a free instance', false)
    .option('--include-source-host', "keep the source's own host", false)
    .option('--include-unreachable', 'keep the devices of hosts whose lease lapsed', false)
    .option('--include-draining', 'keep the devices of draining hosts', false)
    .addOption(asOfRevisionOption())
    .addOption(asOfTimeOption())
    .addOption(minRevisionOption())
    .action(async (sourceArg: string, options) => {
      const source = deviceRef(sourceArg);
      const asOf = asOfOf(options);
      await cli.withClient(async (c) => {
        let compatible = 0;
        let headerShown = false;
        let rejectedShown = false;
        const stream = c.findTargets(
          source,
          {
            excludeHosts: options.excludeHost,
            hostLabels: labelsOf(options.hostLabel, '--host-label'),
            requireAvailable: options.available,
            limit: options.limit,
            includeRejected: options.explain,
            rejectedLimit: options.rejectedLimit,
            includeSourceHost: options.includeSourceHost,
            includeUnreachableHosts: options.includeUnreachable,
            includeDrainingHosts: options.includeDraining,
            ...asOf,
            minRevision: options.minRevision,
            deadlineMs: cli.options().timeout,
          },
        );
        for await (const item of stream) {
          if ('target' in item && item.target.rank > 0) compatible++;
          if (cli.json()) {
            cli.printLine('FindTargetsResponse', item);
            continue;
          }
          if ('target' in item) {
            if (!headerShown) {
              cli.out(FIND_HEADER);
              headerShown = true;
            }
            if (item.target.rank === 0 && !rejectedShown) {
              cli.out('-- rejected candidates (why not) --');
              rejectedShown = true;
            }
            cli.out(findRow(item.target));
          } else {
            cli.out(findSummary(item.summary));
          }
        }
        cli.setExitCode(compatible > 0 ? EXIT_OK : EXIT_INCOMPATIBLE);
      });
    });
}
