// The one settings-file loader for every command that takes `--config` (`devcompat serve`, the
// agent, the client's global options): a YAML or JSON mapping whose keys name the command's
// flags (`lease_ttl: 1h` or `lease-ttl: 1h` for `--lease-ttl`). Precedence, highest first:
// flags, environment variables, the file, the defaults -- so a file value is applied only to an
// option commander set from its default or not at all. A value goes through the same parser
// and choices as the flag, so a file cannot hold what the flag would refuse; an unknown key, a
// bad value or an unreadable file is an error naming the file and the key.

import { readFileSync } from 'node:fs';
import type { Command, Option } from 'commander';
import { createRequire } from 'node:module';

export class ConfigFileError extends Error {}

/** Reads a settings file: a mapping (an empty file is an empty one); `known` lists its allowed keys. */
export function readConfigFile(file: string, known?: readonly string[]): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ConfigFileError(`${file}: ${code === 'ENOENT' ? 'no such file' : (error as Error).message}`);
  }
  let document: unknown;
  try {
    document = file.endsWith('.json') ? JSON.parse(text) : yaml().parse(text);
  } catch (error) {
    throw new ConfigFileError(`${file}: ${(error as Error).message.split('\n')[0]}`);
  }
  if (document === null || document === undefined) return {};
  if (typeof document !== 'object' || Array.isArray(document)) throw new ConfigFileError(`${file}: must be a mapping of settings`);
  if (known) {
    for (const key of Object.keys(document)) {
      if (!known.includes(key)) throw new ConfigFileError(`${file}: ${key}: unknown key (known: ${known.join(', ')})`);
    }
  }
  return document as Record<string, unknown>;
}

/** `leaseTtl` -> `lease_ttl`: an option's key in a settings file. */
export function configKey(option: Option): string {
  return option.attributeName().replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);
}

/**
 * Applies the file named by `command`'s `--config` (if any) to the command's other options
 * that neither a flag nor an environment variable set. Throws ConfigFileError.
 */
export function applyConfigFile(command: Command, configOption = 'config'): void {
  const file = command.getOptionValue(configOption) as string | undefined;
  if (!file) return;
  const options = command.options.filter((option) => option.attributeName() !== configOption);
  const byKey = new Map(options.map((option) => [configKey(option), option]));
  const document = readConfigFile(file, undefined);
  for (const [rawKey, value] of Object.entries(document)) {
    const key = rawKey.replaceAll('-', '_');
    const option = byKey.get(key);
    if (!option) throw new ConfigFileError(`${file}: ${rawKey}: unknown key (known: ${[...byKey.keys()].join(', ')})`);
    const attribute = option.attributeName();
    const source = command.getOptionValueSource(attribute);
    if (source === 'cli' || source === 'env') continue;
    command.setOptionValueWithSource(attribute, optionValue(file, rawKey, option, value, command.getOptionValue(attribute)), 'config');
  }
}

/** A file value as the flag would have given it: through the option's parser and choices. */
function optionValue(file: string, key: string, option: Option, value: unknown, current: unknown): unknown {
  const takesValue = option.required || option.optional;
  if (!takesValue) {
    if (typeof value !== 'boolean') throw new ConfigFileError(`${file}: ${key}: must be true or false`);
    return option.negate ? !value : value;
  }
  const values = option.variadic && Array.isArray(value) ? value : [value];
  let result: unknown = option.variadic ? undefined : current;
  for (const item of values) {
    if (typeof item !== 'string' && typeof item !== 'number' && typeof item !== 'boolean') {
      throw new ConfigFileError(`${file}: ${key}: must be a ${option.variadic ? 'list of values' : 'single value'}, as --${option.long?.replace(/^--/, '')} takes`);
    }
    const text = String(item);
    if (!option.parseArg) {
      result = option.variadic ? [...((result as unknown[]) ?? []), text] : text;
      continue;
    }
    try {
      // commander's parsers take the value before (for repeatable options); a default is not one.
      result = option.parseArg(text, (option.variadic ? result : undefined) as never);
    } catch (error) {
      throw new ConfigFileError(`${file}: ${key}: ${(error as Error).message}`);
    }
  }
  return result;
}

/** The YAML parser, loaded when a YAML file is read: most starts of the server have none (30 ms). */
function yaml(): typeof import('yaml') {
  return createRequire(import.meta.url)('yaml') as typeof import('yaml');
}
