// `devcompat`: the command line for host agents, schedulers and operators.
// Exit codes: 0 compatible (with or without warnings) or success; 1 incompatible (check), no
// compatible target (find) or a broken history chain (audit verify); 2 error, printed as one
// line on stderr.

import { Command, InvalidArgumentError, Option } from 'commander';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { readMessageJson, JsonShapeError } from '../proto/strict-json.ts';
import { DevcompatClient, DevcompatError } from './client.ts';
import { registerAgentCommand } from '../agent/cli-command.ts';
import type { AsOf, Descriptor, DeviceRef, HistoryFilter, SyncHostRequest, WatchFilter } from './types.ts';
import {
  FIND_HEADER,
  HISTORY_HEADERS,
  WATCH_HEADER,
  compactLine,
  deviceRows,
  findRow,
  formatResult,
  historyRow,
  hostRows,
  protoJson,
  table,
  verifyLine,
  watchLine,
} from './format.ts';

export const EXIT_OK = 0;
export const EXIT_INCOMPATIBLE = 1;
export const EXIT_ERROR = 2;
/** `audit verify`: the history chain is broken. */
export const EXIT_BROKEN = 1;

class UsageError extends Error {}

interface GlobalOptions {
  address: string;
  json: boolean;
  actor?: string;
  reason?: string;
  timeout: number;
}

function positiveInteger(value: string): number {
  const number = Number(value);
  if (!Number.isSafeInteger(number) || number <= 0) throw new InvalidArgumentError('must be a positive integer');
  return number;
}

/** A revision: a whole number >= 0, passed on as a decimal string (int64 stays exact). */
function revision(value: string): string {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('must be a whole number (a revision)');
  return value;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function labelsOf(pairs: string[] | undefined, flag: string): Record<string, string> | undefined {
  if (!pairs || pairs.length === 0) return undefined;
  return Object.fromEntries(
    pairs.map((pair) => {
      const at = pair.indexOf('=');
      if (at <= 0) throw new UsageError(`${flag} takes key=value, got "${pair}"`);
      return [pair.slice(0, at), pair.slice(at + 1)];
    }),
  );
}

/** Reads a JSON file against a proto message, refusing unknown fields with their path. */
function readJsonFile(file: string, typeName: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new UsageError(`${file}: not valid JSON (${(error as Error).message})`);
  }
  try {
    return readMessageJson(typeName, parsed);
  } catch (error) {
    if (error instanceof JsonShapeError) throw new UsageError(`${file}: ${error.message}`);
    throw error;
  }
}

/** An argument naming an existing file is a descriptor JSON file; otherwise a device name. */
function deviceRef(argument: string): DeviceRef {
  if (existsSync(argument) && statSync(argument).isFile()) {
    return readJsonFile(argument, 'devcompat.v1.Descriptor') as unknown as Descriptor;
  }
  if (!argument.startsWith('hosts/')) {
    throw new UsageError(`"${argument}" is neither a file nor a device name (hosts/{host}/devices/{device})`);
  }
  return argument;
}

function refLabel(argument: string, ref: DeviceRef): string {
  return typeof ref === 'string' ? ref : `${argument} (inline)`;
}

function hostName(argument: string): string {
  return argument.startsWith('hosts/') ? argument : `hosts/${argument}`;
}

/** An ISO 8601 time given to `flag`. */
function isoTime(text: string | undefined, flag: string): Date | undefined {
  if (text === undefined) return undefined;
  const parsed = new Date(text);
  if (Number.isNaN(parsed.getTime())) throw new UsageError(`${flag} takes an ISO 8601 time, got "${text}"`);
  return parsed;
}

/** `--as-of-revision` / `--as-of-time`: a point-in-time read, at most one of the two. */
function asOfOf(options: { asOfRevision?: string; asOfTime?: string }): AsOf {
  if (options.asOfRevision !== undefined && options.asOfTime !== undefined) {
    throw new UsageError('give at most one of --as-of-revision and --as-of-time');
  }
  return { as_of_revision: options.asOfRevision, as_of_time: isoTime(options.asOfTime, '--as-of-time') };
}

const asOfRevisionOption = () =>
  new Option('--as-of-revision <n>', 'answer as the registry would have at this revision').argParser(revision);
const asOfTimeOption = () => new Option('--as-of-time <time>', 'answer as the registry would have at this time (ISO 8601)');

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
    .addOption(new Option('--timeout <ms>', 'deadline of each call').argParser(positiveInteger).default(10_000))
    // Set before the subcommands are added: they copy these settings when created.
    .configureOutput({
      writeErr: (text) => io.err(text.trimEnd()),
      writeOut: (text) => io.out(text.trimEnd()),
      // Usage errors are one line too, like every other error.
      outputError: (text, write) => write(`devcompat: ${text.trim()} (see devcompat --help)\n`),
    })
    .exitOverride();

  const client = () => {
    const options = program.opts<GlobalOptions>();
    return new DevcompatClient({
      address: options.address,
      actor: options.actor,
      reason: options.reason,
      deadlineMs: options.timeout,
      retry: { maxAttempts: 3, initialBackoffMs: 200 },
    });
  };
  const json = () => program.opts<GlobalOptions>().json;
  const print = (type: string, value: unknown) => io.out(JSON.stringify(protoJson(`devcompat.v1.${type}`, value), null, 2));
  const printLine = (type: string, value: unknown) => io.out(JSON.stringify(protoJson(`devcompat.v1.${type}`, value)));

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
      const c = client();
      try {
        const response = await c.syncHost({ ...request, name, devices: request.devices ?? [] });
        if (json()) return print('SyncHostResponse', response);
        io.out(
          response.changed
            ? `${name}: revision ${response.revision} (${response.devices_created} created, ${response.devices_updated} updated, ${response.devices_deleted} deleted)`
            : `${name}: unchanged at revision ${response.revision} (${response.host.device_count} devices)`,
        );
      } finally {
        c.close();
      }
    });

  program
    .command('check')
    .description('may a VM using <source> be live-migrated onto <target>? (exit 0 yes, 1 no)')
    .argument('<source>', 'device name hosts/{host}/devices/{device}, or a descriptor JSON file')
    .argument('<target>', 'device name, or a descriptor JSON file')
    .addOption(asOfRevisionOption())
    .addOption(asOfTimeOption())
    .action(async (sourceArg: string, targetArg: string, options: { asOfRevision?: string; asOfTime?: string }) => {
      const source = deviceRef(sourceArg);
      const target = deviceRef(targetArg);
      const asOf = asOfOf(options);
      const c = client();
      try {
        const result = await c.check(source, target, asOf);
        if (json()) print('CompatibilityResult', result);
        else io.out(formatResult(result, refLabel(sourceArg, source), refLabel(targetArg, target)));
        io.setExitCode(result.verdict === 'VERDICT_INCOMPATIBLE' ? EXIT_INCOMPATIBLE : EXIT_OK);
      } finally {
        c.close();
      }
    });

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
    .action(async (sourceArg: string, options) => {
      const source = deviceRef(sourceArg);
      const asOf = asOfOf(options);
      const c = client();
      let compatible = 0;
      let headerShown = false;
      let rejectedShown = false;
      try {
        const stream = c.findTargets(
          source,
          {
            exclude_hosts: options.excludeHost,
            host_labels: labelsOf(options.hostLabel, '--host-label'),
            require_available: options.available,
            limit: options.limit,
            include_rejected: options.explain,
            rejected_limit: options.rejectedLimit,
            include_source_host: options.includeSourceHost,
            include_unreachable_hosts: options.includeUnreachable,
            include_draining_hosts: options.includeDraining,
            ...asOf,
          },
          program.opts<GlobalOptions>().timeout,
        );
        for await (const item of stream) {
          if ('target' in item && item.target.rank > 0) compatible++;
          if (json()) {
            printLine('FindTargetsResponse', item);
            continue;
          }
          if ('target' in item) {
            if (!headerShown) {
              io.out(FIND_HEADER);
              headerShown = true;
            }
            if (item.target.rank === 0 && !rejectedShown) {
              io.out('-- rejected candidates (why not) --');
              rejectedShown = true;
            }
            io.out(findRow(item.target));
          } else {
            const s = item.summary;
            io.out(
              `${s.candidates} candidates (${s.distinct_descriptors} distinct descriptors): ${s.compatible} compatible, ${s.rejected} rejected, at revision ${s.revision}`,
            );
          }
        }
        io.setExitCode(compatible > 0 ? EXIT_OK : EXIT_INCOMPATIBLE);
      } finally {
        c.close();
      }
    });

  const hosts = program.command('hosts').description('list, show, drain and delete hosts');
  hosts
    .command('list')
    .option('--label <key=value>', 'only hosts with this label (repeatable)', collect, [])
    .action(async (options: { label: string[] }) => {
      const c = client();
      try {
        const all = [];
        for await (const host of c.listHosts({ labels: labelsOf(options.label, '--label') })) {
          if (json()) printLine('Host', host);
          else all.push(host);
        }
        if (!json()) io.out(hostRows(all));
      } finally {
        c.close();
      }
    });
  hosts
    .command('get')
    .argument('<host>')
    .action(async (host: string) => {
      const c = client();
      try {
        const found = await c.getHost(hostName(host));
        if (json()) print('Host', found);
        else io.out(hostRows([found]));
      } finally {
        c.close();
      }
    });
  hosts
    .command('delete')
    .argument('<host>')
    .option('--expected-revision <n>', 'fail unless the host is at this revision', revision)
    .action(async (host: string, options: { expectedRevision?: string }) => {
      const c = client();
      try {
        const response = await c.deleteHost(hostName(host), { expectedRevision: options.expectedRevision });
        if (json()) print('DeleteHostResponse', response);
        else io.out(`${hostName(host)} deleted at revision ${response.revision} (${response.devices_deleted} devices)`);
      } finally {
        c.close();
      }
    });

  const setDraining = (draining: boolean) => async (host: string) => {
    const name = hostName(host);
    const c = client();
    try {
      const response = await c.setHostDraining(name, draining);
      if (json()) return print('SetHostDrainingResponse', response);
      const mark = draining ? 'draining' : 'not draining';
      io.out(
        response.changed
          ? `${name}: ${mark} at revision ${response.revision}`
          : `${name}: already ${mark} (unchanged at revision ${response.revision})`,
      );
    } finally {
      c.close();
    }
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
    .action(async (options) => {
      const asOf = asOfOf(options);
      const c = client();
      try {
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
        for await (const device of c.listDevices(filter, asOf)) {
          if (json()) printLine('Device', device);
          else all.push(device);
        }
        if (!json()) io.out(deviceRows(all));
      } finally {
        c.close();
      }
    });
  devices
    .command('get')
    .argument('<device>', 'hosts/{host}/devices/{device}')
    .addOption(asOfRevisionOption())
    .addOption(asOfTimeOption())
    .action(async (name: string, options: { asOfRevision?: string; asOfTime?: string }) => {
      const asOf = asOfOf(options);
      const c = client();
      try {
        const device = await c.getDevice(name, asOf);
        if (json()) print('Device', device);
        else io.out(`${deviceRows([device])}\n\n${JSON.stringify(protoJson('devcompat.v1.Descriptor', device.descriptor), null, 2)}`);
      } finally {
        c.close();
      }
    });

  program
    .command('history')
    .description('who changed what, when, at which revision (newest first)')
    .argument('[resource]', 'hosts/{host} (with its devices) or hosts/{host}/devices/{device}; all when omitted')
    .option('--from-revision <n>', 'entries at or after this revision', revision)
    .option('--to-revision <n>', 'entries at or before this revision', revision)
    .option('--since <time>', 'entries at or after this time (ISO 8601)')
    .option('--until <time>', 'entries before this time (ISO 8601)')
    .option('--actor <actor>', 'entries by this actor')
    .option('--oldest-first', 'oldest first', false)
    .option('--limit <n>', 'entries at most', positiveInteger)
    .action(async (resource: string | undefined, options) => {
      // commander gives `--actor` to the program wherever it appears, so `history --actor bob`
      // sets the program's "who is making changes". history changes nothing: an --actor typed
      // on its command line is the filter. DEVCOMPAT_ACTOR names the caller, so it is not.
      const historyActor = (own: string | undefined) =>
        own ?? (program.getOptionValueSource('actor') === 'cli' ? program.opts<GlobalOptions>().actor : undefined);
      const filter: HistoryFilter = {
        resource: resource ? hostName(resource) : undefined,
        start_revision: options.fromRevision,
        end_revision: options.toRevision,
        start_time: isoTime(options.since, '--since'),
        end_time: isoTime(options.until, '--until'),
        actor: historyActor(options.actor),
        order: options.oldestFirst ? 'HISTORY_ORDER_OLDEST_FIRST' : 'HISTORY_ORDER_NEWEST_FIRST',
      };
      const c = client();
      try {
        const rows: string[][] = [];
        let count = 0;
        for await (const entry of c.history(filter)) {
          if (options.limit !== undefined && count >= options.limit) break;
          count++;
          if (json()) printLine('HistoryEntry', entry);
          else rows.push(historyRow(entry));
        }
        if (!json()) io.out(table(HISTORY_HEADERS, rows));
      } finally {
        c.close();
      }
    });

  program
    .command('watch')
    .description('print changes as they happen, one line per change, resuming by itself after interruptions (stop with Ctrl-C)')
    .option('--from <n>', 'start at this revision (inclusive) instead of now', revision)
    .option('--until <n>', 'exit once everything up to this revision has been printed', revision)
    .option('--host <host>', 'only this host and its devices')
    .option('--vendor <vendor>', 'only devices of this vendor (before or after the change)')
    .option('--device-api <api>', 'only devices with this device_api')
    .option('--type <type>', 'only devices of this type')
    .option('--progress-interval <ms>', 'after this long without changes, report the current revision (at least 100)', positiveInteger)
    .action(async (options) => {
      const filter: WatchFilter = {
        host: options.host ? hostName(options.host) : undefined,
        vendor: options.vendor,
        device_api: options.deviceApi,
        type: options.type,
      };
      const fromNow = options.from === undefined || BigInt(options.from) === 0n;
      const until = options.until === undefined ? undefined : BigInt(options.until);
      const stop = new AbortController();
      const onSignal = () => stop.abort();
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      const c = client();
      try {
        const messages = c.watch({
          startRevision: options.from,
          filter,
          progressIntervalMs: options.progressInterval,
          signal: stop.signal,
          // One line per outage, not one per reconnection attempt.
          onResume: (error, next, attempt) => {
            if (attempt !== 1) return;
            const why = describeError(error, program.opts<GlobalOptions>().address);
            io.err(`devcompat: watch interrupted (${why}); resuming at revision ${next ?? 'now'}`);
          },
        });
        for await (const message of messages) {
          if (json()) printLine('WatchResponse', message);
          else if (message.created) io.out(WATCH_HEADER);
          else if (message.progress) {
            if (options.progressInterval !== undefined) io.out(`-- at revision ${message.revision}, no change since --`);
          } else for (const event of message.events) io.out(watchLine(message.revision, event));
          // Everything up to this revision has been printed (for `created`, only in a watch from now).
          const upTo = message.created && !fromNow ? undefined : BigInt(message.revision);
          if (until !== undefined && upTo !== undefined && upTo >= until) break;
        }
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        c.close();
      }
    });

  const audit = program.command('audit').description("check and compact history's hash chain");
  audit
    .command('verify')
    .description('walk the history chain and report the first broken entry (exit 0 intact, 1 broken)')
    .option('--expect-head <hash>', 'also prove that history up to this head hash (kept from a write or a watch) is intact')
    .action(async (options: { expectHead?: string }) => {
      const c = client();
      try {
        const result = await c.verifyHistory({ expectedHead: options.expectHead, deadlineMs: program.opts<GlobalOptions>().timeout });
        if (json()) print('VerifyHistoryResponse', result);
        else io.out(verifyLine(result));
        io.setExitCode(result.intact ? EXIT_OK : EXIT_BROKEN);
      } finally {
        c.close();
      }
    });
  audit
    .command('compact')
    .description('remove history up to and including a revision, keeping a checkpoint of the chain (admin)')
    .requiredOption('--revision <n>', 'the last revision to remove', revision)
    .action(async (options: { revision: string }) => {
      const c = client();
      try {
        const result = await c.compactHistory(options.revision);
        if (json()) print('CompactHistoryResponse', result);
        else io.out(compactLine(result));
      } finally {
        c.close();
      }
    });

  registerAgentCommand(program, io);
  return program;
}

/** Runs the CLI; resolves with the exit code. */
export async function run(argv: string[], io = { out: (text: string) => console.log(text), err: (text: string) => console.error(text) }): Promise<number> {
  let exitCode = EXIT_OK;
  const program = buildProgram({ out: io.out, err: io.err, setExitCode: (code) => (exitCode = code) });
  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (error) {
    const commanderError = error as { code?: string; exitCode?: number };
    // --help asked for help; a missing command shows help too, but as a usage error.
    if (commanderError.code === 'commander.helpDisplayed') return EXIT_OK;
    if (typeof commanderError.code === 'string' && commanderError.code.startsWith('commander.')) return EXIT_ERROR;
    io.err(`devcompat: ${describeError(error, program.opts<GlobalOptions>().address)}`);
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
