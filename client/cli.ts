// `devcompat`: the command line for host agents, schedulers and operators.
// Exit codes: 0 compatible (with or without warnings) or success; 1 incompatible (check), no
// compatible target (find) or a broken history chain (audit verify); 2 error, printed as one
// line on stderr.
//
// This file builds the program: its global options, the output and error conventions, the
// exit code. The commands live in client/commands/, one file per command group (as etcdctl's
// ctlv3/command/), each exporting `register<Group>Commands(program, cli)` (see
// commands/context.ts for what `cli` offers). Adding a group is one import and one call in
// buildProgram below; the calls' order is the order `devcompat --help` lists the commands in.
// A group throws UsageError for bad input and lets client errors through: run() prints both
// as one line and exits 2.

import { Command, Option } from 'commander';
import { DevcompatClient, DevcompatError } from './client.ts';
import { printableOutput, protoJson } from './format.ts';
import { positiveInteger } from './commands/arguments.ts';
import { EXIT_ERROR, EXIT_OK, UsageError, type CommandContext, type GlobalOptions } from './commands/context.ts';
import { registerAuditCommands } from './commands/audit.ts';
import { registerCompatCommands } from './commands/compat.ts';
import { registerDevicesCommands } from './commands/devices.ts';
import { registerHistoryCommands } from './commands/history.ts';
import { registerHostsCommands } from './commands/hosts.ts';
import { registerSyncCommands } from './commands/sync.ts';
import { registerWatchCommands } from './commands/watch.ts';
import { registerAgentCommand } from '../agent/cli-command.ts';
import { registerPlacementCommands } from './commands/placement.ts';
import { registerStoreCommands } from './commands/store.ts';

export { EXIT_BROKEN, EXIT_ERROR, EXIT_INCOMPATIBLE, EXIT_OK } from './commands/context.ts';

export function buildProgram(io: {
  out: (text: string) => void;
  err: (text: string) => void;
  setExitCode: (code: number) => void;
}): Command {
  const program = new Command()
    .name('devcompat')
    .description('Ask the devcompat registry where a VM with assigned devices can be live-migrated.')
    .addOption(new Option('--address <host:port>', 'registry address').env('DEVCOMPAT_ADDRESS').default('127.0.0.1:50051'))
    .addOption(new Option('--json', 'JSON output (one object, or one object per line for streams and lists)').default(false))
    .addOption(new Option('--actor <name>', 'who is making changes, recorded in history').env('DEVCOMPAT_ACTOR'))
    .addOption(new Option('--reason <text>', 'why changes are made, recorded in history (printable ASCII)'))
    .addOption(new Option('--tls-ca <file>', 'TLS: CA bundle that signed the server certificate').env('DEVCOMPAT_CLIENT_TLS_CA'))
    .addOption(new Option('--tls-cert <file>', 'mutual TLS: this client certificate').env('DEVCOMPAT_CLIENT_TLS_CERT'))
    .addOption(new Option('--tls-key <file>', 'mutual TLS: the key of --tls-cert').env('DEVCOMPAT_CLIENT_TLS_KEY'))
    .addOption(new Option('--timeout <ms>', 'deadline of each call').argParser(positiveInteger).default(10_000))
    // Set before the subcommands are added: they copy these settings when created.
    .configureOutput({
      writeErr: (text) => io.err(text.trimEnd()),
      writeOut: (text) => io.out(text.trimEnd()),
      // Usage errors are one line too, like every other error.
      outputError: (text, write) => write(`devcompat: ${text.trim()} (see devcompat --help)\n`),
    })
    .exitOverride();

  const options = () => program.opts<GlobalOptions>();
  const client = () =>
    new DevcompatClient({
      address: options().address,
      actor: options().actor,
      reason: options().reason,
      deadlineMs: options().timeout,
      tls:
        options().tlsCa || options().tlsCert
          ? { caFile: options().tlsCa, certFile: options().tlsCert, keyFile: options().tlsKey }
          : undefined,
      retry: { maxAttempts: 3, initialBackoffMs: 200 },
    });
  const cli: CommandContext = {
    options,
    client,
    async withClient(use) {
      const c = client();
      try {
        return await use(c);
      } finally {
        c.close();
      }
    },
    json: () => options().json,
    out: io.out,
    err: io.err,
    print: (type, value) => io.out(JSON.stringify(protoJson(`devcompat.v1.${type}`, value), null, 2)),
    printLine: (type, value) => io.out(JSON.stringify(protoJson(`devcompat.v1.${type}`, value))),
    setExitCode: io.setExitCode,
    describeError: (error) => describeError(error, options().address),
  };

  registerSyncCommands(program, cli);
  registerCompatCommands(program, cli);
  registerHostsCommands(program, cli);
  registerDevicesCommands(program, cli);
  registerHistoryCommands(program, cli);
  registerWatchCommands(program, cli);
  registerAuditCommands(program, cli);
  registerPlacementCommands(program, cli);

  registerAgentCommand(program, io);
  registerStoreCommands(program, io);
  return program;
}

/** Runs the CLI; resolves with the exit code. */
export async function run(argv: string[], io = { out: (text: string) => console.log(text), err: (text: string) => console.error(text) }): Promise<number> {
  let exitCode = EXIT_OK;
  // Stored values and server messages may hold control characters: escaped before any output.
  const out = (text: string) => io.out(printableOutput(text));
  const err = (text: string) => io.err(printableOutput(text));
  const program = buildProgram({ out, err, setExitCode: (code) => (exitCode = code) });
  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (error) {
    const commanderError = error as { code?: string; exitCode?: number };
    // --help asked for help; a missing command shows help too, but as a usage error.
    if (commanderError.code === 'commander.helpDisplayed') return EXIT_OK;
    if (typeof commanderError.code === 'string' && commanderError.code.startsWith('commander.')) return EXIT_ERROR;
    err(`devcompat: ${describeError(error, program.opts<GlobalOptions>().address)}`);
    return EXIT_ERROR;
  }
}

function describeError(error: unknown, address: string): string {
  if (error instanceof UsageError) return `error: ${error.message}`;
  if (error instanceof DevcompatError) {
    if (error.codeName === 'UNAVAILABLE') {
      const cause = error.message.replace(/\s*Resolution note:\s*$/, '');
      return `UNAVAILABLE: cannot reach the registry at ${address}: ${cause}`;
    }
    if (error.codeName === 'DEADLINE_EXCEEDED') return `DEADLINE_EXCEEDED: the registry at ${address} did not answer in time`;
    return `${error.codeName}: ${error.message}`;
  }
  return `error: ${(error as Error)?.message ?? String(error)}`;
}
