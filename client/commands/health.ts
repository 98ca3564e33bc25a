// `devcompat health`: the server's grpc.health.v1 status, for container HEALTHCHECKs and
// systemd. Exit 0 when SERVING; otherwise 1 with one line on stderr saying why (NOT_SERVING,
// an unknown service, no answer, unreachable). No retry: a probe reports what it saw.

import type { Command } from 'commander';
import { EXIT_OK, type CommandContext } from './context.ts';

export const EXIT_NOT_SERVING = 1;

export function registerHealthCommands(program: Command, cli: CommandContext): void {
  program
    .command('health')
    .description('check the server through grpc.health.v1 (exit 0 SERVING, 1 otherwise, with the reason)')
    .option('--service <name>', 'one service (e.g. devcompat.v1.RegistryService) instead of the whole server')
    .action(async (options: { service?: string }) => {
      const [{ checkHealth }, grpc, { tlsCredentials }] = await Promise.all([import('../health.ts'), import('@grpc/grpc-js'), import('../client.ts')]);
      const { address, tlsCa, tlsCert, tlsKey, timeout } = cli.options();
      const credentials = tlsCa || tlsCert || tlsKey ? tlsCredentials({ caFile: tlsCa, certFile: tlsCert, keyFile: tlsKey }) : grpc.credentials.createInsecure();
      const answer = await checkHealth(address, credentials, { service: options.service, deadlineMs: timeout });
      if (cli.json()) cli.out(JSON.stringify({ status: answer.status, ...(answer.serving ? {} : { reason: answer.reason }) }));
      else if (answer.serving) cli.out('SERVING');
      else cli.err(`devcompat: ${answer.status}: ${answer.reason}`);
      cli.setExitCode(answer.serving ? EXIT_OK : EXIT_NOT_SERVING);
    });
}
