// `devcompat sync`: what a host agent runs to register the full set of its host's devices,
// read from a devices.json file (the JSON form of SyncHostRequest), optionally only if the
// host is still at the revision the agent last saw.

import type { Command } from 'commander';
import type { SyncHostRequest } from '../types.ts';
import { hostName, readJsonFile, revision } from './arguments.ts';
import { UsageError, type CommandContext } from './context.ts';

export function registerSyncCommands(program: Command, cli: CommandContext): void {
  program
    .command('sync')
    .description('register the full set of a host\'s devices (devices.json: the JSON form of SyncHostRequest, see docs/api.md)')
    .argument('<host>', 'host id or hosts/{host}')
    .argument('<devices.json>', 'file with labels and devices')
    .option('--expected-revision <n>', 'fail unless the host is at this revision (0: must not exist)', revision)
    .action(async (host: string, file: string, options: { expectedRevision?: string }) => {
      const request = readJsonFile(file, 'devcompat.v1.SyncHostRequest') as unknown as SyncHostRequest;
      const name = hostName(host);
      if (request.name && hostName(request.name) !== name) {
        throw new UsageError(`${file} names ${hostName(request.name)} but the command names ${name}`);
      }
      if (options.expectedRevision !== undefined) request.expected_revision = options.expectedRevision;
      await cli.withClient(async (c) => {
        const response = await c.syncHost({ ...request, name, devices: request.devices ?? [] });
        if (cli.json()) return cli.print('SyncHostResponse', response);
        cli.out(
          response.changed
            ? `${name}: revision ${response.revision} (${response.devices_created} created, ${response.devices_updated} updated, ${response.devices_deleted} deleted)`
            : `${name}: unchanged at revision ${response.revision} (${response.host.device_count} devices)`,
        );
      });
    });
}
