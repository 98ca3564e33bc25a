// `devcompat devices list|get`: the registered devices, filtered, now or as they were at a
// past revision or time.

import type { Command } from 'commander';
import { deviceRows } from '../format.ts';
import { toProtoJson } from '../proto-json.ts';
import { asOfOf, asOfRevisionOption, asOfTimeOption, collect, labelsOf, minRevisionOption } from './arguments.ts';
import type { CommandContext } from './context.ts';

export function registerDevicesCommands(program: Command, cli: CommandContext): void {
  const devices = program.command('devices').description('list and show devices');
  devices
    .command('list')
    .option('--vendor <vendor>')
    .option('--device-api <api>')
    .option('--type <type>')
    .option('--host <host>')
    .option('--version-range <range>', 'software_version satisfies this semver range, e.g. ">=1.2.0 <2.0.0"')
    .option('--label <key=value>', 'device label (repeatable)', collect, [])
    .option('--host-label <key=value>', 'host label (repeatable)', collect, [])
    .addOption(asOfRevisionOption())
    .addOption(asOfTimeOption())
    .addOption(minRevisionOption())
    .action(async (options) => {
      const asOf = asOfOf(options);
      await cli.withClient(async (c) => {
        const all = [];
        const filter = {
          vendor: options.vendor,
          device_api: options.deviceApi,
          type: options.type,
          host: options.host,
          software_version_range: options.versionRange,
          labels: labelsOf(options.label, '--label'),
          host_labels: labelsOf(options.hostLabel, '--host-label'),
        };
        for await (const device of c.listDevices(filter, { ...asOf, minRevision: options.minRevision })) {
          if (cli.json()) cli.printLine('Device', device);
          else all.push(device);
        }
        if (!cli.json()) cli.out(deviceRows(all, cli.wide()));
      });
    });
  devices
    .command('get')
    .argument('<device>', 'hosts/{host}/devices/{device}')
    .addOption(asOfRevisionOption())
    .addOption(asOfTimeOption())
    .addOption(minRevisionOption())
    .action(async (name: string, options: { asOfRevision?: string; asOfTime?: string; minRevision?: string }) => {
      const asOf = asOfOf(options);
      await cli.withClient(async (c) => {
        const device = await c.getDevice(name, { ...asOf, minRevision: options.minRevision });
        if (cli.json()) cli.print('Device', device);
        else cli.out(`${deviceRows([device], cli.wide())}\n\n${JSON.stringify(toProtoJson('devcompat.v1.Descriptor', device.descriptor), null, 2)}`);
      });
    });
}
