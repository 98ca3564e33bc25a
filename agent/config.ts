// The agent's settings, from (highest first) its flags, environment variables
// (DEVCOMPAT_AGENT_*), a --config file (YAML or JSON) and the defaults. A config file with an
// unknown key or a bad value is refused, naming the file and the key.

import { ConfigFileError, readConfigFile } from '../client/config-file.ts';
import { DEFAULT_DEVICES_DIR } from './static-devices.ts';
import { LOG_LEVELS } from './log-levels.ts';

export interface AgentSettings {
  readonly host: string | undefined;
  readonly intervalMs: number;
  readonly sysfsRoot: string;
  readonly procRoot: string | undefined;
  readonly profilesDir: string | undefined;
  readonly devicesDir: string;
  readonly drainOnExit: boolean;
  readonly labels: Record<string, string>;
  readonly replayCommands: string | undefined;
  readonly logLevel: string;
  /** Only from the config file; the global --address / DEVCOMPAT_ADDRESS win. */
  readonly address: string | undefined;
}

export const DEFAULTS = {
  intervalMs: 30_000,
  sysfsRoot: '/sys',
  devicesDir: DEFAULT_DEVICES_DIR,
  logLevel: 'info',
};

export { ConfigFileError as ConfigError };

/**
 * `30s`, `500ms`, `2m`, `1h`. A bare number is refused: `interval: 30` meant 30 ms, a full look
 * at the host 33 times a second, to an operator who meant seconds.
 */
export function parseDuration(value: string | number, what: string): number {
  const text = String(value).trim();
  if (/^\d+$/.test(text)) throw new ConfigFileError(`${what}: "${value}" has no unit: write ${text}s, ${text}ms or ${text}m`);
  const match = /^(\d+)(ms|s|m|h)$/.exec(text);
  const ms = match ? Number(match[1]) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[match[2] as 'ms'] : Number.NaN;
  if (!Number.isSafeInteger(ms) || ms <= 0) throw new ConfigFileError(`${what}: "${value}" is not a duration (e.g. 30s, 500ms, 2m)`);
  return ms;
}


const FILE_KEYS = ['host', 'interval', 'sysfs_root', 'proc_root', 'profiles', 'devices_dir', 'drain_on_exit', 'labels', 'replay_commands', 'log_level', 'address'];

/** Reads a config file (through the CLI's one loader); every key is optional. */
export function readAgentConfigFile(file: string): Partial<Record<(typeof FILE_KEYS)[number], unknown>> {
  return readConfigFile(file, FILE_KEYS);
}

/** The flags and environment variables given (undefined when neither was). */
export interface GivenSettings {
  host?: string;
  interval?: string;
  sysfsRoot?: string;
  procRoot?: string;
  profiles?: string;
  devicesDir?: string;
  drainOnExit?: boolean;
  label?: string[];
  replayCommands?: string;
  logLevel?: string;
  config?: string;
}

function fileString(file: string, config: Record<string, unknown>, key: string): string | undefined {
  const value = config[key];
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value === '') throw new ConfigFileError(`${file}: ${key}: must be a non-empty string`);
  return value;
}

export function resolveSettings(given: GivenSettings): AgentSettings {
  const file = given.config;
  const config = file ? readAgentConfigFile(file) : {};
  const fromFile = (key: string) => (file ? fileString(file, config, key) : undefined);
  const labels: Record<string, string> = {};
  if (config.labels !== undefined) {
    if (typeof config.labels !== 'object' || config.labels === null || Array.isArray(config.labels)) throw new ConfigFileError(`${file}: labels: must be a mapping`);
    for (const [key, value] of Object.entries(config.labels)) {
      if (value === null || typeof value === 'object') throw new ConfigFileError(`${file}: labels.${key}: must be a string, a number or true/false, not a ${value === null ? 'null' : Array.isArray(value) ? 'list' : 'mapping'}`);
      labels[key] = String(value);
    }
  }
  for (const pair of given.label ?? []) {
    const at = pair.indexOf('=');
    if (at <= 0) throw new ConfigFileError(`--label takes key=value, got "${pair}"`);
    labels[pair.slice(0, at)] = pair.slice(at + 1);
  }
  if (config.drain_on_exit !== undefined && typeof config.drain_on_exit !== 'boolean') throw new ConfigFileError(`${file}: drain_on_exit: must be true or false`);
  const interval = given.interval ?? (config.interval as string | number | undefined);
  const fileLogLevel = fromFile('log_level');
  if (fileLogLevel !== undefined && !LOG_LEVELS.includes(fileLogLevel)) throw new ConfigFileError(`${file}: log_level: "${fileLogLevel}" is not one of ${LOG_LEVELS.join(', ')}`);
  return {
    host: given.host ?? fromFile('host'),
    intervalMs: interval === undefined ? DEFAULTS.intervalMs : parseDuration(interval, given.interval !== undefined ? '--interval' : `${file}: interval`),
    sysfsRoot: given.sysfsRoot ?? fromFile('sysfs_root') ?? DEFAULTS.sysfsRoot,
    procRoot: given.procRoot ?? fromFile('proc_root'),
    profilesDir: given.profiles ?? fromFile('profiles'),
    devicesDir: given.devicesDir ?? fromFile('devices_dir') ?? DEFAULTS.devicesDir,
    drainOnExit: given.drainOnExit ?? (config.drain_on_exit as boolean | undefined) ?? false,
    labels,
    replayCommands: given.replayCommands ?? fromFile('replay_commands'),
    logLevel: given.logLevel ?? fileLogLevel ?? DEFAULTS.logLevel,
    address: fromFile('address'),
  };
}
