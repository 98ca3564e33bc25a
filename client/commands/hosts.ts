// `devcompat hosts list|get|delete|drain|undrain`: what an operator does with whole hosts.

import type { Command } from 'commander';
import { hostRows } from '../format.ts';
import { collect, hostName, labelsOf, minRevisionOption, revision } from './arguments.ts';
import type { CommandContext } from './context.ts';

export function registerHostsCommands(program: Command, cli: CommandContext): void {
  const hosts = program.command('hosts').description('list, show, drain and delete hosts');
  hosts
    .command('list')
    .option('--label <key=value>', 'only hosts with this label (repeatable)', collect, [])
    .addOption(minRevisionOption())
    .action(async (options: { label: string[]; minRevision?: string }) => {
      await cli.withClient(async (c) => {
        const all = [];
        for await (const host of c.listHosts({ labels: labelsOf(options.label, '--label'), minRevision: options.minRevision })) {
          if (cli.json()) cli.printLine('Host', host);
          else all.push(host);
        }
        if (!cli.json()) cli.out(hostRows(all, cli.wide()));
      });
    });
  hosts
    .command('get')
    .argument('<host>')
    .addOption(minRevisionOption())
    .action(async (host: string, options: { minRevision?: string }) => {
      await cli.withClient(async (c) => {
        const found = await c.getHost(hostName(host), { minRevision: options.minRevision });
        if (cli.json()) cli.print('Host', found);
        else cli.out(hostRows([found], cli.wide()));
      });
    });
  hosts
    .command('delete')
    .argument('<host>')
    .option('--expected-revision <n>', 'fail unless the host is at this revision', revision)
    .action(async (host: string, options: { expectedRevision?: string }) => {
      await cli.withClient(async (c) => {
        const response = await c.deleteHost(hostName(host), { expectedRevision: options.expectedRevision });
        if (cli.json()) cli.print('DeleteHostResponse', response);
        else cli.out(`${hostName(host)} deleted at revision ${response.revision} (${response.devices_deleted} devices)`);
      });
    });

  const setDraining = (draining: boolean) => async (host: string) => {
    const name = hostName(host);
    await cli.withClient(async (c) => {
      const response = await c.setHostDraining(name, draining);
      if (cli.json()) return cli.print('SetHostDrainingResponse', response);
      const mark = draining ? 'draining' : 'not draining';
      cli.out(
        response.changed
          ? `${name}: ${mark} at revision ${response.revision}`
          : `${name}: already ${mark} (unchanged at revision ${response.revision})`,
      );
    });
  };
  hosts
    .command('drain')
    .description("stop offering the host's devices as targets (it stays listed); --reason records why")
    .argument('<host>')
    .action(setDraining(true));
  hosts
    .command('undrain')
    .description("offer the host's devices as targets again")
    .argument('<host>')
    .action(setDraining(false));
}
