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
import { printableJson, printableOutput } from './format.ts';
import { outputFormat, outputOption, renderItem, renderOne } from './output.ts';
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
import { registerBackupCommands } from './commands/backup.ts';
import { registerHealthCommands } from './commands/health.ts';
import { registerCompletionCommand } from './commands/completion.ts';
import { applyConfigFile } from './config-file.ts';
import { packageVersion } from './version.ts';

export { EXIT_BROKEN, EXIT_ERROR, EXIT_INCOMPATIBLE, EXIT_OK } from './commands/context.ts';

/** What `devcompat serve` shows in the command list when the server's module is not loaded. */
const SERVE_SUMMARY = 'run the registry server (its flags are its own: devcompat serve --help)';

export function buildProgram(
  io: {
    out: (text: string) => void;
    err: (text: string) => void;
    setExitCode: (code: number) => void;
  },
  server: { serveCommand?: () => Command } = {},
): Command {
  const program = new Command()
    .name('devcompat')
    .description('Ask the devcompat registry where a VM with assigned devices can be live-migrated.')
    .version(packageVersion(), '-V, --version', 'print the version')
    .addOption(new Option('--config <file>', 'settings file (YAML or JSON) for these global options, keys named as the flags (address: host:port); flags and environment win').env('DEVCOMPAT_CONFIG'))
    .addOption(new Option('--address <host:port>', 'registry address').env('DEVCOMPAT_ADDRESS').default('127.0.0.1:50051'))
    .addOption(new Option('--json', 'same as -o json').default(false))
    .addOption(outputOption())
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
      outputError: (text, write) => write(`devcompat: ${text.trim().replace(/\s*\n\s*/g, ' ')} (see devcompat --help)\n`),
    })
    .exitOverride()
    .hook('preAction', (_program, action) => {
      // The program reads its options anywhere on the line, so `devcompat agent --config f`
      // lands here: for the agent the file is the agent's own (agent/config.ts, same loader).
      const agent = action.name() === 'agent' ? action : action.parent?.name() === 'agent' ? action.parent : undefined;
      if (!agent) return applyConfigFile(program);
      if (program.getOptionValueSource('config') === 'cli') agent.setOptionValueWithSource('config', program.getOptionValue('config'), 'cli');
    });

  const options = () => program.opts<GlobalOptions>();
  const client = () =>
    new DevcompatClient({
      address: options().address,
      actor: options().actor,
      reason: options().reason,
      deadlineMs: options().timeout,
      // Any of the three turns TLS on: a key alone is refused ("--tls-cert and --tls-key go
      // together"), not dropped for a plaintext connection.
      tls:
        options().tlsCa || options().tlsCert || options().tlsKey
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
    output: () => outputFormat(options(), (message) => {
      throw new UsageError(message);
    }),
    json: () => cli.output() === 'json' || cli.output() === 'yaml',
    wide: () => cli.output() === 'wide',
    out: io.out,
    err: io.err,
    print: (type, value) => io.out(renderOne(cli.output() === 'yaml' ? 'yaml' : 'json', type, value)),
    printLine: (type, value) => io.out(renderItem(cli.output() === 'yaml' ? 'yaml' : 'json', type, value)),
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
  registerHealthCommands(program, cli);
  registerBackupCommands(program, cli);

  registerAgentCommand(program, io);
  registerStoreCommands(program, io);
  // The server's module is loaded only when `serve` runs (or its help, or completion): the
  // other commands do not pay for it. Its flags are its own, so when it runs the program's
  // options are read before `serve` only (positional options): `serve --address` is where it
  // listens, not the global --address where clients connect.
  if (server.serveCommand) program.addCommand(server.serveCommand());
  else program.command('serve').description(SERVE_SUMMARY);
  registerCompletionCommand(program, cli);
  // `-o json` is `--json` for the commands that read the flag itself (agent describe).
  program.hook('preAction', () => {
    if (options().output === 'json') program.setOptionValue('json', true);
  });
  return program;
}

/** The command a command line asks for (`serve` for `devcompat --json serve --db x`), if any. */
function commandOf(argv: string[]): string | undefined {
  const quiet = { out: () => {}, err: () => {}, setExitCode: () => {} };
  try {
    const { operands } = buildProgram(quiet).configureOutput({ writeErr: () => {}, writeOut: () => {} }).parseOptions(argv);
    return operands[0] === 'help' ? operands[1] : operands[0];
  } catch {
    return undefined;
  }
}

/** Runs the CLI; resolves with the exit code. */
export async function run(argv: string[], io = { out: (text: string) => console.log(text), err: (text: string) => console.error(text) }): Promise<number> {
  quietOnBrokenPipe();
  let exitCode = EXIT_OK;
  let program: Command | undefined;
  // Stored values and server messages may hold control characters: escaped before any output,
  // in JSON output as JSON escapes it (`\u007f`, not `\x7f`), so that it still parses. By the
  // time a command prints, the options are read (`-o json` has set `json`, the hook below).
  const jsonOutput = () => {
    const options = program?.opts<GlobalOptions>();
    return options?.json === true && (options.output === undefined || options.output === 'json');
  };
  const out = (text: string) => io.out(jsonOutput() ? printableJson(text) : printableOutput(text));
  const err = (text: string) => io.err(printableOutput(text));
  const command = commandOf(argv);
  // `serve`: the storage worker's thread boots while the server's modules load, as server/main.ts
  // does it (not for help: a word `help`, `-h` or `--help` anywhere only skips this head start).
  if (command === 'serve' && !argv.some((word) => word === 'help' || word === '-h' || word === '--help')) {
    (await import('../server/heap-settings.ts')).applyHeapSettings();
    (await import('../server/store/worker-store.ts')).startStorageWorkerEarly();
  }
  const server = command === 'serve' || command === 'completion' ? await import('../server/serve.ts') : undefined;
  program = buildProgram({ out, err, setExitCode: (code) => (exitCode = code) }, { serveCommand: server?.serveCommand });
  if (command === 'serve') program.enablePositionalOptions();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (error) {
    const commanderError = error as { code?: string; exitCode?: number };
    // --help asked for help; a missing command shows help too, but as a usage error.
    if (commanderError.code === 'commander.helpDisplayed' || commanderError.code === 'commander.version') return EXIT_OK;
    if (typeof commanderError.code === 'string' && commanderError.code.startsWith('commander.')) return EXIT_ERROR;
    err(`devcompat: ${describeError(error, program.opts<GlobalOptions>().address)}`);
    return EXIT_ERROR;
  }
}

let pipeWatched = false;

/**
 * `devcompat find ... | head -3`: once the reader is gone, the output has nowhere to go, and
 * the command exits 0 at once and quietly, as a program killed by SIGPIPE would (1 would mean
 * "incompatible"), instead of an EPIPE stack trace.
 */
function quietOnBrokenPipe(): void {
  if (pipeWatched) return;
  pipeWatched = true;
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EPIPE') process.exit(EXIT_OK);
      throw error;
    });
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
