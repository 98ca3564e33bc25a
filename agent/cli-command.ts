// `devcompat agent`: the host agent's command group, registered on the CLI's program.
//   devcompat agent --host <name> [--once] [--interval 30s] [--drain-on-exit] ...
//   devcompat agent describe [--sysfs-root DIR] [--profiles DIR] [--json]
// The registry address is the CLI's global --address / DEVCOMPAT_ADDRESS. Exit codes: 0 every
// assignable device described (and, with --once, synced), 1 some were skipped (or a profile did
// not load), 2 error.

import { Command, Option } from 'commander';
import type { AgentSettings, GivenSettings } from './config.ts';
import type { InventoryOptions } from './inventory.ts';
import { LOG_LEVELS } from './log-levels.ts';
import { applyBooleanEnvironment } from '../client/boolean-env.ts';

// The agent's modules are loaded when an agent command runs, so that the CLI's other commands
// do not pay for them at start-up.

interface Io {
  out(text: string): void;
  err(text: string): void;
  setExitCode(code: number): void;
}

const HOST_NAME = /^[a-z0-9]([a-z0-9._-]{0,251}[a-z0-9])?$/;

async function inventoryOptions(settings: AgentSettings): Promise<InventoryOptions> {
  const { replayCommands, runCommand } = await import('./commands.ts');
  return {
    sysfsRoot: settings.sysfsRoot,
    procRoot: settings.procRoot,
    profilesDir: settings.profilesDir,
    devicesDir: settings.devicesDir,
    runCommand: settings.replayCommands ? replayCommands(settings.replayCommands) : runCommand,
  };
}

async function settingsOf(command: Command): Promise<AgentSettings> {
  const { ConfigError, resolveSettings } = await import('./config.ts');
  try {
    applyBooleanEnvironment(command);
    return resolveSettings(command.opts<GivenSettings>());
  } catch (error) {
    if (error instanceof ConfigError) throw new Error(error.message);
    throw error;
  }
}

export function registerAgentCommand(program: Command, io: Io): void {
  const env = (option: Option, name: string) => option.env(`DEVCOMPAT_AGENT_${name}`);
  const agent = program
    .command('agent')
    .description('run the host agent: discover assignable devices in sysfs, describe them through vendor profiles, register and keep them (see docs/agent.md)')
    .addOption(env(new Option('--host <name>', 'the host to register (hosts/<name>)'), 'HOST'))
    .addOption(env(new Option('--config <file>', 'settings file (YAML or JSON); flags and environment win'), 'CONFIG'))
    .addOption(env(new Option('--interval <duration>', 'how often to look at the host (default 30s)'), 'INTERVAL'))
    .addOption(new Option('--once', 'describe and sync once, then exit'))
    .addOption(env(new Option('--drain-on-exit', 'on SIGTERM/SIGINT mark the host draining (cleared at the next start only if this agent set it)'), 'DRAIN_ON_EXIT'))
    .addOption(env(new Option('--sysfs-root <dir>', 'read this sysfs tree (default /sys)'), 'SYSFS_ROOT'))
    .addOption(env(new Option('--proc-root <dir>', 'read this proc tree (default: proc beside the sysfs root)'), 'PROC_ROOT'))
    .addOption(env(new Option('--profiles <dir>', 'your profiles; they override shipped ones of the same name'), 'PROFILES'))
    .addOption(env(new Option('--devices-dir <dir>', 'static descriptors, one JSON DeviceSpec per file (default /etc/devcompat/devices.d)'), 'DEVICES_DIR'))
    .addOption(new Option('--label <key=value>', 'host label (repeatable)').argParser((value: string, previous: string[] = []) => [...previous, value]))
    .addOption(env(new Option('--replay-commands <file>', "replay vendor commands' recorded output (commands.json of a recorded host) instead of running them"), 'REPLAY_COMMANDS'))
    .addOption(env(new Option('--log-level <level>', 'log level (JSON logs on stdout)').choices(LOG_LEVELS), 'LOG_LEVEL'))
    .action(async () => {
      const settings = await settingsOf(agent);
      const [{ default: pino }, { DevcompatClient }, { HostAgent }] = await Promise.all([import('pino'), import('../client/client.ts'), import('./loop.ts')]);
      if (!settings.host) throw new Error('--host (or DEVCOMPAT_AGENT_HOST, or host: in --config) is required');
      if (!HOST_NAME.test(settings.host)) throw new Error(`--host: "${settings.host}" is not a host id (lower-case letters, digits, ".", "_", "-")`);
      const globals = program.opts<{ address: string; actor?: string; timeout: number; tlsCa?: string; tlsCert?: string; tlsKey?: string }>();
      const address = program.getOptionValueSource('address') === 'default' && settings.address ? settings.address : globals.address;
      const actor = globals.actor ?? `agent@${settings.host}`;
      const log = pino({ level: settings.logLevel, base: { host: `hosts/${settings.host}` } }, pino.destination({ dest: 1, sync: true }));
      // The CLI's global TLS options (--tls-ca, --tls-cert, --tls-key, DEVCOMPAT_CLIENT_TLS_*):
      // under mutual TLS the agent is its certificate's identity (docs/security.md).
      const tls = globals.tlsCa || globals.tlsCert ? { caFile: globals.tlsCa, certFile: globals.tlsCert, keyFile: globals.tlsKey } : undefined;
      const client = new DevcompatClient({ address, actor, deadlineMs: globals.timeout, tls, retry: { maxAttempts: 4, initialBackoffMs: 200 } });
      const stop = new AbortController();
      const onSignal = (signal: NodeJS.Signals) => {
        log.info({ signal }, 'stopping');
        stop.abort();
      };
      process.once('SIGTERM', onSignal);
      process.once('SIGINT', onSignal);
      try {
        const hostAgent = new HostAgent({
          host: settings.host,
          intervalMs: settings.intervalMs,
          labels: settings.labels,
          drainOnExit: settings.drainOnExit,
          once: agent.opts().once === true,
          inventory: await inventoryOptions(settings),
          client,
          actor,
          mutualTls: Boolean(globals.tlsCert),
          log,
        });
        const outcome = await hostAgent.run(stop.signal);
        io.setExitCode(agent.opts().once === true ? outcome : 0);
      } finally {
        process.off('SIGTERM', onSignal);
        process.off('SIGINT', onSignal);
        client.close();
      }
    });

  agent
    .command('describe')
    .description('print what the agent would register, device by device, and why it skips the others (exit 0 all described, 1 some skipped, 2 error)')
    .action(async () => {
      const settings = await settingsOf(agent);
      const [{ takeInventory }, { describeJson, describeText }] = await Promise.all([import('./inventory.ts'), import('./describe-format.ts')]);
      const inventory = await takeInventory(await inventoryOptions(settings));
      if (program.opts<{ json: boolean }>().json) io.out(JSON.stringify(describeJson(settings.host, inventory), null, 2));
      else io.out(describeText(inventory));
      io.setExitCode(inventory.skipped.length > 0 || inventory.profileErrors.length > 0 ? 1 : 0);
    });
}
